-- checks/schema_drift: fields the records carry that their table does not have. Such a record is
-- kept and the field ignored (notebooks/sql/quarantine_reasons.json, schema_drift); each field is
-- named here with the number of records that carried it. It warns and does not fail: failures 0.
-- Reads raw_<kind>_unknown_fields (field, records), which each engine's raw reader makes.
-- Output: check_name, failures BIGINT, detail
-- Order: check_name.
WITH drift AS (
  SELECT 'pin' AS table_name, field, records FROM raw_pin_unknown_fields
  UNION ALL
  SELECT 'geo', field, records FROM raw_geo_unknown_fields
  UNION ALL
  SELECT 'user', field, records FROM raw_user_unknown_fields
)
SELECT
  concat('schema drift ', table_name, '.', field) AS check_name,
  CAST(0 AS BIGINT) AS failures,
  concat(CAST(records AS STRING), ' records carry it, kept without it') AS detail
FROM drift
UNION ALL
SELECT
  'schema drift',
  CAST(0 AS BIGINT),
  'no record carries a field beyond the columns of its table'
FROM (SELECT count(*) AS fields FROM drift) AS t
WHERE fields = 0
ORDER BY check_name
