WITH base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."org_id" AS "entity_id",
    "e"."created_at" AS "created_at",
    NULLIF(
      REPLACE(
        REPLACE(
          LOWER(
            TRIM(
              "e"."linkedin_url",
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
    ) AS "linkedin_url",
    NULLIF(
      REPLACE(
        REPLACE(
          LOWER(
            TRIM(
              "e"."twitter",
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
    ) AS "twitter",
    NULLIF(
      REPLACE(
        REPLACE(
          LOWER(
            TRIM(
              "e"."name",
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
    ) AS "name"
  FROM organizations AS e
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE("created_at" < CAST('2023-12-31 23:00:00+00:00' AS TIMESTAMPTZ), FALSE) AS "p1",
    COALESCE(STARTS_WITH("linkedin_url", 'https://www.linkedin.com/company/'), FALSE) AS "p2",
    COALESCE(NOT "twitter" IS NULL, FALSE) AS "p3",
    COALESCE(CONTAINS("name", 'test'), FALSE) AS "p4"
  FROM base
), wide AS (
  SELECT
    "property_id",
    "entity_id",
    (
      "p1" AND "p2" AND NOT "p3" AND NOT "p4"
    ) AS "s1"
  FROM preds
)
SELECT
  "property_id",
  'legacy-accounts-no-social' AS "segment_id",
  'organization' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
