-- q8_median_followers_by_age_group_join_year: the median follower count of users by age group
-- and the year they joined, 2015 to 2020.
-- Users and medians as in q5 (user_followers: each distinct (user_name, age, date_joined,
-- follower_count) once; percentile_cont(0.5)); age groups as in q4 (age_groups: '18-24' = 18..24,
-- '25-35' = 25..35, '36-50' = 36..50, '+50' = 51 and over); the year is that of date_joined
-- (UTC). Under 18, no age or no follower_count: left out; a group and year with no users has no
-- row.
-- Output: age_group, join_year INT, median_follower_count DOUBLE
-- Order: age_group youngest first ('18-24', '25-35', '36-50', '+50'), then join_year.
SELECT
  age_group,
  join_year,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY follower_count) AS median_follower_count
FROM user_followers
WHERE age_group IS NOT NULL AND join_year BETWEEN 2015 AND 2020
GROUP BY age_group, age_group_order, join_year
ORDER BY age_group_order, join_year
