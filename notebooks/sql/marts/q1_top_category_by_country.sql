-- q1_top_category_by_country: the most popular category in each country.
-- Counts posts (rows of pin joined to geo on ind); posts with no country or no category are left
-- out. Ties are kept: every category sharing a country's highest count is listed.
-- Output: country, category, category_count BIGINT
-- Order: country, category.
WITH counts AS (
  SELECT g.country, p.category, count(*) AS category_count
  FROM pin AS p
  JOIN geo AS g ON p.ind = g.ind
  WHERE g.country IS NOT NULL AND p.category IS NOT NULL
  GROUP BY g.country, p.category
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
