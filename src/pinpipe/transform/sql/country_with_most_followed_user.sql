-- Q3b (T6 step 2): the one country whose most followed poster has the most followers;
-- a tie is broken by country ascending.
WITH joined AS (
    SELECT
        g.country,
        p.follower_count,
        MAX(p.follower_count) OVER (PARTITION BY g.country) AS max_follower_count
    FROM pin AS p
    INNER JOIN geo AS g ON p.ind = g.ind
),
most_followed AS (
    SELECT DISTINCT country, follower_count
    FROM joined
    WHERE follower_count = max_follower_count
)
SELECT country, follower_count
FROM most_followed
ORDER BY follower_count DESC, country ASC NULLS LAST
LIMIT 1
