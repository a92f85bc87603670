-- category_posts_by_year: how many posts each category had each year, 2018 to 2022.
-- Counts posts of posts_with_geo (the year of the post's geo timestamp, UTC). Posts outside
-- 2018..2022, or with no timestamp or no category, are left out. A category with no posts in a
-- year has no row for that year. q2a lists it, q2b ranks it.
-- Output: post_year INT, category, category_count BIGINT
SELECT post_year, category, count(*) AS category_count
FROM posts_with_geo
WHERE post_year BETWEEN 2018 AND 2022 AND category IS NOT NULL
GROUP BY post_year, category
