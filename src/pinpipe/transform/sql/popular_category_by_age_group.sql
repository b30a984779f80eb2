-- Q4 (T7): the most popular category per age group; ties are kept.
WITH category_counts AS (
    SELECT u.age_group, u.age_group_order, p.category, COUNT(*) AS category_count
    FROM pin AS p
    INNER JOIN user_age_group AS u ON p.ind = u.ind
    GROUP BY u.age_group, u.age_group_order, p.category
),
ranked AS (
    SELECT
        age_group,
        age_group_order,
        category,
        category_count,
        RANK() OVER (PARTITION BY age_group ORDER BY category_count DESC) AS category_rank
    FROM category_counts
)
SELECT age_group, category, category_count
FROM ranked
WHERE category_rank = 1
ORDER BY age_group_order, category ASC NULLS LAST
