-- one row per (month, dimension): mean dimension score and its n among reached survey callbacks in [start, end]
WITH responses AS (
    SELECT r.month,
           r.attitude_score AS attitude,
           r.quality_score AS quality,
           r.timeliness_score AS timeliness,
           r.price_score AS price,
           r.environment_score AS environment
    FROM {{ ref('survey_responses') }} AS r
)
SELECT month, dimension, avg(score) AS mean, count(score) AS n
FROM (
    UNPIVOT responses
    ON attitude, quality, timeliness, price, environment
    INTO NAME dimension VALUE score
) AS u
GROUP BY month, dimension
ORDER BY month, list_position(['attitude', 'quality', 'timeliness', 'price', 'environment'], dimension)
