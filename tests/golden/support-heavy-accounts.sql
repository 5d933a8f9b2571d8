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
      "kind" IN ('chat', 'call')
      AND "occurred_at" >= CAST('2026-10-21 11:00:00+00:00' AS TIMESTAMPTZ)
      AND "occurred_at" <= CAST('2026-11-20 12:00:00+00:00' AS TIMESTAMPTZ)
    ) AS BIGINT) AS "a1"
  FROM events
  GROUP BY
    "property_id",
    "entity_id"
), rollups AS (
  SELECT
    "property_id",
    "entity_id",
    CAST(COUNT_IF(
      "kind" = 'note'
      AND "occurred_at" >= CAST('2026-11-13 12:00:00+00:00' AS TIMESTAMPTZ)
    ) AS BIGINT) AS "notes_7d",
    CAST(COUNT_IF(
      "kind" = 'note'
      AND "occurred_at" >= CAST('2026-10-21 11:00:00+00:00' AS TIMESTAMPTZ)
    ) AS BIGINT) AS "notes_30d",
    CAST(COUNT_IF(
      "kind" = 'note'
      AND "occurred_at" >= CAST('2026-08-22 11:00:00+00:00' AS TIMESTAMPTZ)
    ) AS BIGINT) AS "notes_90d",
    CAST(COUNT_IF("kind" = 'note') AS BIGINT) AS "notes_total",
    CAST(COUNT_IF(
      "kind" = 'chat'
      AND "occurred_at" >= CAST('2026-11-13 12:00:00+00:00' AS TIMESTAMPTZ)
    ) AS BIGINT) AS "chats_7d",
    CAST(COUNT_IF(
      "kind" = 'chat'
      AND "occurred_at" >= CAST('2026-10-21 11:00:00+00:00' AS TIMESTAMPTZ)
    ) AS BIGINT) AS "chats_30d",
    CAST(COUNT_IF(
      "kind" = 'chat'
      AND "occurred_at" >= CAST('2026-08-22 11:00:00+00:00' AS TIMESTAMPTZ)
    ) AS BIGINT) AS "chats_90d",
    CAST(COUNT_IF("kind" = 'chat') AS BIGINT) AS "chats_total",
    CAST(COUNT_IF(
      "kind" = 'ticket'
      AND "occurred_at" >= CAST('2026-11-13 12:00:00+00:00' AS TIMESTAMPTZ)
    ) AS BIGINT) AS "tickets_7d",
    CAST(COUNT_IF(
      "kind" = 'ticket'
      AND "occurred_at" >= CAST('2026-10-21 11:00:00+00:00' AS TIMESTAMPTZ)
    ) AS BIGINT) AS "tickets_30d",
    CAST(COUNT_IF(
      "kind" = 'ticket'
      AND "occurred_at" >= CAST('2026-08-22 11:00:00+00:00' AS TIMESTAMPTZ)
    ) AS BIGINT) AS "tickets_90d",
    CAST(COUNT_IF("kind" = 'ticket') AS BIGINT) AS "tickets_total",
    CAST(COUNT_IF(
      "kind" = 'call'
      AND "occurred_at" >= CAST('2026-11-13 12:00:00+00:00' AS TIMESTAMPTZ)
    ) AS BIGINT) AS "calls_7d",
    CAST(COUNT_IF(
      "kind" = 'call'
      AND "occurred_at" >= CAST('2026-10-21 11:00:00+00:00' AS TIMESTAMPTZ)
    ) AS BIGINT) AS "calls_30d",
    CAST(COUNT_IF(
      "kind" = 'call'
      AND "occurred_at" >= CAST('2026-08-22 11:00:00+00:00' AS TIMESTAMPTZ)
    ) AS BIGINT) AS "calls_90d",
    CAST(COUNT_IF("kind" = 'call') AS BIGINT) AS "calls_total",
    MIN("occurred_at") AS "first_interaction_at",
    MAX("occurred_at") AS "last_interaction_at"
  FROM events
  GROUP BY
    "property_id",
    "entity_id"
), base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."org_id" AS "entity_id",
    COALESCE("a"."a1", 0) AS "a1",
    NULLIF(CAST(COALESCE("ro"."tickets_30d", 0) AS DOUBLE), CAST('NaN' AS DOUBLE)) AS "rollup.tickets_30d"
  FROM organizations AS e
  LEFT JOIN activity AS a
    ON "e"."property_id" = "a"."property_id" AND "e"."org_id" = "a"."entity_id"
  LEFT JOIN rollups AS ro
    ON "e"."property_id" = "ro"."property_id" AND "e"."org_id" = "ro"."entity_id"
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE("rollup.tickets_30d" >= 3.0, FALSE) AS "p1",
    COALESCE("a1" <= 1, FALSE) AS "p2"
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
  'support-heavy-accounts' AS "segment_id",
  'organization' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
