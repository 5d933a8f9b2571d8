WITH events AS (
  SELECT
    "property_id",
    "person_id" AS "entity_id",
    "kind",
    "occurred_at"
  FROM timeline
  WHERE
    NOT "person_id" IS NULL
    AND "occurred_at" <= CAST('2026-11-20 12:00:00+00:00' AS TIMESTAMPTZ)
), activity AS (
  SELECT
    "property_id",
    "entity_id",
    CAST(COUNT_IF(
      "kind" IN ('note', 'chat', 'ticket', 'call')
      AND "occurred_at" >= CAST('2026-05-24 11:00:00+00:00' AS TIMESTAMPTZ)
      AND "occurred_at" <= CAST('2026-11-20 12:00:00+00:00' AS TIMESTAMPTZ)
    ) AS BIGINT) AS "a1"
  FROM events
  GROUP BY
    "property_id",
    "entity_id"
), r1_base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."org_id" AS "entity_id"
  FROM organizations AS e
), r1_preds AS (
  SELECT
    "property_id",
    "entity_id"
  FROM r1_base
), r1_wide AS (
  SELECT
    "property_id",
    "entity_id"
  FROM r1_preds
), r1_links AS (
  SELECT DISTINCT
    "property_id",
    "org_id",
    "person_id"
  FROM organization_people
), r1_related AS (
  SELECT
    "l"."property_id" AS "property_id",
    "l"."person_id" AS "entity_id",
    COUNT(*) AS "n1"
  FROM r1_links AS l
  JOIN r1_wide AS f
    ON "l"."property_id" = "f"."property_id" AND "l"."org_id" = "f"."entity_id"
  GROUP BY
    "l"."property_id",
    "l"."person_id"
), base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."person_id" AS "entity_id",
    COALESCE("a"."a1", 0) AS "a1",
    COALESCE("rel"."n1", 0) AS "n1"
  FROM people AS e
  LEFT JOIN activity AS a
    ON "e"."property_id" = "a"."property_id" AND "e"."person_id" = "a"."entity_id"
  LEFT JOIN r1_related AS rel
    ON "e"."property_id" = "rel"."property_id" AND "e"."person_id" = "rel"."entity_id"
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE("n1" >= 2, FALSE) AS "p1",
    COALESCE("a1" >= 1, FALSE) AS "p2"
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
  'multi-account-contacts' AS "segment_id",
  'person' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
