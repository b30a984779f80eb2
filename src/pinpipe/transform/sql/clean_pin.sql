-- Cleaned pin frame (SPEC §5.2, §5.3): exact duplicate raw rows dropped; every scraper
-- placeholder and every empty string -> NULL; follower_count "26k"/"1M"/"940" -> INTEGER;
-- save_location -> path only; index -> ind; the 11 course columns in course order
-- (downloaded is dropped).
WITH deduplicated AS (
    SELECT DISTINCT * FROM raw_pin
),
nulled AS (
    SELECT
        "index" AS ind,
        NULLIF(unique_id, '') AS unique_id,
        CASE WHEN title IN ('', 'No Title Data Available') THEN NULL ELSE title END AS title,
        CASE
            WHEN description IN (
                '', 'No description available Story format', 'No description available'
            ) THEN NULL
            ELSE description
        END AS description,
        CASE
            WHEN follower_count IN ('', 'User Info Error') THEN NULL ELSE follower_count
        END AS follower_count,
        CASE
            WHEN poster_name IN ('', 'User Info Error') THEN NULL ELSE poster_name
        END AS poster_name,
        CASE
            WHEN tag_list IN ('', 'N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e') THEN NULL ELSE tag_list
        END AS tag_list,
        NULLIF(is_image_or_video, '') AS is_image_or_video,
        CASE WHEN image_src IN ('', 'Image src error.') THEN NULL ELSE image_src END AS image_src,
        NULLIF(save_location, '') AS save_location,
        NULLIF(category, '') AS category
    FROM deduplicated
)
SELECT
    ind,
    unique_id,
    title,
    description,
    TRY_CAST(
        REPLACE(REPLACE(follower_count, 'k', '000'), 'M', '000000') AS INTEGER
    ) AS follower_count,
    poster_name,
    tag_list,
    is_image_or_video,
    image_src,
    -- after the placeholders became NULL (SPEC §5.3 order): a bare prefix leaves ''
    REPLACE(save_location, 'Local save in ', '') AS save_location,
    category
FROM nulled
