-- q7_median_followers_by_join_year: the median follower count of users by the year they joined,
-- 2015 to 2020.
-- Users and medians as in q5 (user_followers: each distinct (user_name, age, date_joined,
-- follower_count) once; percentile_cont(0.5)). The year is that of date_joined (UTC). Users with
-- no follower_count are left out; a year with no such user has no row (its median is undefined).
-- Output: join_year INT, median_follower_count DOUBLE
-- Order: join_year.
SELECT
  join_year,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY follower_count) AS median_follower_count
FROM user_followers
WHERE join_year BETWEEN 2015 AND 2020
GROUP BY join_year
ORDER BY join_year
