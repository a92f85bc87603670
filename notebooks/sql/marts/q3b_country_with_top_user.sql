-- q3b_country_with_top_user: the country whose top user (as in q3a) has the most followers.
-- Same posters as q3a (country_posters); the country or countries (ties kept) whose top
-- follower_count is the highest of all.
-- Output: country, follower_count BIGINT
-- Order: country.
WITH country_top AS (
  SELECT country, max(follower_count) AS follower_count
  FROM country_posters
  GROUP BY country
),
ranked AS (
  SELECT
    country,
    follower_count,
    dense_rank() OVER (ORDER BY follower_count DESC) AS standing
  FROM country_top
)
SELECT country, follower_count
FROM ranked
WHERE standing = 1
ORDER BY country
