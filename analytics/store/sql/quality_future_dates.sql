-- one row per record with a date after $today (or a purchase after the visit)
SELECT 'service_orders' AS table_name, order_id AS record_id, 'visit_date' AS column_name,
       CAST(visit_date AS VARCHAR) AS value
FROM service_orders WHERE visit_date > $today
UNION ALL
SELECT 'service_orders', order_id, 'purchase_date', CAST(purchase_date AS VARCHAR)
FROM service_orders WHERE purchase_date > $today OR purchase_date > visit_date
UNION ALL
SELECT 'callbacks', callback_id, 'callback_date', CAST(callback_date AS VARCHAR)
FROM callbacks WHERE CAST(callback_date AS DATE) > $today
UNION ALL
SELECT 'callbacks', callback_id, 'resolved_at', CAST(resolved_at AS VARCHAR)
FROM callbacks WHERE CAST(resolved_at AS DATE) > $today
ORDER BY 1, 2, 3
