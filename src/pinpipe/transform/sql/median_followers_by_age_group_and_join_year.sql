-- Q8 (T11): the discrete median follower count per (age group, join year), 2015 to 2020.
WITH joined AS (
    SELECT
        CASE
            WHEN u.age BETWEEN 18 AND 24 THEN '18-24'
            WHEN u.age BETWEEN 25 AND 35 THEN '25-35'
            WHEN u.age BETWEEN 36 AND 50 THEN '36-50'
            WHEN u.age > 50 THEN '+50'
        END AS age_group,
        EXTRACT(YEAR FROM u.date_joined) AS post_year,
        p.follower_count
    FROM pin AS p
    INNER JOIN "user" AS u ON p.ind = u.ind
    WHERE EXTRACT(YEAR FROM u.date_joined) BETWEEN 2015 AND 2020
)
SELECT
    age_group,
    post_year,
    PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY follower_count) AS median_follower_count
FROM joined
GROUP BY age_group, post_year
ORDER BY
    CASE age_group WHEN '18-24' THEN 1 WHEN '25-35' THEN 2 WHEN '36-50' THEN 3 WHEN '+50' THEN 4
    ELSE 5 END,
    post_year ASC
