-- one row per (as-of date, vehicle in the active base on it: a visit in the last $base_days days) with an odometer reading on or before it: km per day as the median of the plausible pairwise slopes (Theil-Sen, robust to keying errors) and km at the as-of date as the median projection of the readings
-- Only work orders dated on or before each as-of date are read; every figure is the vehicle's own
-- (its readings, its purchase date), so the mart of it (mart_trend_months) recomputes only the
-- vehicles an import touched.
WITH as_of_dates AS (
    SELECT DISTINCT unnest($as_of_dates::DATE[]) AS as_of
), base AS (
    SELECT DISTINCT a.as_of, s.vin
    FROM as_of_dates AS a
    JOIN service_orders AS s ON s.visit_date > a.as_of - $base_days AND s.visit_date <= a.as_of
    WHERE s.vin IS NOT NULL
), orders AS (
    -- the base vehicles' work orders up to each as-of date
    SELECT b.as_of, s.vin, s.visit_date, s.mileage_km, s.purchase_date
    FROM base AS b
    JOIN service_orders AS s ON s.vin = b.vin AND s.visit_date <= b.as_of
), readings AS (
    SELECT as_of, vin, visit_date AS day, median(mileage_km) AS km
    FROM orders
    WHERE mileage_km > 0
    GROUP BY as_of, vin, visit_date
), anchors AS (
    -- a new car leaves the showroom with (almost) nothing on the odometer: a free reading
    -- (the purchase date on most of its orders, the earliest on a tie, as maintenance_vehicles.sql)
    SELECT as_of, vin, arg_min(purchase_date, (-n, purchase_date)) AS day, 0.0 AS km
    FROM (
        SELECT as_of, vin, purchase_date, count(*) AS n
        FROM orders
        WHERE purchase_date <= as_of
        GROUP BY as_of, vin, purchase_date
    )
    GROUP BY as_of, vin
), points AS (
    SELECT as_of, vin, day, km FROM readings
    UNION ALL
    SELECT a.as_of, a.vin, a.day, a.km
    FROM anchors AS a
    WHERE NOT EXISTS (SELECT 1 FROM readings AS r WHERE r.as_of = a.as_of AND r.vin = a.vin AND r.day <= a.day)
), slopes AS (
    SELECT a.as_of, a.vin, (b.km - a.km) / date_diff('day', a.day, b.day) AS slope
    FROM points AS a
    JOIN points AS b ON a.as_of = b.as_of AND a.vin = b.vin AND a.day < b.day
), rate AS (
    -- a slope that runs backwards or faster than any car is driven comes from a keying error
    SELECT as_of, vin, median(slope) AS km_per_day
    FROM slopes
    WHERE slope >= 0 AND slope <= $max_km_per_day
    GROUP BY as_of, vin
)
SELECT
    p.as_of,
    p.vin,
    CAST(count(*) FILTER (WHERE p.km > 0) AS DOUBLE) AS odometer_readings,
    CAST(any_value(r.km_per_day) AS DOUBLE) AS km_per_day,
    CAST(median(p.km + r.km_per_day * date_diff('day', p.day, p.as_of)) AS DOUBLE) AS km_now,
    CAST(arg_max(p.km, p.day) AS DOUBLE) AS last_reading_km,
    CAST(date_diff('day', max(p.day), p.as_of) AS DOUBLE) AS days_since_reading
FROM points AS p
LEFT JOIN rate AS r ON r.as_of = p.as_of AND r.vin = p.vin
GROUP BY p.as_of, p.vin
ORDER BY p.as_of, p.vin
