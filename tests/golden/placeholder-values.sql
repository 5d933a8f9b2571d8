WITH custom AS (
  SELECT
    "property_id",
    "entity_id",
    MAX(CASE WHEN "key" = 'employees' THEN "value_number" END) AS "custom.employees",
    MAX(CASE WHEN "key" = 'arr' THEN "value_number" END) AS "custom.arr",
    MAX(CASE WHEN "key" = 'regions' THEN "value_list" END) AS "custom.regions",
    MAX(CASE WHEN "key" = 'renewal_date' THEN "value_datetime" END) AS "custom.renewal_date"
  FROM attribute_values
  WHERE
    "entity" = 'organization'
    AND "key" IN ('employees', 'arr', 'regions', 'renewal_date')
  GROUP BY
    "property_id",
    "entity_id"
), base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."org_id" AS "entity_id",
    NULLIF(
      REPLACE(
        REPLACE(
          LOWER(
            TRIM(
              "e"."name",
              CHR(9) || CHR(10) || CHR(11) || CHR(12) || CHR(13) || ' ' || CHR(133) || CHR(160) || CHR(5760) || CHR(8192) || CHR(8193) || CHR(8194) || CHR(8195) || CHR(8196) || CHR(8197) || CHR(8198) || CHR(8199) || CHR(8200) || CHR(8201) || CHR(8202) || CHR(8232) || CHR(8233) || CHR(8239) || CHR(8287) || CHR(12288)
            )
          ),
          'i' || CHR(775),
          'i'
        ),
        CHR(962),
        CHR(963)
      ),
      ''
    ) AS "name",
    NULLIF(
      REPLACE(
        REPLACE(
          LOWER(
            TRIM(
              "e"."primary_email",
              CHR(9) || CHR(10) || CHR(11) || CHR(12) || CHR(13) || ' ' || CHR(133) || CHR(160) || CHR(5760) || CHR(8192) || CHR(8193) || CHR(8194) || CHR(8195) || CHR(8196) || CHR(8197) || CHR(8198) || CHR(8199) || CHR(8200) || CHR(8201) || CHR(8202) || CHR(8232) || CHR(8233) || CHR(8239) || CHR(8287) || CHR(12288)
            )
          ),
          'i' || CHR(775),
          'i'
        ),
        CHR(962),
        CHR(963)
      ),
      ''
    ) AS "primary_email",
    NULLIF(REGEXP_REPLACE("e"."primary_phone", '[^0-9]', '', 'g'), '') AS "primary_phone",
    NULLIF(CAST("c"."custom.employees" AS DOUBLE), CAST('NaN' AS DOUBLE)) AS "custom.employees",
    NULLIF(CAST("c"."custom.arr" AS DOUBLE), CAST('NaN' AS DOUBLE)) AS "custom.arr",
    LIST_FILTER(
      LIST_TRANSFORM(
        "c"."custom.regions",
        LAMBDA x : NULLIF(
          REPLACE(
            REPLACE(
              LOWER(
                TRIM(
                  x,
                  CHR(9) || CHR(10) || CHR(11) || CHR(12) || CHR(13) || ' ' || CHR(133) || CHR(160) || CHR(5760) || CHR(8192) || CHR(8193) || CHR(8194) || CHR(8195) || CHR(8196) || CHR(8197) || CHR(8198) || CHR(8199) || CHR(8200) || CHR(8201) || CHR(8202) || CHR(8232) || CHR(8233) || CHR(8239) || CHR(8287) || CHR(12288)
                )
              ),
              'i' || CHR(775),
              'i'
            ),
            CHR(962),
            CHR(963)
          ),
          ''
        )
      ),
      LAMBDA x : NOT x IS NULL
    ) AS "custom.regions",
    "e"."created_at" AS "created_at",
    CAST("c"."custom.renewal_date" AS DATE) AS "custom.renewal_date"
  FROM organizations AS e
  LEFT JOIN custom AS c
    ON "e"."property_id" = "c"."property_id" AND "e"."org_id" = "c"."entity_id"
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE("name" IN ('test', 'demo', 'n/a', '-'), FALSE) AS "p1",
    COALESCE(STARTS_WITH("name", 'test_'), FALSE) AS "p2",
    COALESCE(ENDS_WITH("primary_email", '@example.com'), FALSE) AS "p3",
    COALESCE("primary_phone" = '0000000000', FALSE) AS "p4",
    COALESCE("primary_phone" IN ('15550100', '15550199'), FALSE) AS "p5",
    COALESCE(CONTAINS("primary_phone", '55501'), FALSE) AS "p6",
    COALESCE(ENDS_WITH("primary_phone", '000000'), FALSE) AS "p7",
    COALESCE("custom.employees" = 0.0, FALSE) AS "p8",
    COALESCE("custom.arr" < 0.0, FALSE) AS "p9",
    COALESCE(ARRAY_CONTAINS("custom.regions", 'n/a'), FALSE) AS "p10",
    COALESCE(
      "created_at" >= CAST('1969-12-31 23:00:00+00:00' AS TIMESTAMPTZ)
      AND "created_at" < CAST('1970-01-01 23:00:00+00:00' AS TIMESTAMPTZ),
      FALSE
    ) AS "p11",
    COALESCE("custom.renewal_date" <= CAST('1999-12-31' AS DATE), FALSE) AS "p12"
  FROM base
), wide AS (
  SELECT
    "property_id",
    "entity_id",
    (
      "p1"
      OR "p2"
      OR "p3"
      OR "p4"
      OR "p5"
      OR "p6"
      OR "p7"
      OR "p8"
      OR "p9"
      OR "p10"
      OR "p11"
      OR "p12"
    ) AS "s1"
  FROM preds
)
SELECT
  "property_id",
  'placeholder-values' AS "segment_id",
  'organization' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
