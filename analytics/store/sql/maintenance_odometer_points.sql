-- one row per (as-of date, vehicle with an odometer point on or before it): km per day as the median of its plausible pairwise slopes (Theil-Sen, robust to keying errors) and its points (day, km), at each of $as_of_dates for the vehicles in the active base then (a visit in the last $base_days days), or, when $as_of_dates is NULL, at each visit day of every vehicle (mart_trend_days)
-- Only work orders dated on or before the as-of date are read; every figure is the vehicle's own
-- (its readings, its purchase date), so the mart of it recomputes only the vehicles an import
-- touched. maintenance_odometer_trend.sql projects the points to the as-of date.
WITH as_of_dates AS (
    SELECT DISTINCT unnest($as_of_dates::DATE[]) AS as_of
), base AS (
    SELECT DISTINCT a.as_of, s.vin
    FROM as_of_dates AS a
    JOIN service_orders AS s ON s.visit_date > a.as_of - $base_days AND s.visit_date <= a.as_of
    WHERE s.vin IS NOT NULL
    UNION ALL
    SELECT DISTINCT visit_date AS as_of, vin
    FROM service_orders
    WHERE $as_of_dates IS NULL AND vin IS NOT NULL
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
SELECT p.as_of, p.vin, any_value(r.km_per_day) AS km_per_day,
       list(struct_pack(day := p.day, km := p.km) ORDER BY p.day) AS points
FROM points AS p
LEFT JOIN rate AS r ON r.as_of = p.as_of AND r.vin = p.vin
GROUP BY p.as_of, p.vin
