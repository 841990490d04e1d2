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
CREATE OR REPLACE TEMP TABLE mart_refresh_keys AS
SELECT DISTINCT {{ macro('order_key', 'order_id') }} AS order_key
FROM mart_refresh_orders;
DELETE FROM mart_refresh_keys WHERE order_key = '';
INSERT INTO mart_refresh_callbacks
SELECT callback_id FROM callbacks
WHERE order_id IN (SELECT order_id FROM mart_refresh_orders)
   OR {{ macro('order_key', 'order_id') }} IN (SELECT order_key FROM mart_refresh_keys);
INSERT INTO mart_refresh_vins
SELECT vin FROM (SELECT order_id, vin, {{ macro('order_key', 'order_id') }} AS order_key FROM service_orders)
WHERE vin IS NOT NULL
  AND (order_id IN (SELECT order_id FROM mart_refresh_orders) OR order_key IN (SELECT order_key FROM mart_refresh_keys))
UNION
SELECT coalesce(c.vin, o.vin)
FROM {{ ref('linked_callbacks') }} AS c
LEFT JOIN service_orders AS o ON o.order_id = c.linked_order_id
WHERE c.callback_id IN (SELECT callback_id FROM mart_refresh_callbacks) AND coalesce(c.vin, o.vin) IS NOT NULL;
CREATE OR REPLACE TEMP TABLE mart_refresh_vehicle_callbacks AS
SELECT c.callback_id, c.order_id, c.linked_order_id
FROM {{ ref('linked_callbacks') }} AS c
LEFT JOIN service_orders AS o ON o.order_id = c.linked_order_id
WHERE coalesce(c.vin, o.vin) IN (SELECT vin FROM mart_refresh_vins);
CREATE OR REPLACE TEMP TABLE mart_refresh_vehicle_orders AS
SELECT order_id FROM (SELECT order_id, vin, {{ macro('order_key', 'order_id') }} AS order_key FROM service_orders)
WHERE vin IN (SELECT vin FROM mart_refresh_vins)
   OR order_id IN (SELECT order_id FROM mart_refresh_vehicle_callbacks)
   OR order_key IN (
       SELECT {{ macro('order_key', 'order_id') }} FROM mart_refresh_vehicle_callbacks
   ) AND order_key <> '';
