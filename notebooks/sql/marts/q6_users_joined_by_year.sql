-- q6_users_joined_by_year: how many users joined each year, 2015 to 2020.
-- Counts distinct users, a user being a distinct (user_name, age, date_joined) of user; the year
-- is that of date_joined (UTC). Every year 2015..2020 has a row, 0 when nobody joined.
-- Output: join_year INT, number_users BIGINT
-- Order: join_year.
WITH users AS (
  SELECT DISTINCT user_name, age, date_joined
  FROM user
  WHERE year(date_joined) BETWEEN 2015 AND 2020
),
per_year AS (
  SELECT year(date_joined) AS join_year, count(*) AS number_users
  FROM users
  GROUP BY year(date_joined)
)
SELECT y.join_year, COALESCE(c.number_users, 0) AS number_users
FROM (VALUES (2015), (2016), (2017), (2018), (2019), (2020)) AS y(join_year)
LEFT JOIN per_year AS c ON y.join_year = c.join_year
ORDER BY y.join_year
