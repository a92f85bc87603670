-- q2a_posts_by_category_year: how many posts each category had each year, 2018 to 2022.
-- Counts posts (rows of pin joined to geo on ind); the year is that of the post's geo timestamp
-- (UTC). Posts outside 2018..2022, or with no timestamp or no category, are left out. A category
-- with no posts in a year has no row for that year.
-- Output: post_year INT, category, category_count BIGINT
-- Order: post_year, category.
SELECT year(g.timestamp) AS post_year, p.category, count(*) AS category_count
FROM pin AS p
JOIN geo AS g ON p.ind = g.ind
WHERE year(g.timestamp) BETWEEN 2018 AND 2022 AND p.category IS NOT NULL
GROUP BY year(g.timestamp), p.category
ORDER BY post_year, category
