-- Q1 (T4): the most popular category per country; ties are kept (RANK() = 1).
WITH category_counts AS (
    SELECT g.country, p.category, COUNT(*) AS category_count
    FROM pin AS p
    INNER JOIN geo AS g ON p.ind = g.ind
    GROUP BY g.country, p.category
),
ranked AS (
    SELECT
        country,
        category,
        category_count,
        RANK() OVER (PARTITION BY country ORDER BY category_count DESC) AS category_rank
    FROM category_counts
)
SELECT country, category, category_count
FROM ranked
WHERE category_rank = 1
ORDER BY country ASC NULLS LAST, category ASC NULLS LAST
