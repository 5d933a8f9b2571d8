WITH r1_base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."person_id" AS "entity_id",
    NULLIF(
      REPLACE(
        REPLACE(
          LOWER(
            TRIM(
              "e"."job_title",
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
    ) AS "job_title"
  FROM people AS e
), r1_preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE("job_title" IN ('ceo', 'cto', 'cfo', 'coo', 'founder', 'co-founder'), FALSE) AS "p1",
    COALESCE(STARTS_WITH("job_title", 'vp'), FALSE) AS "p2",
    COALESCE(STARTS_WITH("job_title", 'chief'), FALSE) AS "p3"
  FROM r1_base
), r1_wide AS (
  SELECT
    "property_id",
    "entity_id",
    (
      "p1" OR "p2" OR "p3"
    ) AS "match"
  FROM r1_preds
), related1 AS (
  SELECT
    "l"."property_id" AS "property_id",
    "l"."org_id" AS "entity_id",
    COUNT(DISTINCT "l"."person_id") AS "n"
  FROM organization_people AS l
  JOIN r1_wide AS f
    ON "l"."property_id" = "f"."property_id" AND "l"."person_id" = "f"."entity_id"
  WHERE
    "f"."match"
  GROUP BY
    "l"."property_id",
    "l"."org_id"
), base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."org_id" AS "entity_id",
    COALESCE("rel1"."n", 0) AS "rel1"
  FROM organizations AS e
  LEFT JOIN related1 AS rel1
    ON "e"."property_id" = "rel1"."property_id" AND "e"."org_id" = "rel1"."entity_id"
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE("rel1" >= 1.0, FALSE) AS "p1"
  FROM base
), wide AS (
  SELECT
    "property_id",
    "entity_id",
    "p1" AS "s1"
  FROM preds
)
SELECT
  "property_id",
  'accounts-with-decision-maker' AS "segment_id",
  'organization' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
