-- q3a_top_user_by_country: the user with the most followers in each country.
-- Users are country_posters: a poster (pin.poster_name with that post's follower_count) in the
-- country of the post, each distinct (country, poster_name, follower_count) once; posts with no
-- country, poster_name or follower_count are left out. Ties are kept.
-- Output: country, poster_name, follower_count BIGINT
-- Order: country, poster_name.
-- The top is the country's largest follower count (a max over the country, where ranking every
-- poster would sort them all).
WITH ranked AS (
  SELECT
    country,
    poster_name,
    follower_count,
    max(follower_count) OVER (PARTITION BY country) AS country_top
  FROM country_posters
)
SELECT country, poster_name, follower_count
FROM ranked
WHERE follower_count = country_top
ORDER BY country, poster_name
