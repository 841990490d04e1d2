-- one row per callback that counts for no work order although its 工单号, with everything but digits and leading zeros set aside, is the key of one or more work orders
-- A callback whose number differs from its order's only so (1234 or WO0001234 for 0001234: an
-- Excel cell that held the number as a number, or another DMS's prefix) is linked to that order
-- when exactly one order has the key and the VINs agree where both are known (linked_callbacks.sql),
-- and is not listed here. Listed are those the rule will not guess for: several orders have the
-- key (candidate_order_ids names them), or the one that has it is another vehicle's. Such a
-- callback counts for no visit until its file gives the number as the work orders write it.
WITH unlinked AS (
    SELECT callback_id, order_id, vin, callback_date, {{ macro('order_key', 'order_id') }} AS order_key
    FROM {{ ref('linked_callbacks') }}
    WHERE linked_order_id IS NULL AND order_id IS NOT NULL
),
candidates AS (
    SELECT order_key, string_agg(order_id, ', ' ORDER BY order_id) AS candidate_order_ids, count(*) AS orders
    FROM (SELECT order_id, {{ macro('order_key', 'order_id') }} AS order_key FROM service_orders)
    WHERE order_key IN (SELECT order_key FROM unlinked WHERE order_key <> '')
    GROUP BY order_key
)
SELECT u.callback_id, u.order_id, c.candidate_order_ids, u.vin, u.callback_date,
       CASE WHEN c.orders > 1 THEN 'several work orders have this number' ELSE 'the work order is another vehicle''s' END
           AS reason
FROM unlinked AS u
JOIN candidates AS c USING (order_key)
ORDER BY u.callback_date, u.callback_id
