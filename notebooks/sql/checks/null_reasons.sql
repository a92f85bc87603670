-- checks/null_reasons: for every column of the parsed tables, why its NULLs are NULL.
-- Counts values that were missing (no value in the record), placeholders (turned to NULL on
-- purpose), unparseable (neither: e.g. follower_count "abc"; each one is a failure) and
-- unexplained (NULL with status 'ok', or a value with another status; each one is a failure).
-- The detail shows the smallest unparseable raw value as an example.
-- Output: check_name, failures BIGINT, detail
-- Order: check_name.
WITH cells AS (
  SELECT 'pin' AS table_name, 'ind' AS column_name, ind_status AS status,
    ind IS NULL AS is_null, index_raw AS raw_value FROM pin_parsed
  UNION ALL SELECT 'pin', 'unique_id', unique_id_status, unique_id IS NULL, unique_id
    FROM pin_parsed
  UNION ALL SELECT 'pin', 'title', title_status, title IS NULL, title FROM pin_parsed
  UNION ALL SELECT 'pin', 'description', description_status, description IS NULL, description
    FROM pin_parsed
  UNION ALL SELECT 'pin', 'follower_count', follower_count_status, follower_count IS NULL,
    follower_count_raw FROM pin_parsed
  UNION ALL SELECT 'pin', 'poster_name', poster_name_status, poster_name IS NULL, poster_name
    FROM pin_parsed
  UNION ALL SELECT 'pin', 'tag_list', tag_list_status, tag_list IS NULL, tag_list FROM pin_parsed
  UNION ALL SELECT 'pin', 'is_image_or_video', is_image_or_video_status,
    is_image_or_video IS NULL, is_image_or_video_raw FROM pin_parsed
  UNION ALL SELECT 'pin', 'image_src', image_src_status, image_src IS NULL, image_src
    FROM pin_parsed
  UNION ALL SELECT 'pin', 'save_location', save_location_status, save_location IS NULL,
    save_location_raw FROM pin_parsed
  UNION ALL SELECT 'pin', 'category', category_status, category IS NULL, category FROM pin_parsed
  UNION ALL SELECT 'pin', 'downloaded', downloaded_status, downloaded IS NULL, downloaded_raw
    FROM pin_parsed
  UNION ALL SELECT 'geo', 'ind', ind_status, ind IS NULL, ind_raw FROM geo_parsed
  UNION ALL SELECT 'geo', 'country', country_status, country IS NULL, country FROM geo_parsed
  UNION ALL SELECT 'geo', 'latitude', latitude_status, latitude IS NULL, latitude_raw
    FROM geo_parsed
  UNION ALL SELECT 'geo', 'longitude', longitude_status, longitude IS NULL, longitude_raw
    FROM geo_parsed
  UNION ALL SELECT 'geo', 'timestamp', timestamp_status, timestamp IS NULL, timestamp_raw
    FROM geo_parsed
  UNION ALL SELECT 'user', 'ind', ind_status, ind IS NULL, ind_raw FROM user_parsed
  UNION ALL SELECT 'user', 'first_name', first_name_status, first_name IS NULL, first_name
    FROM user_parsed
  UNION ALL SELECT 'user', 'last_name', last_name_status, last_name IS NULL, last_name
    FROM user_parsed
  UNION ALL SELECT 'user', 'age', age_status, age IS NULL, age_raw FROM user_parsed
  UNION ALL SELECT 'user', 'date_joined', date_joined_status, date_joined IS NULL,
    date_joined_raw FROM user_parsed
),
tallies AS (
  SELECT
    table_name,
    column_name,
    sum(CASE WHEN status = 'missing' THEN 1 ELSE 0 END) AS missing,
    sum(CASE WHEN status = 'placeholder' THEN 1 ELSE 0 END) AS placeholder,
    sum(CASE WHEN status = 'unparseable' THEN 1 ELSE 0 END) AS unparseable,
    sum(
      CASE WHEN (is_null AND status = 'ok') OR (NOT is_null AND status <> 'ok') THEN 1 ELSE 0 END
    ) AS unexplained,
    min(CASE WHEN status = 'unparseable' THEN raw_value END) AS example
  FROM cells
  GROUP BY table_name, column_name
)
SELECT
  concat('null reasons ', table_name, '.', column_name) AS check_name,
  unparseable + unexplained AS failures,
  concat(
    'missing ', CAST(missing AS STRING),
    ', placeholder ', CAST(placeholder AS STRING),
    ', unparseable ', CAST(unparseable AS STRING),
    ', unexplained ', CAST(unexplained AS STRING),
    CASE WHEN example IS NOT NULL THEN concat(', e.g. "', example, '"') ELSE '' END
  ) AS detail
FROM tallies
ORDER BY check_name
