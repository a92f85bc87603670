-- q4_top_category_by_age_group: the most popular category in each age group.
-- Counts posts (posts_with_user: rows of pin joined to user on ind). Age groups as age_groups
-- defines them, by the user's age in whole years: '18-24' = 18..24, '25-35' = 25..35,
-- '36-50' = 36..50, '+50' = 51 and over. Users under 18 or with no age, and posts with no
-- category, are left out. Ties are kept.
-- Output: age_group, category, category_count BIGINT
-- Order: age_group youngest first ('18-24', '25-35', '36-50', '+50'), then category.
WITH counts AS (
  SELECT age_group, age_group_order, category, count(*) AS category_count
  FROM posts_with_user
  WHERE age_group IS NOT NULL AND category IS NOT NULL
  GROUP BY age_group, age_group_order, category
),
ranked AS (
  SELECT
    age_group,
    age_group_order,
    category,
    category_count,
    dense_rank() OVER (PARTITION BY age_group ORDER BY category_count DESC) AS popularity
  FROM counts
)
SELECT age_group, category, category_count
FROM ranked
WHERE popularity = 1
ORDER BY age_group_order, category
