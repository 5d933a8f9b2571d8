WITH custom AS (
  SELECT
    "property_id",
    "entity_id",
    MAX(CASE WHEN "key" = 'nps' THEN "value_number" END) AS "custom.nps"
  FROM attribute_values
  WHERE
    "entity" = 'person' AND "key" IN ('nps')
  GROUP BY
    "property_id",
    "entity_id"
), base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."person_id" AS "entity_id",
    NULLIF(CAST("c"."custom.nps" AS DOUBLE), CAST('NaN' AS DOUBLE)) AS "custom.nps"
  FROM people AS e
  LEFT JOIN custom AS c
    ON "e"."property_id" = "c"."property_id" AND "e"."person_id" = "c"."entity_id"
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE("custom.nps" = 7.0, FALSE) AS "p1",
    COALESCE("custom.nps" = 8.0, FALSE) AS "p2",
    COALESCE("custom.nps" = 0.0, FALSE) AS "p3"
  FROM base
), wide AS (
  SELECT
    "property_id",
    "entity_id",
    (
      (
        "p1" OR "p2"
      ) AND NOT "p3"
    ) AS "s1"
  FROM preds
)
SELECT
  "property_id",
  'nps-passives' AS "segment_id",
  'person' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
