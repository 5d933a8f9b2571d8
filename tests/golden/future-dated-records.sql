WITH custom AS (
  SELECT
    "property_id",
    "entity_id",
    MAX(CASE WHEN "key" = 'last_seen_at' THEN "value_datetime" END) AS "custom.last_seen_at"
  FROM attribute_values
  WHERE
    "entity" = 'organization' AND "key" IN ('last_seen_at')
  GROUP BY
    "property_id",
    "entity_id"
), base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."org_id" AS "entity_id",
    "e"."created_at" AS "created_at",
    "e"."updated_at" AS "updated_at",
    "c"."custom.last_seen_at" AS "custom.last_seen_at"
  FROM organizations AS e
  LEFT JOIN custom AS c
    ON "e"."property_id" = "c"."property_id" AND "e"."org_id" = "c"."entity_id"
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE(
      "created_at" >= CAST('2026-11-20 12:00:00+00:00' AS TIMESTAMPTZ)
      AND "created_at" <= CAST('2036-11-07 12:00:00+00:00' AS TIMESTAMPTZ),
      FALSE
    ) AS "p1",
    COALESCE(
      "updated_at" >= CAST('2026-11-20 12:00:00+00:00' AS TIMESTAMPTZ)
      AND "updated_at" <= CAST('2036-11-07 12:00:00+00:00' AS TIMESTAMPTZ),
      FALSE
    ) AS "p2",
    COALESCE(
      "custom.last_seen_at" >= CAST('2026-11-20 12:00:00+00:00' AS TIMESTAMPTZ)
      AND "custom.last_seen_at" <= CAST('2036-11-07 12:00:00+00:00' AS TIMESTAMPTZ),
      FALSE
    ) AS "p3"
  FROM base
), wide AS (
  SELECT
    "property_id",
    "entity_id",
    (
      "p1" OR "p2" OR "p3"
    ) AS "s1"
  FROM preds
)
SELECT
  "property_id",
  'future-dated-records' AS "segment_id",
  'organization' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
