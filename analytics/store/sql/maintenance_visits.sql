-- one row per vehicle in the active base at $as_of (a visit in the last $base_days days) and day with a maintenance visit (first or routine) on or before $as_of, with the day's odometer reading
SELECT
    vin,
    CAST(date_diff('day', visit_date, $as_of) AS DOUBLE) AS days_ago,
    CAST(median(mileage_km) FILTER (WHERE mileage_km > 0) AS DOUBLE) AS km,
    bool_or(service_type = 'first_maintenance') AS is_first
FROM service_orders
WHERE visit_date <= $as_of AND service_type IN ('first_maintenance', 'maintenance')
  AND vin IN (
      SELECT vin FROM service_orders WHERE vin IS NOT NULL AND visit_date > $as_of - $base_days AND visit_date <= $as_of
  )
  -- $vins: only these vehicles (a training sample or a store's vehicles); every one when NULL
  AND ($vins IS NULL OR vin IN (SELECT unnest($vins)))
GROUP BY vin, visit_date
ORDER BY vin, visit_date
