-- Cleaned geo frame (SPEC §5.2, §5.4): exact duplicate raw rows dropped; coordinates =
-- [latitude, longitude] (array of DOUBLE); timestamp string ("YYYY-MM-DD HH:MM:SS" or the ISO
-- "T" form) -> TIMESTAMPTZ (UTC; NULL when unparsable); columns ind, country, coordinates, timestamp.
WITH deduplicated AS (
    SELECT DISTINCT * FROM raw_geo
)
SELECT
    ind,
    country,  -- kept as given: SPEC §5.4 nulls nothing in geo (only df_pin's '' become NULL)
    ARRAY[CAST(latitude AS DOUBLE), CAST(longitude AS DOUBLE)] AS coordinates,
    TRY_CAST("timestamp" AS TIMESTAMPTZ) AS "timestamp"
FROM deduplicated
