WITH custom AS (
  SELECT
    "property_id",
    "entity_id",
    MAX(CASE WHEN "key" = 'renewal_date' THEN "value_datetime" END) AS "custom.renewal_date",
    MAX(CASE WHEN "key" = 'plan' THEN "value_text" END) AS "custom.plan"
  FROM attribute_values
  WHERE
    "entity" = 'organization' AND "key" IN ('renewal_date', 'plan')
  GROUP BY
    "property_id",
    "entity_id"
), base AS (
  SELECT
    "e"."property_id" AS "property_id",
    "e"."org_id" AS "entity_id",
    CAST("c"."custom.renewal_date" AS DATE) AS "custom.renewal_date",
    NULLIF(
      CASE
        WHEN REGEXP_MATCHES(
          "c"."custom.plan",
          '^[\x{9}-\x{d}\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}-\x{2029}\x{202f}\x{205f}\x{3000}]|[\x{9}-\x{d}\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}-\x{2029}\x{202f}\x{205f}\x{3000}]$|[\x{130}\x{307}\x{3a3}\x{3c2}\x{1c89}\x{a7cb}-\x{a7cc}\x{a7ce}\x{a7d2}\x{a7d4}\x{a7da}\x{a7dc}\x{10d50}-\x{10d65}\x{16ea0}-\x{16eb8}]'
        )
        THEN CASE
          WHEN REGEXP_MATCHES(
            "c"."custom.plan",
            '[\x{130}\x{307}\x{3a3}\x{3c2}\x{1c89}\x{a7cb}-\x{a7cc}\x{a7ce}\x{a7d2}\x{a7d4}\x{a7da}\x{a7dc}\x{10d50}-\x{10d65}\x{16ea0}-\x{16eb8}]'
          )
          THEN REPLACE(
            REPLACE(
              LOWER(
                TRANSLATE(
                  TRIM(
                    "c"."custom.plan",
                    CHR(9) || CHR(10) || CHR(11) || CHR(12) || CHR(13) || ' ' || CHR(133) || CHR(160) || CHR(5760) || CHR(8192) || CHR(8193) || CHR(8194) || CHR(8195) || CHR(8196) || CHR(8197) || CHR(8198) || CHR(8199) || CHR(8200) || CHR(8201) || CHR(8202) || CHR(8232) || CHR(8233) || CHR(8239) || CHR(8287) || CHR(12288)
                  ),
                  CHR(7305) || CHR(42955) || CHR(42956) || CHR(42958) || CHR(42962) || CHR(42964) || CHR(42970) || CHR(42972) || CHR(68944) || CHR(68945) || CHR(68946) || CHR(68947) || CHR(68948) || CHR(68949) || CHR(68950) || CHR(68951) || CHR(68952) || CHR(68953) || CHR(68954) || CHR(68955) || CHR(68956) || CHR(68957) || CHR(68958) || CHR(68959) || CHR(68960) || CHR(68961) || CHR(68962) || CHR(68963) || CHR(68964) || CHR(68965) || CHR(93856) || CHR(93857) || CHR(93858) || CHR(93859) || CHR(93860) || CHR(93861) || CHR(93862) || CHR(93863) || CHR(93864) || CHR(93865) || CHR(93866) || CHR(93867) || CHR(93868) || CHR(93869) || CHR(93870) || CHR(93871) || CHR(93872) || CHR(93873) || CHR(93874) || CHR(93875) || CHR(93876) || CHR(93877) || CHR(93878) || CHR(93879) || CHR(93880),
                  CHR(7306) || 'ɤ' || CHR(42957) || CHR(42959) || 'ꟓꟕ' || CHR(42971) || 'ƛ' || CHR(68976) || CHR(68977) || CHR(68978) || CHR(68979) || CHR(68980) || CHR(68981) || CHR(68982) || CHR(68983) || CHR(68984) || CHR(68985) || CHR(68986) || CHR(68987) || CHR(68988) || CHR(68989) || CHR(68990) || CHR(68991) || CHR(68992) || CHR(68993) || CHR(68994) || CHR(68995) || CHR(68996) || CHR(68997) || CHR(93883) || CHR(93884) || CHR(93885) || CHR(93886) || CHR(93887) || CHR(93888) || CHR(93889) || CHR(93890) || CHR(93891) || CHR(93892) || CHR(93893) || CHR(93894) || CHR(93895) || CHR(93896) || CHR(93897) || CHR(93898) || CHR(93899) || CHR(93900) || CHR(93901) || CHR(93902) || CHR(93903) || CHR(93904) || CHR(93905) || CHR(93906) || CHR(93907)
                )
              ),
              'i̇',
              'i'
            ),
            'ς',
            'σ'
          )
          ELSE LOWER(
            TRIM(
              "c"."custom.plan",
              CHR(9) || CHR(10) || CHR(11) || CHR(12) || CHR(13) || ' ' || CHR(133) || CHR(160) || CHR(5760) || CHR(8192) || CHR(8193) || CHR(8194) || CHR(8195) || CHR(8196) || CHR(8197) || CHR(8198) || CHR(8199) || CHR(8200) || CHR(8201) || CHR(8202) || CHR(8232) || CHR(8233) || CHR(8239) || CHR(8287) || CHR(12288)
            )
          )
        END
        ELSE LOWER("c"."custom.plan")
      END,
      ''
    ) AS "custom.plan"
  FROM organizations AS e
  LEFT JOIN custom AS c
    ON "e"."property_id" = "c"."property_id" AND "e"."org_id" = "c"."entity_id"
), preds AS (
  SELECT
    "property_id",
    "entity_id",
    COALESCE(
      "custom.renewal_date" >= CAST('2027-01-01' AS DATE)
      AND "custom.renewal_date" <= CAST('2027-03-31' AS DATE),
      FALSE
    ) AS "p1",
    COALESCE("custom.renewal_date" = CAST('2027-01-01' AS DATE), FALSE) AS "p2",
    COALESCE("custom.plan" IN ('free', 'starter'), FALSE) AS "p3"
  FROM base
), wide AS (
  SELECT
    "property_id",
    "entity_id",
    (
      "p1" AND NOT "p2" AND NOT "p3"
    ) AS "s1"
  FROM preds
)
SELECT
  "property_id",
  'renewals-q1-2027' AS "segment_id",
  'organization' AS "entity",
  "entity_id"
FROM wide
WHERE
  "s1";
