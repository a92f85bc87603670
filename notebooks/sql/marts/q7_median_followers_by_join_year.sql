-- q7_median_followers_by_join_year: the median follower count of users by the year they joined,
-- 2015 to 2020.
-- Users and medians as in q5: each distinct (user_name, age, date_joined, follower_count) counts
-- once; percentile_cont(0.5). The year is that of date_joined (UTC). Users with no follower_count
-- are left out; a year with no such user has no row (its median is undefined).
-- Output: join_year INT, median_follower_count DOUBLE
-- Order: join_year.
WITH users AS (
  SELECT DISTINCT u.user_name, u.age, u.date_joined, p.follower_count
  FROM pin AS p
  JOIN user AS u ON p.ind = u.ind
  WHERE p.follower_count IS NOT NULL AND year(u.date_joined) BETWEEN 2015 AND 2020
)
SELECT
  year(date_joined) AS join_year,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY follower_count) AS median_follower_count
FROM users
GROUP BY year(date_joined)
ORDER BY join_year
