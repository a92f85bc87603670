-- q2a_posts_by_category_year: how many posts each category had each year, 2018 to 2022.
-- The counts of category_posts_by_year: posts (rows of pin joined to geo on ind) by the year of
-- the post's geo timestamp (UTC). Posts outside 2018..2022, or with no timestamp or no category,
-- are left out. A category with no posts in a year has no row for that year.
-- Output: post_year INT, category, category_count BIGINT
-- Order: post_year, category.
SELECT post_year, category, category_count
FROM category_posts_by_year
ORDER BY post_year, category
