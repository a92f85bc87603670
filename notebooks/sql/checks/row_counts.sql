-- checks/row_counts: for each table, rows in = rows out + exact duplicates removed.
-- rows in: raw records; exact duplicates: raw records identical to an earlier one; rows out: rows of
-- the cleaned table. failures is the difference, 0 when cleaning merged or lost nothing else.
-- Output: check_name, failures BIGINT, detail
-- Order: check_name.
WITH counts AS (
  SELECT
    'pin' AS table_name,
    (SELECT count(*) FROM raw_pin) AS rows_in,
    (SELECT count(*) FROM (SELECT DISTINCT * FROM raw_pin) AS d) AS distinct_in,
    (SELECT count(*) FROM pin) AS rows_out
  UNION ALL
  SELECT
    'geo',
    (SELECT count(*) FROM raw_geo),
    (SELECT count(*) FROM (SELECT DISTINCT * FROM raw_geo) AS d),
    (SELECT count(*) FROM geo)
  UNION ALL
  SELECT
    'user',
    (SELECT count(*) FROM raw_user),
    (SELECT count(*) FROM (SELECT DISTINCT * FROM raw_user) AS d),
    (SELECT count(*) FROM user)
)
SELECT
  concat('row counts ', table_name) AS check_name,
  abs(distinct_in - rows_out) AS failures,
  concat(
    CAST(rows_in AS STRING), ' rows in, ',
    CAST(rows_in - distinct_in AS STRING), ' exact duplicates removed, ',
    CAST(rows_out AS STRING), ' rows out'
  ) AS detail
FROM counts
ORDER BY check_name
