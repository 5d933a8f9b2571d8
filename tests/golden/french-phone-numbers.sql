WITH base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."org_id" AS "entity_id",
    NULLIF(REGEXP_REPLACE("e"."primary_phone", '[^0-9]', '', 'g'), '') AS "primary_phone"
  FROM organizations AS e
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE(STARTS_WITH("primary_phone", '33'), FALSE) AS "p1",
    COALESCE(STARTS_WITH("primary_phone", '0033'), FALSE) AS "p2",
    COALESCE("primary_phone" = '33184880000', FALSE) AS "p3",
    COALESCE("primary_phone" IN ('33612345678', '33140205050'), FALSE) AS "p4",
    COALESCE(CONTAINS("primary_phone", '18488'), FALSE) AS "p5"
  FROM base
), wide AS (
  SELECT
    "property_id",
    "entity_id",
    (
      (
        "p1" OR "p2"
      ) AND NOT "p3" AND NOT "p4" AND NOT "p5"
    ) AS "s1"
  FROM preds
)
SELECT
  "property_id",
  'french-phone-numbers' AS "segment_id",
  'organization' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
