-- clean_pin: the cleaned pin table, as the original notebook's df_pin, without its bugs.
-- Reads pin_parsed (the view made from parse_pin.sql) and drops exact duplicates.
-- Output columns, in the original's order, then downloaded (which the original converted but
-- left out of its final select; kept here so nothing is lost):
--   ind BIGINT, unique_id, title, description, follower_count BIGINT, poster_name, tag_list,
--   is_image_or_video, image_src, save_location, category, downloaded INT
-- No order: a table, not an answer.
SELECT DISTINCT
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
  downloaded
FROM pin_parsed
