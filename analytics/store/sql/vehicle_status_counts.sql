-- one row per (as-of date, status) with vehicles in the active base on it: how many have that status
SELECT s.as_of, s.status, count(*) AS vehicles
FROM {{ ref('vehicle_status') }} AS s
GROUP BY s.as_of, s.status
ORDER BY s.as_of, s.status
