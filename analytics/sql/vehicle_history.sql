-- one row per (as-of date, vehicle): its orders on or before that date summarised
-- Everything here uses only the orders known on the as-of date, so a KPI for a past month does
-- not see later visits. km_per_day: the slope between the first and last odometer readings when
-- they move forward over time, else the last reading over the days since purchase.
WITH as_of_dates AS (
    SELECT DISTINCT unnest($as_of_dates::DATE[]) AS as_of
),
known AS (
    SELECT a.as_of, o.*
    FROM as_of_dates AS a
    JOIN service_orders AS o ON o.visit_date <= a.as_of
    WHERE o.vin IS NOT NULL
),
maintenance_days AS (
    SELECT DISTINCT as_of, vin, visit_date
    FROM known
    WHERE service_type IN ('first_maintenance', 'maintenance')
),
gaps AS (
    SELECT as_of, vin,
           date_diff('day', lag(visit_date) OVER (PARTITION BY as_of, vin ORDER BY visit_date), visit_date) AS gap
    FROM maintenance_days
),
rhythm AS (
    SELECT as_of, vin, count(gap) AS maintenance_gaps, median(gap) AS median_gap_days
    FROM gaps
    GROUP BY as_of, vin
),
summary AS (
    SELECT as_of, vin,
           arg_max(store, (visit_date, order_id)) AS store,
           min(visit_date) AS first_visit,
           max(visit_date) AS last_visit,
           count(*) AS visits,
           max(visit_date) FILTER (WHERE service_type IN ('first_maintenance', 'maintenance')) AS last_maintenance,
           min(purchase_date) AS purchase_date,
           arg_min(mileage_km, (visit_date, order_id)) FILTER (WHERE mileage_km IS NOT NULL) AS first_km,
           min(visit_date) FILTER (WHERE mileage_km IS NOT NULL) AS first_km_date,
           arg_max(mileage_km, (visit_date, order_id)) FILTER (WHERE mileage_km IS NOT NULL) AS last_km,
           max(visit_date) FILTER (WHERE mileage_km IS NOT NULL) AS last_km_date
    FROM known
    GROUP BY as_of, vin
)
SELECT s.as_of, s.vin, s.store, s.first_visit, s.last_visit, s.visits, s.last_maintenance, s.purchase_date,
       s.last_km,
       CASE
           WHEN s.last_km_date > s.first_km_date AND s.last_km >= s.first_km
               THEN (s.last_km - s.first_km) / date_diff('day', s.first_km_date, s.last_km_date)
           WHEN s.last_km_date > s.purchase_date
               THEN s.last_km / date_diff('day', s.purchase_date, s.last_km_date)
       END AS km_per_day,
       coalesce(r.maintenance_gaps, 0) AS maintenance_gaps,
       r.median_gap_days
FROM summary AS s
LEFT JOIN rhythm AS r USING (as_of, vin)
