-- one row per (as-of date, vehicle in the active base on it with an odometer point on or before it): maintenance_odometer_points.sql read from the mart mart_trend_days
-- Each as-of date takes the vehicle's row of its latest visit day on or before it, which is in the
-- active base's window exactly when the vehicle visited in the last $base_days days.
-- (Rows whose purchase_max is after their visit day are not exact after it: the caller checks.)
WITH as_of_dates AS (
    SELECT DISTINCT unnest($as_of_dates::DATE[]) AS as_of
)
SELECT a.as_of, t.vin, t.km_per_day, t.points
FROM mart_trend_days AS t
JOIN as_of_dates AS a
    ON t.visit_date <= a.as_of AND (t.next_visit IS NULL OR t.next_visit > a.as_of)
WHERE t.visit_date > a.as_of - $base_days AND t.points IS NOT NULL
