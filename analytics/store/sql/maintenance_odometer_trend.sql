-- one row per (as-of date, vehicle in the active base on it: a visit in the last $base_days days) with an odometer reading on or before it: km per day (maintenance_odometer_points.sql) and km at the as-of date as the median projection of its points
-- Only work orders dated on or before each as-of date are read. The points come from
-- mart_trend_days while it is current (maintenance_odometer_points_mart.sql: features.odometer_trend
-- says when), so the projection here is the same arithmetic either way.
SELECT
    t.as_of,
    t.vin,
    CAST(count(*) FILTER (WHERE p.km > 0) AS DOUBLE) AS odometer_readings,
    CAST(any_value(t.km_per_day) AS DOUBLE) AS km_per_day,
    CAST(median(p.km + t.km_per_day * date_diff('day', p.day, t.as_of)) AS DOUBLE) AS km_now,
    CAST(arg_max(p.km, p.day) AS DOUBLE) AS last_reading_km,
    CAST(date_diff('day', max(p.day), t.as_of) AS DOUBLE) AS days_since_reading
FROM {{ ref('maintenance_odometer_points') }} AS t, unnest(t.points) AS u(p)
GROUP BY t.as_of, t.vin
ORDER BY t.as_of, t.vin
