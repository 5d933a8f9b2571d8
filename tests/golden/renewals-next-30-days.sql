WITH custom AS (
  SELECT
    "property_id",
    "entity_id",
    MAX(CASE WHEN "key" = 'is_customer' THEN "value_boolean" END) AS "custom.is_customer",
    MAX(CASE WHEN "key" = 'renewal_date' THEN "value_datetime" END) AS "custom.renewal_date"
  FROM attribute_values
  WHERE
    "entity" = 'organization' AND "key" IN ('is_customer', 'renewal_date')
  GROUP BY
    "property_id",
    "entity_id"
), base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."org_id" AS "entity_id",
    "c"."custom.is_customer" AS "custom.is_customer",
    CAST("c"."custom.renewal_date" AS DATE) AS "custom.renewal_date"
  FROM organizations AS e
  LEFT JOIN custom AS c
    ON "e"."property_id" = "c"."property_id" AND "e"."org_id" = "c"."entity_id"
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE("custom.is_customer" = TRUE, FALSE) AS "p1",
    COALESCE(
      "custom.renewal_date" >= CAST('2026-11-21' AS DATE)
      AND "custom.renewal_date" <= CAST('2026-12-20' AS DATE),
      FALSE
    ) AS "p2"
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
  'renewals-next-30-days' AS "segment_id",
  'organization' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
