WITH events AS (
  SELECT
    "property_id",
    "org_id" AS "entity_id",
    "kind",
    "occurred_at"
  FROM timeline
  WHERE
    NOT "org_id" IS NULL
    AND "occurred_at" <= CAST('2026-11-20 12:00:00+00:00' AS TIMESTAMPTZ)
  UNION ALL
  SELECT
    "t"."property_id",
    "l"."org_id" AS "entity_id",
    "t"."kind",
    "t"."occurred_at"
  FROM timeline AS t
  JOIN organization_people AS l
    ON "t"."property_id" = "l"."property_id" AND "t"."person_id" = "l"."person_id"
  WHERE
    "t"."org_id" IS NULL
    AND "t"."occurred_at" <= CAST('2026-11-20 12:00:00+00:00' AS TIMESTAMPTZ)
), activity AS (
  SELECT
    "property_id",
    "entity_id",
    CAST(COUNT_IF(
      "kind" = 'chat'
      AND "occurred_at" >= CAST('2026-08-22 11:00:00+00:00' AS TIMESTAMPTZ)
      AND "occurred_at" <= CAST('2026-11-20 12:00:00+00:00' AS TIMESTAMPTZ)
    ) AS BIGINT) AS "a1",
    CAST(COUNT_IF(
      "kind" = 'chat'
      AND "occurred_at" >= CAST('2026-10-21 11:00:00+00:00' AS TIMESTAMPTZ)
      AND "occurred_at" <= CAST('2026-11-20 12:00:00+00:00' AS TIMESTAMPTZ)
    ) AS BIGINT) AS "a2"
  FROM events
  GROUP BY
    "property_id",
    "entity_id"
), base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."org_id" AS "entity_id",
    COALESCE("a"."a1", 0) AS "a1",
    COALESCE("a"."a2", 0) AS "a2"
  FROM organizations AS e
  LEFT JOIN activity AS a
    ON "e"."property_id" = "a"."property_id" AND "e"."org_id" = "a"."entity_id"
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE("a1" >= 3, FALSE) AS "p1",
    COALESCE("a2" = 0, FALSE) AS "p2"
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
  'went-quiet' AS "segment_id",
  'organization' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
