-- q2b_top_category_by_year: the most popular category each year, 2018 to 2022.
-- Counts posts exactly as q2a (year of the geo timestamp, UTC); ties are kept: every category
-- sharing a year's highest count is listed.
-- Output: post_year INT, category, category_count BIGINT
-- Order: post_year, category.
WITH counts AS (
  SELECT year(g.timestamp) AS post_year, p.category, count(*) AS category_count
  FROM pin AS p
  JOIN geo AS g ON p.ind = g.ind
  WHERE year(g.timestamp) BETWEEN 2018 AND 2022 AND p.category IS NOT NULL
  GROUP BY year(g.timestamp), p.category
),
ranked AS (
  SELECT
    post_year,
    category,
    category_count,
    dense_rank() OVER (PARTITION BY post_year ORDER BY category_count DESC) AS popularity
  FROM counts
)
SELECT post_year, category, category_count
FROM ranked
WHERE popularity = 1
ORDER BY post_year, category
