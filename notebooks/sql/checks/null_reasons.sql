-- checks/null_reasons: for every column of the parsed tables, why its NULLs are NULL.
-- Counts values that were missing (no value in the record), placeholders (turned to NULL on
-- purpose), unparseable (neither: e.g. follower_count "abc"; each one is a failure) and
-- unexplained (NULL with status 'ok', or a value with another status; each one is a failure).
-- The detail shows the smallest unparseable raw value as an example.
-- One pass over each table: <table>_tallies is one row of every column's counts (count_if),
-- and tallies turns it into a row per column. An empty table has no rows here.
-- Output: check_name, failures BIGINT, detail
-- Order: check_name.
WITH
pin_tallies AS (
  SELECT
    count(*) AS row_count,
    count_if(ind_status = 'missing') AS ind_missing,
    count_if(ind_status = 'placeholder') AS ind_placeholder,
    count_if(ind_status = 'unparseable') AS ind_unparseable,
    count_if(
      (ind IS NULL AND ind_status = 'ok') OR (ind IS NOT NULL AND ind_status <> 'ok')
    ) AS ind_unexplained,
    min(CASE WHEN ind_status = 'unparseable' THEN index_raw END) AS ind_example,
    count_if(unique_id_status = 'missing') AS unique_id_missing,
    count_if(unique_id_status = 'placeholder') AS unique_id_placeholder,
    count_if(unique_id_status = 'unparseable') AS unique_id_unparseable,
    count_if(
      (unique_id IS NULL AND unique_id_status = 'ok')
      OR (unique_id IS NOT NULL AND unique_id_status <> 'ok')
    ) AS unique_id_unexplained,
    min(CASE WHEN unique_id_status = 'unparseable' THEN unique_id END) AS unique_id_example,
    count_if(title_status = 'missing') AS title_missing,
    count_if(title_status = 'placeholder') AS title_placeholder,
    count_if(title_status = 'unparseable') AS title_unparseable,
    count_if(
      (title IS NULL AND title_status = 'ok') OR (title IS NOT NULL AND title_status <> 'ok')
    ) AS title_unexplained,
    min(CASE WHEN title_status = 'unparseable' THEN title END) AS title_example,
    count_if(description_status = 'missing') AS description_missing,
    count_if(description_status = 'placeholder') AS description_placeholder,
    count_if(description_status = 'unparseable') AS description_unparseable,
    count_if(
      (description IS NULL AND description_status = 'ok')
      OR (description IS NOT NULL AND description_status <> 'ok')
    ) AS description_unexplained,
    min(CASE WHEN description_status = 'unparseable' THEN description END) AS description_example,
    count_if(follower_count_status = 'missing') AS follower_count_missing,
    count_if(follower_count_status = 'placeholder') AS follower_count_placeholder,
    count_if(follower_count_status = 'unparseable') AS follower_count_unparseable,
    count_if(
      (follower_count IS NULL AND follower_count_status = 'ok')
      OR (follower_count IS NOT NULL AND follower_count_status <> 'ok')
    ) AS follower_count_unexplained,
    min(CASE WHEN follower_count_status = 'unparseable' THEN follower_count_raw END)
      AS follower_count_example,
    count_if(poster_name_status = 'missing') AS poster_name_missing,
    count_if(poster_name_status = 'placeholder') AS poster_name_placeholder,
    count_if(poster_name_status = 'unparseable') AS poster_name_unparseable,
    count_if(
      (poster_name IS NULL AND poster_name_status = 'ok')
      OR (poster_name IS NOT NULL AND poster_name_status <> 'ok')
    ) AS poster_name_unexplained,
    min(CASE WHEN poster_name_status = 'unparseable' THEN poster_name END) AS poster_name_example,
    count_if(tag_list_status = 'missing') AS tag_list_missing,
    count_if(tag_list_status = 'placeholder') AS tag_list_placeholder,
    count_if(tag_list_status = 'unparseable') AS tag_list_unparseable,
    count_if(
      (tag_list IS NULL AND tag_list_status = 'ok')
      OR (tag_list IS NOT NULL AND tag_list_status <> 'ok')
    ) AS tag_list_unexplained,
    min(CASE WHEN tag_list_status = 'unparseable' THEN tag_list END) AS tag_list_example,
    count_if(is_image_or_video_status = 'missing') AS is_image_or_video_missing,
    count_if(is_image_or_video_status = 'placeholder') AS is_image_or_video_placeholder,
    count_if(is_image_or_video_status = 'unparseable') AS is_image_or_video_unparseable,
    count_if(
      (is_image_or_video IS NULL AND is_image_or_video_status = 'ok')
      OR (is_image_or_video IS NOT NULL AND is_image_or_video_status <> 'ok')
    ) AS is_image_or_video_unexplained,
    min(CASE WHEN is_image_or_video_status = 'unparseable' THEN is_image_or_video_raw END)
      AS is_image_or_video_example,
    count_if(image_src_status = 'missing') AS image_src_missing,
    count_if(image_src_status = 'placeholder') AS image_src_placeholder,
    count_if(image_src_status = 'unparseable') AS image_src_unparseable,
    count_if(
      (image_src IS NULL AND image_src_status = 'ok')
      OR (image_src IS NOT NULL AND image_src_status <> 'ok')
    ) AS image_src_unexplained,
    min(CASE WHEN image_src_status = 'unparseable' THEN image_src END) AS image_src_example,
    count_if(save_location_status = 'missing') AS save_location_missing,
    count_if(save_location_status = 'placeholder') AS save_location_placeholder,
    count_if(save_location_status = 'unparseable') AS save_location_unparseable,
    count_if(
      (save_location IS NULL AND save_location_status = 'ok')
      OR (save_location IS NOT NULL AND save_location_status <> 'ok')
    ) AS save_location_unexplained,
    min(CASE WHEN save_location_status = 'unparseable' THEN save_location_raw END)
      AS save_location_example,
    count_if(category_status = 'missing') AS category_missing,
    count_if(category_status = 'placeholder') AS category_placeholder,
    count_if(category_status = 'unparseable') AS category_unparseable,
    count_if(
      (category IS NULL AND category_status = 'ok')
      OR (category IS NOT NULL AND category_status <> 'ok')
    ) AS category_unexplained,
    min(CASE WHEN category_status = 'unparseable' THEN category END) AS category_example,
    count_if(downloaded_status = 'missing') AS downloaded_missing,
    count_if(downloaded_status = 'placeholder') AS downloaded_placeholder,
    count_if(downloaded_status = 'unparseable') AS downloaded_unparseable,
    count_if(
      (downloaded IS NULL AND downloaded_status = 'ok')
      OR (downloaded IS NOT NULL AND downloaded_status <> 'ok')
    ) AS downloaded_unexplained,
    min(CASE WHEN downloaded_status = 'unparseable' THEN downloaded_raw END) AS downloaded_example
  FROM pin_parsed
),
geo_tallies AS (
  SELECT
    count(*) AS row_count,
    count_if(ind_status = 'missing') AS ind_missing,
    count_if(ind_status = 'placeholder') AS ind_placeholder,
    count_if(ind_status = 'unparseable') AS ind_unparseable,
    count_if(
      (ind IS NULL AND ind_status = 'ok') OR (ind IS NOT NULL AND ind_status <> 'ok')
    ) AS ind_unexplained,
    min(CASE WHEN ind_status = 'unparseable' THEN ind_raw END) AS ind_example,
    count_if(country_status = 'missing') AS country_missing,
    count_if(country_status = 'placeholder') AS country_placeholder,
    count_if(country_status = 'unparseable') AS country_unparseable,
    count_if(
      (country IS NULL AND country_status = 'ok')
      OR (country IS NOT NULL AND country_status <> 'ok')
    ) AS country_unexplained,
    min(CASE WHEN country_status = 'unparseable' THEN country END) AS country_example,
    count_if(latitude_status = 'missing') AS latitude_missing,
    count_if(latitude_status = 'placeholder') AS latitude_placeholder,
    count_if(latitude_status = 'unparseable') AS latitude_unparseable,
    count_if(
      (latitude IS NULL AND latitude_status = 'ok')
      OR (latitude IS NOT NULL AND latitude_status <> 'ok')
    ) AS latitude_unexplained,
    min(CASE WHEN latitude_status = 'unparseable' THEN latitude_raw END) AS latitude_example,
    count_if(longitude_status = 'missing') AS longitude_missing,
    count_if(longitude_status = 'placeholder') AS longitude_placeholder,
    count_if(longitude_status = 'unparseable') AS longitude_unparseable,
    count_if(
      (longitude IS NULL AND longitude_status = 'ok')
      OR (longitude IS NOT NULL AND longitude_status <> 'ok')
    ) AS longitude_unexplained,
    min(CASE WHEN longitude_status = 'unparseable' THEN longitude_raw END) AS longitude_example,
    count_if(timestamp_status = 'missing') AS timestamp_missing,
    count_if(timestamp_status = 'placeholder') AS timestamp_placeholder,
    count_if(timestamp_status = 'unparseable') AS timestamp_unparseable,
    count_if(
      (timestamp IS NULL AND timestamp_status = 'ok')
      OR (timestamp IS NOT NULL AND timestamp_status <> 'ok')
    ) AS timestamp_unexplained,
    min(CASE WHEN timestamp_status = 'unparseable' THEN timestamp_raw END) AS timestamp_example
  FROM geo_parsed
),
user_tallies AS (
  SELECT
    count(*) AS row_count,
    count_if(ind_status = 'missing') AS ind_missing,
    count_if(ind_status = 'placeholder') AS ind_placeholder,
    count_if(ind_status = 'unparseable') AS ind_unparseable,
    count_if(
      (ind IS NULL AND ind_status = 'ok') OR (ind IS NOT NULL AND ind_status <> 'ok')
    ) AS ind_unexplained,
    min(CASE WHEN ind_status = 'unparseable' THEN ind_raw END) AS ind_example,
    count_if(first_name_status = 'missing') AS first_name_missing,
    count_if(first_name_status = 'placeholder') AS first_name_placeholder,
    count_if(first_name_status = 'unparseable') AS first_name_unparseable,
    count_if(
      (first_name IS NULL AND first_name_status = 'ok')
      OR (first_name IS NOT NULL AND first_name_status <> 'ok')
    ) AS first_name_unexplained,
    min(CASE WHEN first_name_status = 'unparseable' THEN first_name END) AS first_name_example,
    count_if(last_name_status = 'missing') AS last_name_missing,
    count_if(last_name_status = 'placeholder') AS last_name_placeholder,
    count_if(last_name_status = 'unparseable') AS last_name_unparseable,
    count_if(
      (last_name IS NULL AND last_name_status = 'ok')
      OR (last_name IS NOT NULL AND last_name_status <> 'ok')
    ) AS last_name_unexplained,
    min(CASE WHEN last_name_status = 'unparseable' THEN last_name END) AS last_name_example,
    count_if(age_status = 'missing') AS age_missing,
    count_if(age_status = 'placeholder') AS age_placeholder,
    count_if(age_status = 'unparseable') AS age_unparseable,
    count_if(
      (age IS NULL AND age_status = 'ok') OR (age IS NOT NULL AND age_status <> 'ok')
    ) AS age_unexplained,
    min(CASE WHEN age_status = 'unparseable' THEN age_raw END) AS age_example,
    count_if(date_joined_status = 'missing') AS date_joined_missing,
    count_if(date_joined_status = 'placeholder') AS date_joined_placeholder,
    count_if(date_joined_status = 'unparseable') AS date_joined_unparseable,
    count_if(
      (date_joined IS NULL AND date_joined_status = 'ok')
      OR (date_joined IS NOT NULL AND date_joined_status <> 'ok')
    ) AS date_joined_unexplained,
    min(CASE WHEN date_joined_status = 'unparseable' THEN date_joined_raw END)
      AS date_joined_example
  FROM user_parsed
),
tallies AS (
  SELECT 'pin' AS table_name, 'ind' AS column_name, ind_missing AS missing,
    ind_placeholder AS placeholder, ind_unparseable AS unparseable,
    ind_unexplained AS unexplained, ind_example AS example
    FROM pin_tallies WHERE row_count > 0
  UNION ALL SELECT 'pin', 'unique_id',
    unique_id_missing, unique_id_placeholder, unique_id_unparseable,
    unique_id_unexplained, unique_id_example
    FROM pin_tallies WHERE row_count > 0
  UNION ALL SELECT 'pin', 'title',
    title_missing, title_placeholder, title_unparseable, title_unexplained, title_example
    FROM pin_tallies WHERE row_count > 0
  UNION ALL SELECT 'pin', 'description',
    description_missing, description_placeholder, description_unparseable,
    description_unexplained, description_example
    FROM pin_tallies WHERE row_count > 0
  UNION ALL SELECT 'pin', 'follower_count',
    follower_count_missing, follower_count_placeholder, follower_count_unparseable,
    follower_count_unexplained, follower_count_example
    FROM pin_tallies WHERE row_count > 0
  UNION ALL SELECT 'pin', 'poster_name',
    poster_name_missing, poster_name_placeholder, poster_name_unparseable,
    poster_name_unexplained, poster_name_example
    FROM pin_tallies WHERE row_count > 0
  UNION ALL SELECT 'pin', 'tag_list',
    tag_list_missing, tag_list_placeholder, tag_list_unparseable,
    tag_list_unexplained, tag_list_example
    FROM pin_tallies WHERE row_count > 0
  UNION ALL SELECT 'pin', 'is_image_or_video',
    is_image_or_video_missing, is_image_or_video_placeholder, is_image_or_video_unparseable,
    is_image_or_video_unexplained, is_image_or_video_example
    FROM pin_tallies WHERE row_count > 0
  UNION ALL SELECT 'pin', 'image_src',
    image_src_missing, image_src_placeholder, image_src_unparseable,
    image_src_unexplained, image_src_example
    FROM pin_tallies WHERE row_count > 0
  UNION ALL SELECT 'pin', 'save_location',
    save_location_missing, save_location_placeholder, save_location_unparseable,
    save_location_unexplained, save_location_example
    FROM pin_tallies WHERE row_count > 0
  UNION ALL SELECT 'pin', 'category',
    category_missing, category_placeholder, category_unparseable,
    category_unexplained, category_example
    FROM pin_tallies WHERE row_count > 0
  UNION ALL SELECT 'pin', 'downloaded',
    downloaded_missing, downloaded_placeholder, downloaded_unparseable,
    downloaded_unexplained, downloaded_example
    FROM pin_tallies WHERE row_count > 0
  UNION ALL SELECT 'geo', 'ind',
    ind_missing, ind_placeholder, ind_unparseable, ind_unexplained, ind_example
    FROM geo_tallies WHERE row_count > 0
  UNION ALL SELECT 'geo', 'country',
    country_missing, country_placeholder, country_unparseable, country_unexplained, country_example
    FROM geo_tallies WHERE row_count > 0
  UNION ALL SELECT 'geo', 'latitude',
    latitude_missing, latitude_placeholder, latitude_unparseable,
    latitude_unexplained, latitude_example
    FROM geo_tallies WHERE row_count > 0
  UNION ALL SELECT 'geo', 'longitude',
    longitude_missing, longitude_placeholder, longitude_unparseable,
    longitude_unexplained, longitude_example
    FROM geo_tallies WHERE row_count > 0
  UNION ALL SELECT 'geo', 'timestamp',
    timestamp_missing, timestamp_placeholder, timestamp_unparseable,
    timestamp_unexplained, timestamp_example
    FROM geo_tallies WHERE row_count > 0
  UNION ALL SELECT 'user', 'ind',
    ind_missing, ind_placeholder, ind_unparseable, ind_unexplained, ind_example
    FROM user_tallies WHERE row_count > 0
  UNION ALL SELECT 'user', 'first_name',
    first_name_missing, first_name_placeholder, first_name_unparseable,
    first_name_unexplained, first_name_example
    FROM user_tallies WHERE row_count > 0
  UNION ALL SELECT 'user', 'last_name',
    last_name_missing, last_name_placeholder, last_name_unparseable,
    last_name_unexplained, last_name_example
    FROM user_tallies WHERE row_count > 0
  UNION ALL SELECT 'user', 'age',
    age_missing, age_placeholder, age_unparseable, age_unexplained, age_example
    FROM user_tallies WHERE row_count > 0
  UNION ALL SELECT 'user', 'date_joined',
    date_joined_missing, date_joined_placeholder, date_joined_unparseable,
    date_joined_unexplained, date_joined_example
    FROM user_tallies WHERE row_count > 0
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
