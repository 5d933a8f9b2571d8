WITH custom AS (
  SELECT
    "property_id",
    "entity_id",
    MAX(CASE WHEN "key" = 'seniority' THEN "value_text" END) AS "custom.seniority",
    MAX(CASE WHEN "key" = 'languages' THEN "value_list" END) AS "custom.languages",
    MAX(CASE WHEN "key" = 'is_vip' THEN "value_boolean" END) AS "custom.is_vip",
    MAX(CASE WHEN "key" = 'nps' THEN "value_number" END) AS "custom.nps",
    MAX(CASE WHEN "key" = 'birthday' THEN "value_datetime" END) AS "custom.birthday"
  FROM attribute_values
  WHERE
    "entity" = 'person'
    AND "key" IN ('seniority', 'languages', 'is_vip', 'nps', 'birthday')
  GROUP BY
    "property_id",
    "entity_id"
), base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."person_id" AS "entity_id",
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
    NULLIF(
      REPLACE(
        REPLACE(
          LOWER(
            TRIM(
              "c"."custom.seniority",
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
    ) AS "custom.seniority",
    LIST_FILTER(
      LIST_TRANSFORM(
        "c"."custom.languages",
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
    ) AS "custom.languages",
    "c"."custom.is_vip" AS "custom.is_vip",
    NULLIF(CAST("c"."custom.nps" AS DOUBLE), CAST('NaN' AS DOUBLE)) AS "custom.nps",
    CAST("c"."custom.birthday" AS DATE) AS "custom.birthday"
  FROM people AS e
  LEFT JOIN custom AS c
    ON "e"."property_id" = "c"."property_id" AND "e"."person_id" = "c"."entity_id"
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE(NOT "primary_email" IS NULL, FALSE) AS "p1",
    COALESCE(NOT "primary_phone" IS NULL, FALSE) AS "p2",
    COALESCE(NOT "custom.seniority" IS NULL, FALSE) AS "p3",
    COALESCE(ARRAY_LENGTH("custom.languages") > 0, FALSE) AS "p4",
    COALESCE(NOT "custom.is_vip" IS NULL, FALSE) AS "p5",
    COALESCE(NOT "custom.nps" IS NULL, FALSE) AS "p6",
    COALESCE(NOT "custom.birthday" IS NULL, FALSE) AS "p7",
    COALESCE("custom.birthday" = CAST('1900-01-01' AS DATE), FALSE) AS "p8"
  FROM base
), wide AS (
  SELECT
    "property_id",
    "entity_id",
    (
      NOT "p1"
      OR NOT "p2"
      OR NOT "p3"
      OR NOT "p4"
      OR NOT "p5"
      OR NOT "p6"
      OR NOT "p7"
      OR "p8"
    ) AS "s1"
  FROM preds
)
SELECT
  "property_id",
  'incomplete-person-profiles' AS "segment_id",
  'person' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
