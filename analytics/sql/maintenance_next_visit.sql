-- one row per vehicle with a visit of $service_types in ($as_of, $until]: days from $as_of to the first one
SELECT vin, CAST(date_diff('day', $as_of, min(visit_date)) AS DOUBLE) AS days_to_next_visit
FROM service_orders
WHERE vin IS NOT NULL
  AND visit_date > $as_of
  AND visit_date <= $until
  AND list_contains($service_types, service_type)
GROUP BY vin
ORDER BY vin
