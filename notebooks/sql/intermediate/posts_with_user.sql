-- posts_with_user: every post (a row of pin) with its user, from user joined on ind, and the
-- user's age group (age_groups).
-- The one pin-user join: q4 counts posts here, q5, q7 and q8 read users through user_followers.
-- A post with no user row is left out (an inner join); a user in no age group has age_group NULL.
-- join_year is the year of date_joined (UTC).
-- Output: ind BIGINT, category, follower_count BIGINT, user_name, age INT,
--   date_joined TIMESTAMP, join_year INT, age_group, age_group_order INT
SELECT
  p.ind,
  p.category,
  p.follower_count,
  u.user_name,
  u.age,
  u.date_joined,
  year(u.date_joined) AS join_year,
  a.age_group,
  a.age_group_order
FROM pin AS p
JOIN user AS u ON p.ind = u.ind
LEFT JOIN age_groups AS a
  ON u.age >= a.min_age AND (a.max_age IS NULL OR u.age <= a.max_age)
