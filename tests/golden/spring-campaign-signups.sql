WITH custom AS (
  SELECT
    "property_id",
    "entity_id",
    MAX(CASE WHEN "key" = 'last_login_at' THEN "value_datetime" END) AS "custom.last_login_at"
  FROM attribute_values
  WHERE
    "entity" = 'person' AND "key" IN ('last_login_at')
  GROUP BY
    "property_id",
    "entity_id"
), base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."person_id" AS "entity_id",
    "e"."created_at" AS "created_at",
    "c"."custom.last_login_at" AS "custom.last_login_at"
  FROM people AS e
  LEFT JOIN custom AS c
    ON "e"."property_id" = "c"."property_id" AND "e"."person_id" = "c"."entity_id"
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE("property_id" IN ('site-us'), FALSE) AS "p1",
    COALESCE(
      "created_at" >= CAST('2026-02-28 23:00:00+00:00' AS TIMESTAMPTZ)
      AND "created_at" < CAST('2026-04-15 22:00:00+00:00' AS TIMESTAMPTZ),
      FALSE
    ) AS "p2",
    COALESCE(
      "created_at" >= CAST('2026-03-14 23:00:00+00:00' AS TIMESTAMPTZ)
      AND "created_at" < CAST('2026-03-15 23:00:00+00:00' AS TIMESTAMPTZ),
      FALSE
    ) AS "p3",
    COALESCE("custom.last_login_at" > CAST('2026-04-02 16:00:00+00:00' AS TIMESTAMPTZ), FALSE) AS "p4"
  FROM base
), wide AS (
  SELECT
    "property_id",
    "entity_id",
    (
      "p1" AND (
        "p2" AND NOT "p3" AND "p4"
      )
    ) AS "s1"
  FROM preds
)
SELECT
  "property_id",
  'spring-campaign-signups' AS "segment_id",
  'person' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
