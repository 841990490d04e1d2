-- one row per vehicle with a visit in ($as_of, $until]: days from $as_of to the first visit of $service_types (maintenance) and to the first visit of any kind
SELECT
    vin,
    CAST(date_diff('day', $as_of, min(visit_date) FILTER (WHERE list_contains($service_types, service_type))) AS DOUBLE)
        AS days_to_next_visit,
    CAST(date_diff('day', $as_of, min(visit_date)) AS DOUBLE) AS days_to_next_any
FROM service_orders
WHERE vin IS NOT NULL
  AND visit_date > $as_of
  AND visit_date <= $until
GROUP BY vin
ORDER BY vin
