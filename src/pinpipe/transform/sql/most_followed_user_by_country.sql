-- Q3a (T6 step 1): per country, the poster(s) with the most followers (ties kept, distinct).
WITH joined AS (
    SELECT
        g.country,
        p.poster_name,
        p.follower_count,
        MAX(p.follower_count) OVER (PARTITION BY g.country) AS max_follower_count
    FROM pin AS p
    INNER JOIN geo AS g ON p.ind = g.ind
)
SELECT DISTINCT country, poster_name, follower_count
FROM joined
WHERE follower_count = max_follower_count
ORDER BY country ASC NULLS LAST, poster_name ASC NULLS LAST
