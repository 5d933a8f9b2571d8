WITH custom AS (
  SELECT
    "property_id",
    "entity_id",
    MAX(CASE WHEN "key" = 'is_vip' THEN "value_boolean" END) AS "custom.is_vip",
    MAX(CASE WHEN "key" = 'nps' THEN "value_number" END) AS "custom.nps",
    MAX(CASE WHEN "key" = 'last_login_at' THEN "value_datetime" END) AS "custom.last_login_at"
  FROM attribute_values
  WHERE
    "entity" = 'person' AND "key" IN ('is_vip', 'nps', 'last_login_at')
  GROUP BY
    "property_id",
    "entity_id"
), base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."person_id" AS "entity_id",
    "c"."custom.is_vip" AS "custom.is_vip",
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
    ) AS "tags",
    NULLIF(CAST("c"."custom.nps" AS DOUBLE), CAST('NaN' AS DOUBLE)) AS "custom.nps",
    "c"."custom.last_login_at" AS "custom.last_login_at"
  FROM people AS e
  LEFT JOIN custom AS c
    ON "e"."property_id" = "c"."property_id" AND "e"."person_id" = "c"."entity_id"
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE("custom.is_vip" = TRUE, FALSE) AS "p1",
    COALESCE(ARRAY_CONTAINS("tags", 'vip'), FALSE) AS "p2",
    COALESCE("custom.nps" >= 9.0, FALSE) AS "p3",
    COALESCE(
      "custom.last_login_at" >= CAST('2026-10-21 11:00:00+00:00' AS TIMESTAMPTZ)
      AND "custom.last_login_at" <= CAST('2026-11-20 12:00:00+00:00' AS TIMESTAMPTZ),
      FALSE
    ) AS "p4"
  FROM base
), wide AS (
  SELECT
    "property_id",
    "entity_id",
    (
      (
        "p1" OR "p2"
      ) AND "p3" AND "p4"
    ) AS "s1"
  FROM preds
)
SELECT
  "property_id",
  'vip-advocates' AS "segment_id",
  'person' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
