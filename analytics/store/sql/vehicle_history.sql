-- one row per (as-of date, vehicle with a visit on or before it): its orders up to that date summarised
-- Running totals are built once per vehicle and visit day; each as-of date then takes the
-- vehicle's latest visit day on or before it, so a KPI for a past month never sees later
-- visits and twelve months cost one pass over the orders. Maintenance gaps are the days
-- between distinct maintenance-type visit days. km_per_day: the slope between the first and
-- last odometer readings when they move forward over time, else the last reading over the
-- days since purchase.
WITH as_of_dates AS (
    SELECT DISTINCT unnest($as_of_dates::DATE[]) AS as_of
),
days AS (
    SELECT vin, visit_date,
           arg_max(store, order_id) AS store,
           count(*) AS orders,
           bool_or(service_type IN ('first_maintenance', 'maintenance')) AS maintenance,
           min(purchase_date) AS purchase_date,
           arg_min(mileage_km, order_id) FILTER (WHERE mileage_km IS NOT NULL) AS first_km,
           arg_max(mileage_km, order_id) FILTER (WHERE mileage_km IS NOT NULL) AS last_km
    FROM service_orders
    WHERE vin IS NOT NULL
    GROUP BY vin, visit_date
),
gaps AS (
    SELECT *,
           CASE WHEN maintenance THEN date_diff('day', max(CASE WHEN maintenance THEN visit_date END) OVER (
               PARTITION BY vin ORDER BY visit_date ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ), visit_date) END AS maintenance_gap
    FROM days
),
first_readings AS (
    -- A vehicle's first odometer reading is the same on every as-of date that comes after it.
    SELECT vin,
           min(visit_date) AS first_km_date,
           arg_min(first_km, visit_date) AS first_km
    FROM days
    WHERE first_km IS NOT NULL
    GROUP BY vin
),
snapshots AS (
    SELECT vin, visit_date, store,
           lead(visit_date) OVER (PARTITION BY vin ORDER BY visit_date) AS next_visit,
           max(CASE WHEN maintenance THEN visit_date END) OVER w AS last_maintenance,
           count(maintenance_gap) OVER w AS maintenance_gaps,
           median(maintenance_gap) OVER w AS median_gap_days,
           min(purchase_date) OVER w AS purchase_date,
           last_value(last_km IGNORE NULLS) OVER w AS last_km,
           last_value(CASE WHEN last_km IS NOT NULL THEN visit_date END IGNORE NULLS) OVER w AS last_km_date
    FROM gaps
    WINDOW w AS (PARTITION BY vin ORDER BY visit_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
readings AS (
    SELECT s.*, f.first_km, f.first_km_date
    FROM snapshots AS s
    LEFT JOIN first_readings AS f ON f.vin = s.vin AND f.first_km_date <= s.visit_date
)
SELECT a.as_of, s.vin, s.store, s.visit_date AS last_visit, s.last_maintenance,
       s.purchase_date, s.last_km,
       CASE
           WHEN s.last_km_date > s.first_km_date AND s.last_km >= s.first_km
               THEN (s.last_km - s.first_km) / date_diff('day', s.first_km_date, s.last_km_date)
           WHEN s.last_km_date > s.purchase_date
               THEN s.last_km / date_diff('day', s.purchase_date, s.last_km_date)
       END AS km_per_day,
       s.maintenance_gaps,
       s.median_gap_days
FROM readings AS s
JOIN as_of_dates AS a
    ON s.visit_date <= a.as_of AND (s.next_visit IS NULL OR s.next_visit > a.as_of)
