-- one row per (as-of date, vehicle in the active base): its status, store, car model and the advisor of its last visit
-- The statuses of vehicle_status.sql, so lost and at-risk counts split over stores, models and advisors.
WITH status AS (
    SELECT * FROM {{ ref('vehicle_status') }} AS s
),
last_advisor AS (
    SELECT o.vin, o.visit_date, arg_max(o.advisor, o.order_id) AS advisor
    FROM service_orders AS o
    WHERE o.vin IN (SELECT vin FROM status)
    GROUP BY o.vin, o.visit_date
)
SELECT s.as_of, s.vin, s.status, s.store, v.model, a.advisor
FROM status AS s
LEFT JOIN vehicles AS v ON v.vin = s.vin
LEFT JOIN last_advisor AS a ON a.vin = s.vin AND a.visit_date = s.last_visit
