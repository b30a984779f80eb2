-- Q6 (T9): distinct users (user_name, age, date_joined) per join year, 2015 to 2020.
-- The column is named post_year as in the course text; it is the year of date_joined.
WITH distinct_users AS (
    SELECT DISTINCT user_name, age, date_joined
    FROM "user"
    WHERE EXTRACT(YEAR FROM date_joined) BETWEEN 2015 AND 2020
)
SELECT EXTRACT(YEAR FROM date_joined) AS post_year, COUNT(*) AS number_users_joined
FROM distinct_users
GROUP BY EXTRACT(YEAR FROM date_joined)
ORDER BY post_year ASC
