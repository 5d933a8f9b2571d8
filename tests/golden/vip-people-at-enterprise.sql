WITH custom AS (
  SELECT
    "property_id",
    "entity_id",
    MAX(CASE WHEN "key" = 'is_vip' THEN "value_boolean" END) AS "custom.is_vip"
  FROM attribute_values
  WHERE
    "entity" = 'person' AND "key" IN ('is_vip')
  GROUP BY
    "property_id",
    "entity_id"
), r1_base AS (
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
    ) AS "tags"
  FROM organizations AS e
), r1_preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE(ARRAY_CONTAINS("tags", 'enterprise'), FALSE) AS "p1"
  FROM r1_base
), r1_wide AS (
  SELECT
    "property_id",
    "entity_id",
    "p1" AS "match"
  FROM r1_preds
), related1 AS (
  SELECT
    "l"."property_id" AS "property_id",
    "l"."person_id" AS "entity_id",
    COUNT(DISTINCT "l"."org_id") AS "n"
  FROM organization_people AS l
  JOIN r1_wide AS f
    ON "l"."property_id" = "f"."property_id" AND "l"."org_id" = "f"."entity_id"
  WHERE
    "f"."match"
  GROUP BY
    "l"."property_id",
    "l"."person_id"
), base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."person_id" AS "entity_id",
    COALESCE("rel1"."n", 0) AS "rel1",
    "c"."custom.is_vip" AS "custom.is_vip"
  FROM people AS e
  LEFT JOIN custom AS c
    ON "e"."property_id" = "c"."property_id" AND "e"."person_id" = "c"."entity_id"
  LEFT JOIN related1 AS rel1
    ON "e"."property_id" = "rel1"."property_id" AND "e"."person_id" = "rel1"."entity_id"
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE("custom.is_vip" = TRUE, FALSE) AS "p1",
    COALESCE("rel1" >= 1.0, FALSE) AS "p2"
  FROM base
), wide AS (
  SELECT
    "property_id",
    "entity_id",
    (
      "p1" AND "p2"
    ) AS "s1"
  FROM preds
)
SELECT
  "property_id",
  'vip-people-at-enterprise' AS "segment_id",
  'person' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
