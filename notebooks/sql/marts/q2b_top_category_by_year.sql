-- q2b_top_category_by_year: the most popular category each year, 2018 to 2022.
-- Counts posts exactly as q2a (category_posts_by_year, the year of the geo timestamp, UTC); ties
-- are kept: every category sharing a year's highest count is listed.
-- Output: post_year INT, category, category_count BIGINT
-- Order: post_year, category.
WITH ranked AS (
  SELECT
    post_year,
    category,
    category_count,
    dense_rank() OVER (PARTITION BY post_year ORDER BY category_count DESC) AS popularity
  FROM category_posts_by_year
)
SELECT post_year, category, category_count
FROM ranked
WHERE popularity = 1
ORDER BY post_year, category
