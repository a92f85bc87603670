-- q4_top_category_by_age_group: the most popular category in each age group.
-- Counts posts (rows of pin joined to user on ind). Age groups, by the user's age in whole years:
--   '18-24' = 18..24, '25-35' = 25..35, '36-50' = 36..50, '+50' = 51 and over.
-- Users under 18 or with no age, and posts with no category, are left out. Ties are kept.
-- Output: age_group, category, category_count BIGINT
-- Order: age_group youngest first ('18-24', '25-35', '36-50', '+50'), then category.
WITH grouped AS (
  SELECT
    CASE
      WHEN u.age BETWEEN 18 AND 24 THEN '18-24'
      WHEN u.age BETWEEN 25 AND 35 THEN '25-35'
      WHEN u.age BETWEEN 36 AND 50 THEN '36-50'
      WHEN u.age >= 51 THEN '+50'
    END AS age_group,
    p.category
  FROM pin AS p
  JOIN user AS u ON p.ind = u.ind
  WHERE p.category IS NOT NULL
),
counts AS (
  SELECT age_group, category, count(*) AS category_count
  FROM grouped
  WHERE age_group IS NOT NULL
  GROUP BY age_group, category
),
ranked AS (
  SELECT
    age_group,
    category,
    category_count,
    dense_rank() OVER (PARTITION BY age_group ORDER BY category_count DESC) AS popularity
  FROM counts
)
SELECT age_group, category, category_count
FROM ranked
WHERE popularity = 1
ORDER BY
  CASE age_group WHEN '18-24' THEN 1 WHEN '25-35' THEN 2 WHEN '36-50' THEN 3 ELSE 4 END,
  category
