-- q5_median_followers_by_age_group: the median follower count of users in each age group.
-- Users are user_followers: a distinct (user_name, age, date_joined) of user, with the
-- follower_count of their posts, each distinct (user, follower_count) once, so a user is not
-- weighted by how often they posted. Age groups as in q4 (age_groups: '18-24' = 18..24,
-- '25-35' = 25..35, '36-50' = 36..50, '+50' = 51 and over); under 18, no age or no
-- follower_count: left out.
-- Median: percentile_cont(0.5), the mean of the two middle values for an even count (the same
-- in Spark and DuckDB, which the parity test checks).
-- Output: age_group, median_follower_count DOUBLE
-- Order: age_group youngest first ('18-24', '25-35', '36-50', '+50').
SELECT
  age_group,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY follower_count) AS median_follower_count
FROM user_followers
WHERE age_group IS NOT NULL
GROUP BY age_group, age_group_order
ORDER BY age_group_order
