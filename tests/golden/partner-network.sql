WITH custom AS (
  SELECT
    "property_id",
    "entity_id",
    MAX(CASE WHEN "key" = 'regions' THEN "value_list" END) AS "custom.regions"
  FROM attribute_values
  WHERE
    "entity" = 'organization' AND "key" IN ('regions')
  GROUP BY
    "property_id",
    "entity_id"
), base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."org_id" AS "entity_id",
    LIST_FILTER(
      LIST_TRANSFORM(
        "e"."tags",
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
    ) AS "tags",
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
    ) AS "custom.regions"
  FROM organizations AS e
  LEFT JOIN custom AS c
    ON "e"."property_id" = "c"."property_id" AND "e"."org_id" = "c"."entity_id"
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE(ARRAY_CONTAINS("tags", 'partner') OR ARRAY_CONTAINS("tags", 'reseller'), FALSE) AS "p1",
    COALESCE(ARRAY_LENGTH(LIST_FILTER("tags", LAMBDA x : CONTAINS(x, 'churn'))) > 0, FALSE) AS "p2",
    COALESCE(ARRAY_LENGTH("custom.regions") > 0, FALSE) AS "p3",
    COALESCE(
      ARRAY_CONTAINS("custom.regions", 'na')
      OR ARRAY_CONTAINS("custom.regions", 'latam'),
      FALSE
    ) AS "p4"
  FROM base
), wide AS (
  SELECT
    "property_id",
    "entity_id",
    (
      "p1" AND NOT "p2" AND "p3" AND NOT "p4"
    ) AS "s1"
  FROM preds
)
SELECT
  "property_id",
  'partner-network' AS "segment_id",
  'organization' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
