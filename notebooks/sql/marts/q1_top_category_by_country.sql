-- q1_top_category_by_country: the most popular category in each country.
-- Counts posts (posts_with_geo: rows of pin joined to geo on ind); posts with no country or no
-- category are left out. Ties are kept: every category sharing a country's highest count is listed.
-- Output: country, category, category_count BIGINT
-- Order: country, category.
WITH counts AS (
  SELECT country, category, count(*) AS category_count
  FROM posts_with_geo
  WHERE country IS NOT NULL AND category IS NOT NULL
  GROUP BY country, category
),
ranked AS (
  SELECT
    country,
    category,
    category_count,
    dense_rank() OVER (PARTITION BY country ORDER BY category_count DESC) AS popularity
  FROM counts
)
SELECT country, category, category_count
FROM ranked
WHERE popularity = 1
ORDER BY country, category
