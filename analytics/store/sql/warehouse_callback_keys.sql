-- one row per callback: the store and month (YYYY-MM) its row is filed under in the Parquet export
-- Callbacks carry no store: they take the one callback_facts.sql gives them (their order's, or for a
-- delivery callback the vehicle's latest order's), so a store's partition holds its callbacks.
SELECT f.callback_id, f.store, strftime(f.callback_date, '%Y-%m') AS month
FROM {{ ref('callback_facts') }} AS f
