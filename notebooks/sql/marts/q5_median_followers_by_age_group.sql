-- q5_median_followers_by_age_group: the median follower count of users in each age group.
-- A user is a distinct (user_name, age, date_joined) of user, with the follower_count of their
-- posts (pin joined on ind); each distinct (user, follower_count) counts once, so a user is not
-- weighted by how often they posted. Age groups as in q4 ('18-24' = 18..24, '25-35' = 25..35,
-- '36-50' = 36..50, '+50' = 51 and over); under 18, no age or no follower_count: left out.
-- Median: percentile_cont(0.5), the mean of the two middle values for an even count (the same
-- in Spark and DuckDB, which the parity test checks).
-- Output: age_group, median_follower_count DOUBLE
-- Order: age_group youngest first ('18-24', '25-35', '36-50', '+50').
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
  WHERE p.follower_count IS NOT NULL
)
SELECT
  age_group,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY follower_count) AS median_follower_count
FROM users
WHERE age_group IS NOT NULL
GROUP BY age_group
ORDER BY CASE age_group WHEN '18-24' THEN 1 WHEN '25-35' THEN 2 WHEN '36-50' THEN 3 ELSE 4 END
