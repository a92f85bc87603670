-- clean_user: the cleaned user table, as the original notebook's df_user.
-- Reads user_parsed (the view made from parse_user.sql) and drops exact duplicates.
-- Output columns, in the original's order:
--   ind BIGINT, user_name, age INT, date_joined TIMESTAMP
-- No order: a table, not an answer.
SELECT DISTINCT
  ind,
  user_name,
  age,
  date_joined
FROM user_parsed
