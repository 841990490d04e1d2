-- one row per callback attempt: the callback's columns as imported, and linked_order_id, the work order it counts for
-- The order of exactly its 工单号; else, when no order has that number, the one order whose number
-- is the same once everything but digits and then leading zeros are set aside (1234 or WO0001234
-- for 0001234: Excel kept the number as a number, or another DMS adds a prefix), when exactly one
-- order has that key and the VINs agree where both are known. A key no order has, or several
-- have, or an empty one (a number without digits) links to nothing. Resolved afresh at every
-- read, so it holds whatever order the files arrived in and after any rollback; order_id keeps
-- what the file said.
WITH loose AS (
    SELECT c.callback_id, c.vin, {{ macro('order_key', 'c.order_id') }} AS order_key
    FROM callbacks AS c
    ANTI JOIN service_orders AS o ON o.order_id = c.order_id
    WHERE c.order_id IS NOT NULL
),
tails AS (
    SELECT DISTINCT lpad(right(order_key, 4), 4, '0') AS tail FROM loose WHERE order_key <> ''
),
keyed AS (
    -- Only the orders that can share a loose number's key are keyed (the regular expression over
    -- every order took half a second at a million): an order whose number ends in four digits has
    -- a key ending in them, zero-padded when the key is shorter (its digits are zeros, then the key).
    SELECT {{ macro('order_key', 'order_id') }} AS order_key, order_id, vin
    FROM service_orders
    WHERE right(order_id, 4) IN (SELECT tail FROM tails)
       OR right(order_id, 4) IS DISTINCT FROM lpad(CAST(abs(TRY_CAST(right(order_id, 4) AS INTEGER)) AS VARCHAR), 4, '0')
),
single AS (
    SELECT order_key, any_value(order_id) AS order_id, any_value(vin) AS vin
    FROM keyed
    WHERE order_key IN (SELECT order_key FROM loose WHERE order_key <> '')
    GROUP BY order_key
    HAVING count(*) = 1
),
loose_links AS (
    SELECT l.callback_id, s.order_id
    FROM loose AS l
    JOIN single AS s USING (order_key)
    WHERE l.vin IS NULL OR s.vin IS NULL OR l.vin = s.vin
)
SELECT c.*,
       CASE WHEN o.order_id IS NOT NULL THEN c.order_id ELSE k.order_id END AS linked_order_id
FROM callbacks AS c
LEFT JOIN service_orders AS o ON o.order_id = c.order_id
LEFT JOIN loose_links AS k ON k.callback_id = c.callback_id
