-- one row per record whose phone is not a valid mainland mobile number: a vehicle's latest work order (the phone the vehicle carries) or a callback
-- Callbacks carry the phone their file gave (a new car's buyer has no work order, so no other
-- phone); each shows the name and phone of its own record, and its store as callbacks take one:
-- the work order's, else the one its file named, else the vehicle's. The rule is the macro
-- is_mobile_phone, the one the maintenance list applies.
WITH phones AS (
    SELECT 'service_orders' AS table_name, latest_order_id AS record_id, vin, store, plate,
           customer_name, phone, last_visit AS record_date
    FROM vehicles
    WHERE phone IS NOT NULL
    UNION ALL
    SELECT 'callbacks', c.callback_id, coalesce(c.vin, o.vin), coalesce(o.store, c.store, v.store),
           coalesce(o.plate, v.plate), c.customer_name, c.phone, CAST(c.callback_date AS DATE)
    FROM {{ ref('linked_callbacks') }} AS c
    LEFT JOIN service_orders AS o ON o.order_id = c.linked_order_id
    LEFT JOIN vehicles AS v ON v.vin = coalesce(c.vin, o.vin)
    WHERE c.phone IS NOT NULL
)
SELECT table_name, record_id, vin, store, plate, customer_name, phone, record_date
FROM phones
WHERE NOT {{ macro('is_mobile_phone', 'phone') }}
ORDER BY record_date DESC, vin, table_name DESC, record_id
