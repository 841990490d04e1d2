-- one row per requested as-of date: active base, lost and at-risk vehicle counts
WITH as_of_dates AS (
    SELECT DISTINCT unnest($as_of_dates::DATE[]) AS as_of
),
status AS (
    SELECT * FROM {{ ref('vehicle_status') }} AS s
)
SELECT a.as_of,
       count(s.vin) AS base,
       count(s.vin) FILTER (WHERE s.status = 'lost') AS lost,
       count(s.vin) FILTER (WHERE s.status = 'at_risk') AS at_risk
FROM as_of_dates AS a
LEFT JOIN status AS s USING (as_of)
GROUP BY a.as_of
ORDER BY a.as_of
