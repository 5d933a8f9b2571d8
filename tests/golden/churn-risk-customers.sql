WITH custom AS (
  SELECT
    "property_id",
    "entity_id",
    MAX(CASE WHEN "key" = 'is_customer' THEN "value_boolean" END) AS "custom.is_customer",
    MAX(CASE WHEN "key" = 'last_seen_at' THEN "value_datetime" END) AS "custom.last_seen_at",
    MAX(CASE WHEN "key" = 'plan' THEN "value_text" END) AS "custom.plan"
  FROM attribute_values
  WHERE
    "entity" = 'organization' AND "key" IN ('is_customer', 'last_seen_at', 'plan')
  GROUP BY
    "property_id",
    "entity_id"
), base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."org_id" AS "entity_id",
    "c"."custom.is_customer" AS "custom.is_customer",
    NULLIF(REGEXP_REPLACE("e"."primary_phone", '[^0-9]', '', 'g'), '') AS "primary_phone",
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
    "c"."custom.last_seen_at" AS "custom.last_seen_at",
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
    ) AS "custom.plan"
  FROM organizations AS e
  LEFT JOIN custom AS c
    ON "e"."property_id" = "c"."property_id" AND "e"."org_id" = "c"."entity_id"
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE("custom.is_customer" = TRUE, FALSE) AS "p1",
    COALESCE(NOT "primary_phone" IS NULL, FALSE) AS "p2",
    COALESCE(ARRAY_CONTAINS("tags", 'churn-risk'), FALSE) AS "p3",
    COALESCE("custom.last_seen_at" < CAST('2026-09-21 11:00:00+00:00' AS TIMESTAMPTZ), FALSE) AS "p4",
    COALESCE(NOT "custom.last_seen_at" IS NULL, FALSE) AS "p5",
    COALESCE("custom.plan" = 'free', FALSE) AS "p6"
  FROM base
), wide AS (
  SELECT
    "property_id",
    "entity_id",
    (
      "p1" AND "p2" AND (
        "p3" OR "p4" OR NOT "p5"
      ) AND NOT (
        "p6"
      )
    ) AS "s1"
  FROM preds
)
SELECT
  "property_id",
  'churn-risk-customers' AS "segment_id",
  'organization' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
