-- country_posters: the posters of each country, the users of q3a and q3b.
-- A user here is a poster: pin.poster_name with that post's follower_count; the country is that
-- of the post (posts_with_geo). Each distinct (country, poster_name, follower_count) counts once.
-- Posts with no country, poster_name or follower_count are left out.
-- Output: country, poster_name, follower_count BIGINT
SELECT DISTINCT country, poster_name, follower_count
FROM posts_with_geo
WHERE country IS NOT NULL AND poster_name IS NOT NULL AND follower_count IS NOT NULL
