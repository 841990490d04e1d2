-- one row per callback attempt, with the store, order, vehicle, customer and complaint limit it belongs to
-- A mart (analytics/store/derived.py): callback_facts.sql kept as the table mart_callback_facts, which
-- every query that embeds callback_facts reads instead while the mart is current. A row depends on
-- its callback, the order it names and, for a callback without one, its vehicle's orders: a refresh
-- recomputes the callbacks, orders and vehicles an import touched.
SELECT f.*
FROM {{ ref('callback_facts') }} AS f
