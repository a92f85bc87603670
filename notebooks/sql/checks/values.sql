-- checks/values: the cleaned tables' values make sense.
--   no placeholder text left in any cleaned pin column; follower_count >= 0; downloaded 0 or 1;
--   latitude in -90..90 and longitude in -180..180; age in 0..130; ind unique in each table
--   (else the joins on ind would count a post twice).
-- Output: check_name, failures BIGINT, detail
-- Order: check_name.
SELECT
  'no placeholder left in pin' AS check_name,
  count(*) AS failures,
  concat(CAST(count(*) AS STRING), ' cleaned pin rows still hold a placeholder') AS detail
FROM pin
WHERE title = 'No Title Data Available'
  OR description LIKE 'No description available%'
  OR poster_name = 'User Info Error'
  OR tag_list = 'N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e'
  OR image_src = 'Image src error.'
UNION ALL
SELECT
  'pin.follower_count >= 0',
  count(*),
  concat(CAST(count(*) AS STRING), ' negative follower counts')
FROM pin
WHERE follower_count < 0
UNION ALL
SELECT
  'pin.downloaded is 0 or 1',
  count(*),
  concat(CAST(count(*) AS STRING), ' downloaded values other than 0 and 1')
FROM pin
WHERE downloaded NOT IN (0, 1)
UNION ALL
SELECT
  'geo.coordinates in range',
  count(*),
  concat(
    CAST(count(*) AS STRING),
    ' rows with latitude outside -90..90 or longitude outside -180..180'
  )
FROM geo_parsed
WHERE latitude NOT BETWEEN -90 AND 90 OR longitude NOT BETWEEN -180 AND 180
UNION ALL
SELECT
  'user.age in 0..130',
  count(*),
  concat(CAST(count(*) AS STRING), ' ages outside 0..130')
FROM user
WHERE age NOT BETWEEN 0 AND 130
UNION ALL
SELECT
  concat(t.table_name, '.ind unique'),
  t.rows_with_ind - t.distinct_ind,
  concat(
    CAST(t.rows_with_ind - t.distinct_ind AS STRING),
    ' rows share an ind with another, different row'
  )
FROM (
  SELECT 'pin' AS table_name, count(ind) AS rows_with_ind, count(DISTINCT ind) AS distinct_ind
  FROM pin
  UNION ALL
  SELECT 'geo', count(ind), count(DISTINCT ind) FROM geo
  UNION ALL
  SELECT 'user', count(ind), count(DISTINCT ind) FROM user
) AS t
ORDER BY check_name
