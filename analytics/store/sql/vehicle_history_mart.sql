-- one row per (as-of date, vehicle with a visit on or before it): vehicle_history.sql read from the mart mart_vehicle_days
-- Each as-of date takes the vehicle's row of its latest visit day on or before it.
WITH as_of_dates AS (
    SELECT DISTINCT unnest($as_of_dates::DATE[]) AS as_of
)
SELECT a.as_of, s.vin, s.day_store AS store, s.visit_date AS last_visit, s.last_maintenance,
       s.purchase_min AS purchase_date, s.last_km, s.km_per_day, s.maintenance_gaps, s.median_gap_days
FROM mart_vehicle_days AS s
JOIN as_of_dates AS a
    ON s.visit_date <= a.as_of AND (s.next_visit IS NULL OR s.next_visit > a.as_of)
