-- one row per callback whose work-order number names no work order but names exactly one once
-- letters, separators and leading zeros are set aside (1234 or WO0001234 for 0001234: an Excel
-- cell that held the number as a number, or another DMS's prefix); such a callback counts for no
-- visit until its file is exported with the numbers as the work orders write them
WITH keyed AS (
    SELECT order_id, vin, ltrim(regexp_replace(order_id, '[^0-9]', '', 'g'), '0') AS order_key
    FROM service_orders
),
single AS (
    SELECT order_key, any_value(order_id) AS likely_order_id, any_value(vin) AS likely_vin
    FROM keyed
    WHERE order_key <> ''
    GROUP BY order_key
    HAVING count(*) = 1
)
SELECT c.callback_id, c.order_id, s.likely_order_id, c.vin, c.callback_date
FROM callbacks AS c
JOIN single AS s ON s.order_key = ltrim(regexp_replace(c.order_id, '[^0-9]', '', 'g'), '0')
WHERE c.order_id NOT IN (SELECT order_id FROM service_orders)
  AND (c.vin IS NULL OR s.likely_vin IS NULL OR c.vin = s.likely_vin)
ORDER BY c.callback_date, c.callback_id
