-- Q5 (T8): the discrete median follower count per age group (NULLs ignored).
SELECT
    u.age_group,
    PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY p.follower_count) AS median_follower_count
FROM pin AS p
INNER JOIN user_age_group AS u ON p.ind = u.ind
GROUP BY u.age_group, u.age_group_order
ORDER BY u.age_group_order
