WITH base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."org_id" AS "entity_id",
    "e"."updated_at" AS "updated_at",
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
    ) AS "tags"
  FROM organizations AS e
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE("updated_at" < CAST('2026-05-24 11:00:00+00:00' AS TIMESTAMPTZ), FALSE) AS "p1",
    COALESCE(NOT "updated_at" IS NULL, FALSE) AS "p2",
    COALESCE(ARRAY_CONTAINS("tags", 'partner'), FALSE) AS "p3"
  FROM base
), wide AS (
  SELECT
    "property_id",
    "entity_id",
    (
      (
        "p1" OR NOT "p2"
      ) AND NOT "p3"
    ) AS "s1"
  FROM preds
)
SELECT
  "property_id",
  'stale-records' AS "segment_id",
  'organization' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
