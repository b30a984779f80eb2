-- Q7 (T10): the discrete median follower count per join year, 2015 to 2020 (NULLs ignored).
WITH joined AS (
    SELECT EXTRACT(YEAR FROM u.date_joined) AS post_year, p.follower_count
    FROM pin AS p
    INNER JOIN "user" AS u ON p.ind = u.ind
    WHERE EXTRACT(YEAR FROM u.date_joined) BETWEEN 2015 AND 2020
)
SELECT
    post_year,
    PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY follower_count) AS median_follower_count
FROM joined
GROUP BY post_year
ORDER BY post_year ASC
