-- one row per vehicle and day with a maintenance visit (first or routine) on or before $as_of, with the day's odometer reading
SELECT
    vin,
    CAST(date_diff('day', visit_date, $as_of) AS DOUBLE) AS days_ago,
    CAST(median(mileage_km) FILTER (WHERE mileage_km > 0) AS DOUBLE) AS km,
    bool_or(service_type = 'first_maintenance') AS is_first
FROM service_orders
WHERE vin IS NOT NULL AND visit_date <= $as_of AND service_type IN ('first_maintenance', 'maintenance')
GROUP BY vin, visit_date
ORDER BY vin, visit_date
