-- q3a_top_user_by_country: the user with the most followers in each country.
-- Users are country_posters: a poster (pin.poster_name with that post's follower_count) in the
-- country of the post, each distinct (country, poster_name, follower_count) once; posts with no
-- country, poster_name or follower_count are left out. Ties are kept.
-- Output: country, poster_name, follower_count BIGINT
-- Order: country, poster_name.
WITH ranked AS (
  SELECT
    country,
    poster_name,
    follower_count,
    dense_rank() OVER (PARTITION BY country ORDER BY follower_count DESC) AS standing
  FROM country_posters
)
SELECT country, poster_name, follower_count
FROM ranked
WHERE standing = 1
ORDER BY country, poster_name
