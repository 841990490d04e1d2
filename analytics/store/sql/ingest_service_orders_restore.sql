-- one row per work order a rolled-back import had rewritten: the image it replaced
INSERT INTO service_orders (
    order_id,
    store,
    vin,
    plate,
    customer_name,
    phone,
    model,
    purchase_date,
    visit_date,
    mileage_km,
    service_type,
    amount,
    advisor,
    is_appointment,
    import_id
)
SELECT
    order_id,
    store,
    vin,
    plate,
    customer_name,
    phone,
    model,
    purchase_date,
    visit_date,
    mileage_km,
    service_type,
    amount,
    advisor,
    is_appointment,
    import_id
FROM service_orders_history
WHERE replaced_by = $import_id
