-- one row per vehicle in the active base at $as_of (a visit in the last $base_days days, records dated on or before $as_of) with a work order of one of $stores (all when NULL): a superset of the stores' vehicles as maintenance_vehicles.sql places them (at its latest work order's store)
SELECT vin
FROM service_orders
WHERE vin IS NOT NULL AND visit_date <= $as_of
GROUP BY vin
HAVING max(visit_date) > $as_of - $base_days
   AND ($stores IS NULL OR bool_or(list_contains($stores, store)))
ORDER BY vin
