-- one row per first and second maintenance-type visit on or before as_of, numbered from the vehicle's
-- first maintenance (首保), with the date of the next one (the retention transitions 1-2 and 2-3)
-- Only vehicles whose first maintenance is in the data are numbered, so a car first seen at its
-- fifth service is not counted as a newcomer. Several maintenance orders on one day count once.
WITH maintenance AS (
    SELECT vin, visit_date,
           arg_min(advisor, order_id) AS advisor,
           arg_min(model, order_id) AS model,
           arg_min(store, order_id) AS store,
           bool_or(service_type = 'first_maintenance') AS is_first
    FROM service_orders
    WHERE vin IS NOT NULL AND visit_date <= $as_of
      AND service_type IN ('first_maintenance', 'maintenance')
    GROUP BY vin, visit_date
),
anchored AS (
    SELECT m.*, min(visit_date) FILTER (WHERE is_first) OVER (PARTITION BY vin) AS first_date
    FROM maintenance AS m
),
numbered AS (
    SELECT vin, visit_date, advisor, model, store,
           row_number() OVER (PARTITION BY vin ORDER BY visit_date) AS step,
           lead(visit_date) OVER (PARTITION BY vin ORDER BY visit_date) AS next_date
    FROM anchored
    WHERE first_date IS NOT NULL AND visit_date >= first_date
)
SELECT vin, step, visit_date, next_date, advisor, model, store
FROM numbered
WHERE step <= 2 AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], store))
ORDER BY vin, step
