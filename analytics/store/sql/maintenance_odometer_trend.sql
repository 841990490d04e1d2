-- one row per vehicle in the active base at $as_of (a visit in the last $base_days days) with an odometer reading on or before it: km per day as the median of the plausible pairwise slopes (Theil-Sen, robust to keying errors) and km at $as_of as the median projection of the readings
WITH base AS (
    SELECT DISTINCT vin
    FROM service_orders
    WHERE vin IS NOT NULL AND visit_date > $as_of - $base_days AND visit_date <= $as_of
), readings AS (
    SELECT vin, visit_date AS day, median(mileage_km) AS km
    FROM service_orders
    WHERE vin IN (SELECT vin FROM base) AND visit_date <= $as_of AND mileage_km > 0
    GROUP BY vin, visit_date
), anchors AS (
    -- a new car leaves the showroom with (almost) nothing on the odometer: a free reading
    -- (the purchase date on most of its orders, the earliest on a tie, as maintenance_vehicles.sql)
    SELECT vin, arg_min(purchase_date, (-n, purchase_date)) AS day, 0.0 AS km
    FROM (
        SELECT vin, purchase_date, count(*) AS n
        FROM service_orders
        WHERE vin IN (SELECT vin FROM base) AND visit_date <= $as_of AND purchase_date <= $as_of
        GROUP BY vin, purchase_date
    )
    GROUP BY vin
), points AS (
    SELECT vin, day, km FROM readings
    UNION ALL
    SELECT a.vin, a.day, a.km
    FROM anchors a
    WHERE NOT EXISTS (SELECT 1 FROM readings r WHERE r.vin = a.vin AND r.day <= a.day)
), slopes AS (
    SELECT a.vin, (b.km - a.km) / date_diff('day', a.day, b.day) AS slope
    FROM points a
    JOIN points b ON a.vin = b.vin AND a.day < b.day
), rate AS (
    -- a slope that runs backwards or faster than any car is driven comes from a keying error
    SELECT vin, median(slope) AS km_per_day
    FROM slopes
    WHERE slope >= 0 AND slope <= $max_km_per_day
    GROUP BY vin
)
SELECT
    p.vin,
    CAST(count(*) FILTER (WHERE p.km > 0) AS DOUBLE) AS odometer_readings,
    CAST(any_value(r.km_per_day) AS DOUBLE) AS km_per_day,
    CAST(median(p.km + r.km_per_day * date_diff('day', p.day, $as_of)) AS DOUBLE) AS km_now,
    CAST(arg_max(p.km, p.day) AS DOUBLE) AS last_reading_km,
    CAST(date_diff('day', max(p.day), $as_of) AS DOUBLE) AS days_since_reading
FROM points p
LEFT JOIN rate r USING (vin)
GROUP BY p.vin
ORDER BY p.vin
