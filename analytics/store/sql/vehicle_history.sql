-- one row per (as-of date, vehicle with a visit on or before it): its orders up to that date summarised
-- Running totals are built once per vehicle and visit day; each as-of date then takes the
-- vehicle's latest visit day on or before it, so a KPI for a past month never sees later
-- visits and twelve months cost one pass over the orders. Maintenance gaps are the days
-- between distinct maintenance-type visit days. km_per_day: the median of the paces between
-- consecutive odometer readings so far (the purchase day counting as 0 km before the first), a
-- pace running backwards or faster than $max_km_per_day left out as a keying error.
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
steps AS (
    SELECT *,
           CASE WHEN maintenance THEN date_diff('day', max(CASE WHEN maintenance THEN visit_date END) OVER p,
               visit_date) END AS maintenance_gap,
           last_value(last_km IGNORE NULLS) OVER p AS prev_km,
           max(CASE WHEN last_km IS NOT NULL THEN visit_date END) OVER p AS prev_km_date,
           min(purchase_date) OVER (
               PARTITION BY vin ORDER BY visit_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
           ) AS purchase_so_far
    FROM days
    WINDOW p AS (PARTITION BY vin ORDER BY visit_date ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
gaps AS (
    SELECT * EXCLUDE (pace),
           CASE WHEN pace >= 0 AND pace <= $max_km_per_day THEN pace END AS pace
    FROM (
        SELECT *, {{ macro('odometer_pace', 'first_km') }} AS pace
        FROM steps
    )
),
snapshots AS (
    SELECT vin, visit_date, store,
           lead(visit_date) OVER (PARTITION BY vin ORDER BY visit_date) AS next_visit,
           max(CASE WHEN maintenance THEN visit_date END) OVER w AS last_maintenance,
           count(maintenance_gap) OVER w AS maintenance_gaps,
           median(maintenance_gap) OVER w AS median_gap_days,
           min(purchase_date) OVER w AS purchase_date,
           last_value(last_km IGNORE NULLS) OVER w AS last_km,
           median(pace) OVER w AS km_per_day
    FROM gaps
    WINDOW w AS (PARTITION BY vin ORDER BY visit_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT a.as_of, s.vin, s.store, s.visit_date AS last_visit, s.last_maintenance,
       s.purchase_date, s.last_km, s.km_per_day,
       s.maintenance_gaps,
       s.median_gap_days
FROM snapshots AS s
JOIN as_of_dates AS a
    ON s.visit_date <= a.as_of AND (s.next_visit IS NULL OR s.next_visit > a.as_of)
