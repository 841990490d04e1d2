-- one row per work order whose odometer reading is lower than the vehicle's previous visit
SELECT order_id, store, vin, plate, visit_date, mileage_km, previous_mileage_km, previous_visit
FROM (
    SELECT order_id, store, vin, plate, visit_date, mileage_km,
           lag(mileage_km) OVER w AS previous_mileage_km,
           lag(visit_date) OVER w AS previous_visit
    FROM service_orders
    WHERE vin IS NOT NULL AND mileage_km IS NOT NULL
    WINDOW w AS (PARTITION BY vin ORDER BY visit_date, order_id)
)
WHERE mileage_km < previous_mileage_km
ORDER BY visit_date, order_id
