-- one row per work order of one vehicle on or before as_of, newest first
SELECT visit_date, store, service_type, mileage_km, amount, advisor, is_appointment, order_id
FROM service_orders
WHERE vin = $vin AND visit_date <= $as_of
ORDER BY visit_date DESC, order_id DESC
