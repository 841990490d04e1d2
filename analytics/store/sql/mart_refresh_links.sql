-- the temporary tables of a mart refresh widened to what a change of a callback's link to its work order touches (linked_callbacks.sql)
-- Run after derived.changed_since filled mart_refresh_vins, mart_refresh_orders (the orders an
-- import or rollback wrote or replaced, and the numbers the callbacks it wrote or replaced gave)
-- and mart_refresh_callbacks. A callback links by its number's key, so a changed order (or
-- callback) may move the link of every callback whose number has the same key, and with it the
-- vehicle such a callback counts for: those callbacks, and the vehicles of every order with that
-- key, are recomputed. Then mart_refresh_vehicle_callbacks holds the callbacks of the vehicles to
-- recompute (by their own VIN, else their linked order's) and mart_refresh_vehicle_orders those
-- vehicles' orders with every order such a callback's number could link to, which is what the
-- vehicle marts' SQL reads of the two tables (derived._SHADOWS).
-- Only the numbers that can have one of the keys are keyed (the regular expression over every
-- order and callback took two seconds of a nightly refresh at a million work orders), as in
-- linked_callbacks.sql but with eight digits, not four (a DMS number ends in a daily sequence, so
-- four digits let most numbers through): a number ending in eight digits has a key ending in them
-- (zero-padded when the key is shorter), so only those ending in a key's last eight digits
-- (order_key_tail), or in anything else (order_tail_unsure), are keyed.
CREATE OR REPLACE TEMP TABLE mart_refresh_keys AS
SELECT DISTINCT {{ macro('order_key', 'order_id') }} AS order_key
FROM mart_refresh_orders;
DELETE FROM mart_refresh_keys WHERE order_key = '';
CREATE OR REPLACE TEMP TABLE mart_refresh_tails AS
SELECT DISTINCT {{ macro('order_key_tail', 'order_key') }} AS tail FROM mart_refresh_keys;
-- Every callback's link and the vehicle it counts for (its own VIN, else its linked order's),
-- resolved once for the two statements that read them.
CREATE OR REPLACE TEMP TABLE mart_refresh_linked AS
SELECT c.callback_id, c.order_id, c.linked_order_id, coalesce(c.vin, o.vin) AS vin
FROM {{ ref('linked_callbacks') }} AS c
LEFT JOIN service_orders AS o ON o.order_id = c.linked_order_id;
INSERT INTO mart_refresh_callbacks
SELECT callback_id FROM callbacks
WHERE order_id IN (SELECT order_id FROM mart_refresh_orders)
UNION ALL
SELECT callback_id FROM (
    SELECT callback_id, {{ macro('order_key', 'order_id') }} AS order_key
    FROM callbacks
    WHERE right(order_id, 8) IN (SELECT tail FROM mart_refresh_tails)
       OR {{ macro('order_tail_unsure', 'order_id') }}
)
WHERE order_key IN (SELECT order_key FROM mart_refresh_keys);
INSERT INTO mart_refresh_vins
SELECT vin FROM service_orders
WHERE vin IS NOT NULL AND order_id IN (SELECT order_id FROM mart_refresh_orders)
UNION
SELECT vin FROM (
    SELECT vin, {{ macro('order_key', 'order_id') }} AS order_key
    FROM service_orders
    WHERE vin IS NOT NULL
      AND (right(order_id, 8) IN (SELECT tail FROM mart_refresh_tails)
           OR {{ macro('order_tail_unsure', 'order_id') }})
)
WHERE order_key IN (SELECT order_key FROM mart_refresh_keys)
UNION
SELECT vin FROM mart_refresh_linked
WHERE callback_id IN (SELECT callback_id FROM mart_refresh_callbacks) AND vin IS NOT NULL;
CREATE OR REPLACE TEMP TABLE mart_refresh_vehicle_callbacks AS
SELECT callback_id, order_id, linked_order_id
FROM mart_refresh_linked
WHERE vin IN (SELECT vin FROM mart_refresh_vins);
-- The orders such a callback's number could link to: its own, and, for a callback no order of its
-- own number exists for (only such a callback links by key), every order with its number's key.
CREATE OR REPLACE TEMP TABLE mart_refresh_loose_keys AS
SELECT DISTINCT {{ macro('order_key', 'order_id') }} AS order_key
FROM mart_refresh_vehicle_callbacks
WHERE order_id IS NOT NULL AND order_id NOT IN (SELECT order_id FROM service_orders);
DELETE FROM mart_refresh_loose_keys WHERE order_key = '';
CREATE OR REPLACE TEMP TABLE mart_refresh_loose_tails AS
SELECT DISTINCT {{ macro('order_key_tail', 'order_key') }} AS tail FROM mart_refresh_loose_keys;
CREATE OR REPLACE TEMP TABLE mart_refresh_vehicle_orders AS
SELECT order_id FROM service_orders
WHERE vin IN (SELECT vin FROM mart_refresh_vins)
   OR order_id IN (SELECT order_id FROM mart_refresh_vehicle_callbacks)
UNION
SELECT order_id FROM (
    SELECT order_id, {{ macro('order_key', 'order_id') }} AS order_key
    FROM service_orders
    WHERE right(order_id, 8) IN (SELECT tail FROM mart_refresh_loose_tails)
       OR {{ macro('order_tail_unsure', 'order_id') }}
)
WHERE order_key IN (SELECT order_key FROM mart_refresh_loose_keys);
