-- q3a_top_user_by_country: the user with the most followers in each country.
-- A user here is a poster: pin.poster_name with that post's follower_count; the country is that
-- of the post (geo joined on ind). Each distinct (country, poster_name, follower_count) counts
-- once. Posts with no country, poster_name or follower_count are left out. Ties are kept.
-- Output: country, poster_name, follower_count BIGINT
-- Order: country, poster_name.
WITH posters AS (
  SELECT DISTINCT g.country, p.poster_name, p.follower_count
  FROM pin AS p
  JOIN geo AS g ON p.ind = g.ind
  WHERE g.country IS NOT NULL AND p.poster_name IS NOT NULL AND p.follower_count IS NOT NULL
),
ranked AS (
  SELECT
    country,
    poster_name,
    follower_count,
    dense_rank() OVER (PARTITION BY country ORDER BY follower_count DESC) AS standing
  FROM posters
)
SELECT country, poster_name, follower_count
FROM ranked
WHERE standing = 1
ORDER BY country, poster_name
