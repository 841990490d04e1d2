-- one row per work order that shares vehicle, visit date and service type with another order
SELECT order_id, store, vin, plate, visit_date, service_type, amount, advisor,
       count(*) OVER (PARTITION BY vin, visit_date, service_type) AS copies
FROM service_orders
WHERE vin IS NOT NULL
QUALIFY count(*) OVER (PARTITION BY vin, visit_date, service_type) > 1
ORDER BY vin, visit_date, order_id
