-- The cleaned user rows with the course's age group (18-24, 25-35, 36-50, +50) and its rank
-- for ordering results; one definition for the three age-group queries (Q4, Q5, Q8).
SELECT
    u.*,
    CASE
        WHEN u.age BETWEEN 18 AND 24 THEN '18-24'
        WHEN u.age BETWEEN 25 AND 35 THEN '25-35'
        WHEN u.age BETWEEN 36 AND 50 THEN '36-50'
        WHEN u.age > 50 THEN '+50'
    END AS age_group,
    CASE
        WHEN u.age BETWEEN 18 AND 24 THEN 1
        WHEN u.age BETWEEN 25 AND 35 THEN 2
        WHEN u.age BETWEEN 36 AND 50 THEN 3
        WHEN u.age > 50 THEN 4
        ELSE 5
    END AS age_group_order
FROM "user" AS u
