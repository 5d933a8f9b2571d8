WITH base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."person_id" AS "entity_id",
    NULLIF(
      REPLACE(
        REPLACE(
          LOWER(
            TRIM(
              "e"."primary_email",
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
    ) AS "primary_email",
    LIST_FILTER(
      LIST_TRANSFORM(
        "e"."emails",
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
    ) AS "emails"
  FROM people AS e
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE(ENDS_WITH("primary_email", '@gmail.com'), FALSE) AS "p1",
    COALESCE(ENDS_WITH("primary_email", '@outlook.com'), FALSE) AS "p2",
    COALESCE(ENDS_WITH("primary_email", '@hotmail.com'), FALSE) AS "p3",
    COALESCE(ENDS_WITH("primary_email", '@yahoo.com'), FALSE) AS "p4",
    COALESCE(ENDS_WITH("primary_email", '@yahoo.fr'), FALSE) AS "p5",
    COALESCE(ENDS_WITH("primary_email", '@orange.fr'), FALSE) AS "p6",
    COALESCE(ENDS_WITH("primary_email", '@gmx.de'), FALSE) AS "p7",
    COALESCE(ARRAY_LENGTH(LIST_FILTER("emails", LAMBDA x : CONTAINS(x, '@gmail.'))) > 0, FALSE) AS "p8"
  FROM base
), wide AS (
  SELECT
    "property_id",
    "entity_id",
    (
      "p1" OR "p2" OR "p3" OR "p4" OR "p5" OR "p6" OR "p7" OR "p8"
    ) AS "s1"
  FROM preds
)
SELECT
  "property_id",
  'free-mail-contacts' AS "segment_id",
  'person' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
