-- user_followers: each user with the follower count of their posts, the users of q5, q7 and q8.
-- A user is a distinct (user_name, age, date_joined) of user, with the follower_count of their
-- posts (posts_with_user); each distinct (user, follower_count) counts once, so a user is not
-- weighted by how often they posted. Posts with no follower_count are left out. join_year,
-- age_group and age_group_order come from posts_with_user (they depend on age and date_joined
-- only, so they split no user in two).
-- Output: user_name, age INT, date_joined TIMESTAMP, join_year INT, follower_count BIGINT,
--   age_group, age_group_order INT
SELECT DISTINCT
  user_name,
  age,
  date_joined,
  join_year,
  follower_count,
  age_group,
  age_group_order
FROM posts_with_user
WHERE follower_count IS NOT NULL
