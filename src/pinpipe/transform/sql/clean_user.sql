-- Cleaned user frame (SPEC §5.2, §5.5): exact duplicate raw rows dropped;
-- user_name = first_name || ' ' || last_name; date_joined string -> TIMESTAMPTZ (UTC; NULL when unparsable);
-- columns ind, user_name, age, date_joined.
WITH deduplicated AS (
    SELECT DISTINCT * FROM raw_user
)
SELECT
    ind,
    first_name || ' ' || last_name AS user_name,
    age,
    TRY_CAST(date_joined AS TIMESTAMPTZ) AS date_joined
FROM deduplicated
