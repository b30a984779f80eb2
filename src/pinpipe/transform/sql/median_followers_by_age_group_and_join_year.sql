-- Q8 (T11): the discrete median follower count per (age group, join year), 2015 to 2020.
WITH joined AS (
    SELECT
        u.age_group,
        u.age_group_order,
        EXTRACT(YEAR FROM u.date_joined) AS post_year,
        p.follower_count
    FROM pin AS p
    INNER JOIN user_age_group AS u ON p.ind = u.ind
    WHERE EXTRACT(YEAR FROM u.date_joined) BETWEEN 2015 AND 2020
)
SELECT
    age_group,
    post_year,
    PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY follower_count) AS median_follower_count
FROM joined
GROUP BY age_group, age_group_order, post_year
ORDER BY age_group_order, post_year ASC
