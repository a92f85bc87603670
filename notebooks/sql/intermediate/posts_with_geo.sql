-- posts_with_geo: every post (a row of pin) with its place and year, from geo joined on ind.
-- The one pin-geo join: q1, q2 (through category_posts_by_year) and q3 (through
-- country_posters) read posts here. A post with no geo row is left out (an inner join).
-- post_year is the year of the geo timestamp (UTC).
-- Output: ind BIGINT, category, poster_name, follower_count BIGINT, country, post_year INT
SELECT
  p.ind,
  p.category,
  p.poster_name,
  p.follower_count,
  g.country,
  year(g.timestamp) AS post_year
FROM pin AS p
JOIN geo AS g ON p.ind = g.ind
