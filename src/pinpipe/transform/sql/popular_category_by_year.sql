-- Q2 (T5): the most popular category per post year, 2018 to 2022; ties are kept.
WITH category_counts AS (
    SELECT
        EXTRACT(YEAR FROM g."timestamp") AS post_year,
        p.category,
        COUNT(*) AS category_count
    FROM pin AS p
    INNER JOIN geo AS g ON p.ind = g.ind
    WHERE EXTRACT(YEAR FROM g."timestamp") BETWEEN 2018 AND 2022
    GROUP BY EXTRACT(YEAR FROM g."timestamp"), p.category
),
ranked AS (
    SELECT
        post_year,
        category,
        category_count,
        RANK() OVER (PARTITION BY post_year ORDER BY category_count DESC) AS category_rank
    FROM category_counts
)
SELECT post_year, category, category_count
FROM ranked
WHERE category_rank = 1
ORDER BY post_year ASC, category ASC NULLS LAST
