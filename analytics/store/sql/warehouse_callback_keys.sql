-- one row per callback: the store and month (YYYY-MM) its row is filed under in the Parquet export
-- A callback is filed under the store callback_facts.sql gives it (its order's; for a delivery
-- callback the one its file names, else the vehicle's latest order's), so a store's partition holds
-- its callbacks. The callback's own store column is kept in the files as ``file_store``.
SELECT f.callback_id, f.store, strftime(f.callback_date, '%Y-%m') AS month
FROM {{ ref('callback_facts') }} AS f
