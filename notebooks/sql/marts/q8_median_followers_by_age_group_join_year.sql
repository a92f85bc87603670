-- q8_median_followers_by_age_group_join_year: the median follower count of users by age group
-- and the year they joined, 2015 to 2020.
-- Users and medians as in q5 (each distinct (user_name, age, date_joined, follower_count) once;
-- percentile_cont(0.5)); age groups as in q4 ('18-24' = 18..24, '25-35' = 25..35,
-- '36-50' = 36..50, '+50' = 51 and over); the year is that of date_joined (UTC). Under 18, no age
-- or no follower_count: left out; a group and year with no users has no row.
-- Output: age_group, join_year INT, median_follower_count DOUBLE
-- Order: age_group youngest first ('18-24', '25-35', '36-50', '+50'), then join_year.
WITH users AS (
  SELECT DISTINCT
    u.user_name,
    u.age,
    u.date_joined,
    p.follower_count,
    CASE
      WHEN u.age BETWEEN 18 AND 24 THEN '18-24'
      WHEN u.age BETWEEN 25 AND 35 THEN '25-35'
      WHEN u.age BETWEEN 36 AND 50 THEN '36-50'
      WHEN u.age >= 51 THEN '+50'
    END AS age_group
  FROM pin AS p
  JOIN user AS u ON p.ind = u.ind
  WHERE p.follower_count IS NOT NULL AND year(u.date_joined) BETWEEN 2015 AND 2020
)
SELECT
  age_group,
  year(date_joined) AS join_year,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY follower_count) AS median_follower_count
FROM users
WHERE age_group IS NOT NULL
GROUP BY age_group, year(date_joined)
ORDER BY
  CASE age_group WHEN '18-24' THEN 1 WHEN '25-35' THEN 2 WHEN '36-50' THEN 3 ELSE 4 END,
  join_year
