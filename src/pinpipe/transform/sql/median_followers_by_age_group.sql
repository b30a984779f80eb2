-- Q5 (T8): the discrete median follower count per age group (NULLs ignored).
WITH grouped AS (
    SELECT
        CASE
            WHEN u.age BETWEEN 18 AND 24 THEN '18-24'
            WHEN u.age BETWEEN 25 AND 35 THEN '25-35'
            WHEN u.age BETWEEN 36 AND 50 THEN '36-50'
            WHEN u.age > 50 THEN '+50'
        END AS age_group,
        p.follower_count
    FROM pin AS p
    INNER JOIN "user" AS u ON p.ind = u.ind
)
SELECT
    age_group,
    PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY follower_count) AS median_follower_count
FROM grouped
GROUP BY age_group
ORDER BY
    CASE age_group WHEN '18-24' THEN 1 WHEN '25-35' THEN 2 WHEN '36-50' THEN 3 WHEN '+50' THEN 4
    ELSE 5 END
