WITH custom AS (
  SELECT
    "property_id",
    "entity_id",
    MAX(CASE WHEN "key" = 'plan' THEN "value_text" END) AS "custom.plan",
    MAX(CASE WHEN "key" = 'is_customer' THEN "value_boolean" END) AS "custom.is_customer"
  FROM attribute_values
  WHERE
    "entity" = 'organization' AND "key" IN ('plan', 'is_customer')
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
              "c"."custom.plan",
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
    ) AS "custom.plan",
    "c"."custom.is_customer" AS "custom.is_customer"
  FROM organizations AS e
  LEFT JOIN custom AS c
    ON "e"."property_id" = "c"."property_id" AND "e"."org_id" = "c"."entity_id"
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE("property_id" IN ('site-fr'), FALSE) AS "p1",
    COALESCE("custom.plan" IN ('premium', 'business'), FALSE) AS "p2",
    COALESCE("custom.is_customer" = FALSE, FALSE) AS "p3"
  FROM base
), wide AS (
  SELECT
    "property_id",
    "entity_id",
    (
      "p1" AND (
        "p2" AND NOT "p3"
      )
    ) AS "s1"
  FROM preds
)
SELECT
  "property_id",
  'premium-plans-france' AS "segment_id",
  'organization' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
