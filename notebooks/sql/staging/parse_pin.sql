-- parse_pin: every raw pin record (view raw_pin, one row per JSON record, fields as text),
-- typed and cleaned, one output row per input row (no de-duplication here; clean_pin does it).
-- Placeholders become NULL; anything neither missing, a placeholder nor parseable becomes NULL
-- too, but its <column>_status says 'unparseable', so checks/null_reasons.sql counts it.
--   follower_count: "892" -> 892, "51k" -> 51000, "1.2k" -> 1200, "2.5M" -> 2500000, "3B" -> 3000000000
--     (k/M/B in either case; decimals exact, so only as many decimals as the multiplier has zeros).
--     The number is read as a decimal just wide enough for its pattern: "k" counts (most rows) as
--     DECIMAL(12, 3), whose product by 1000 DuckDB keeps in 18 digits (a 64-bit integer); "M" and
--     "B" counts as DECIMAL(18, 9), widened to 38 digits for the product, which would overflow 18.
--     DuckDB 1.5 parses text into a 38-digit decimal about a hundred times more slowly, and
--     multiplies 38-digit decimals about four times more slowly, than 18-digit ones.
--   index -> ind (BIGINT), downloaded -> INT (0 or 1), save_location "Local save in /data/x" -> "/data/x".
--   Placeholders: title "No Title Data Available"; description "No description available..." (every
--     variant starting so); poster_name and follower_count "User Info Error"; image_src
--     "Image src error."; tag_list "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e".
-- Output columns, in order:
--   ind, unique_id, title, description, follower_count, poster_name, tag_list, is_image_or_video,
--   image_src, save_location, category, downloaded,
--   then for each of those a <column>_status ('ok' | 'missing' | 'placeholder' | 'unparseable'),
--   then the raw text of the parsed columns: index_raw, follower_count_raw, downloaded_raw,
--   save_location_raw, is_image_or_video_raw.
-- Regular expressions use [0-9] and [.] (never backslashes) so Spark and DuckDB read them alike.
WITH src AS (
  SELECT
    CAST(index AS STRING) AS index_raw,
    CAST(unique_id AS STRING) AS unique_id_raw,
    CAST(title AS STRING) AS title_raw,
    CAST(description AS STRING) AS description_raw,
    CAST(poster_name AS STRING) AS poster_name_raw,
    CAST(follower_count AS STRING) AS follower_count_raw,
    CAST(tag_list AS STRING) AS tag_list_raw,
    CAST(is_image_or_video AS STRING) AS is_image_or_video_raw,
    CAST(image_src AS STRING) AS image_src_raw,
    CAST(downloaded AS STRING) AS downloaded_raw,
    CAST(save_location AS STRING) AS save_location_raw,
    CAST(category AS STRING) AS category_raw
  FROM raw_pin
),
flagged AS (
  SELECT
    *,
    COALESCE(title_raw = 'No Title Data Available', FALSE) AS title_is_placeholder,
    COALESCE(description_raw LIKE 'No description available%', FALSE) AS description_is_placeholder,
    COALESCE(poster_name_raw = 'User Info Error', FALSE) AS poster_name_is_placeholder,
    COALESCE(follower_count_raw = 'User Info Error', FALSE) AS follower_count_is_placeholder,
    COALESCE(tag_list_raw = 'N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e', FALSE) AS tag_list_is_placeholder,
    COALESCE(image_src_raw = 'Image src error.', FALSE) AS image_src_is_placeholder
  FROM src
),
typed AS (
  SELECT
    *,
    CASE
      WHEN regexp_like(index_raw, '^-?[0-9]{1,18}$') THEN CAST(index_raw AS BIGINT)
    END AS ind,
    unique_id_raw AS unique_id,
    CASE WHEN NOT title_is_placeholder THEN title_raw END AS title,
    CASE WHEN NOT description_is_placeholder THEN description_raw END AS description,
    CASE
      WHEN follower_count_is_placeholder THEN NULL
      WHEN regexp_like(follower_count_raw, '^[0-9]{1,18}$')
        THEN CAST(follower_count_raw AS BIGINT)
      WHEN regexp_like(follower_count_raw, '^[0-9]{1,9}([.][0-9]{1,3})?[kK]$')
        THEN CAST(CAST(substr(follower_count_raw, 1, length(follower_count_raw) - 1)
          AS DECIMAL(12, 3)) * 1000 AS BIGINT)
      WHEN regexp_like(follower_count_raw, '^[0-9]{1,9}([.][0-9]{1,6})?[mM]$')
        THEN CAST(CAST(CAST(substr(follower_count_raw, 1, length(follower_count_raw) - 1)
          AS DECIMAL(18, 9)) AS DECIMAL(38, 9)) * 1000000 AS BIGINT)
      WHEN regexp_like(follower_count_raw, '^[0-9]{1,9}([.][0-9]{1,9})?[bB]$')
        THEN CAST(CAST(CAST(substr(follower_count_raw, 1, length(follower_count_raw) - 1)
          AS DECIMAL(18, 9)) AS DECIMAL(38, 9)) * 1000000000 AS BIGINT)
    END AS follower_count,
    CASE WHEN NOT poster_name_is_placeholder THEN poster_name_raw END AS poster_name,
    CASE WHEN NOT tag_list_is_placeholder THEN tag_list_raw END AS tag_list,
    CASE
      WHEN is_image_or_video_raw IN ('image', 'video', 'multi-video(story page format)')
        THEN is_image_or_video_raw
    END AS is_image_or_video,
    CASE WHEN NOT image_src_is_placeholder THEN image_src_raw END AS image_src,
    CASE
      WHEN save_location_raw LIKE 'Local save in /%' THEN substr(save_location_raw, 15)
      WHEN save_location_raw LIKE '/%' THEN save_location_raw
    END AS save_location,
    category_raw AS category,
    CASE WHEN downloaded_raw IN ('0', '1') THEN CAST(downloaded_raw AS INT) END AS downloaded
  FROM flagged
)
SELECT
  ind,
  unique_id,
  title,
  description,
  follower_count,
  poster_name,
  tag_list,
  is_image_or_video,
  image_src,
  save_location,
  category,
  downloaded,
  CASE
    WHEN index_raw IS NULL THEN 'missing'
    WHEN ind IS NULL THEN 'unparseable'
    ELSE 'ok'
  END AS ind_status,
  CASE WHEN unique_id_raw IS NULL THEN 'missing' ELSE 'ok' END AS unique_id_status,
  CASE
    WHEN title_raw IS NULL THEN 'missing'
    WHEN title_is_placeholder THEN 'placeholder'
    ELSE 'ok'
  END AS title_status,
  CASE
    WHEN description_raw IS NULL THEN 'missing'
    WHEN description_is_placeholder THEN 'placeholder'
    ELSE 'ok'
  END AS description_status,
  CASE
    WHEN follower_count_raw IS NULL THEN 'missing'
    WHEN follower_count_is_placeholder THEN 'placeholder'
    WHEN follower_count IS NULL THEN 'unparseable'
    ELSE 'ok'
  END AS follower_count_status,
  CASE
    WHEN poster_name_raw IS NULL THEN 'missing'
    WHEN poster_name_is_placeholder THEN 'placeholder'
    ELSE 'ok'
  END AS poster_name_status,
  CASE
    WHEN tag_list_raw IS NULL THEN 'missing'
    WHEN tag_list_is_placeholder THEN 'placeholder'
    ELSE 'ok'
  END AS tag_list_status,
  CASE
    WHEN is_image_or_video_raw IS NULL THEN 'missing'
    WHEN is_image_or_video IS NULL THEN 'unparseable'
    ELSE 'ok'
  END AS is_image_or_video_status,
  CASE
    WHEN image_src_raw IS NULL THEN 'missing'
    WHEN image_src_is_placeholder THEN 'placeholder'
    ELSE 'ok'
  END AS image_src_status,
  CASE
    WHEN save_location_raw IS NULL THEN 'missing'
    WHEN save_location IS NULL THEN 'unparseable'
    ELSE 'ok'
  END AS save_location_status,
  CASE WHEN category_raw IS NULL THEN 'missing' ELSE 'ok' END AS category_status,
  CASE
    WHEN downloaded_raw IS NULL THEN 'missing'
    WHEN downloaded IS NULL THEN 'unparseable'
    ELSE 'ok'
  END AS downloaded_status,
  index_raw,
  follower_count_raw,
  downloaded_raw,
  save_location_raw,
  is_image_or_video_raw
FROM typed
