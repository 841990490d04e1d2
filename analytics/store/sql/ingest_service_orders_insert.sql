-- one row per work order the import inserts or rewrites (action from ingest_service_orders_plan.sql)
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
    CAST(purchase_date AS DATE),
    CAST(visit_date AS DATE),
    CAST(mileage_km AS INTEGER),
    service_type,
    CAST(amount AS DECIMAL(18, 2)),
    advisor,
    CAST(is_appointment AS BOOLEAN),
    $import_id
FROM ingest_final
WHERE action IN ('insert', 'update')
