-- the records a model fitted at as_of can read, as one fingerprint: every work order dated on or
-- before as_of, and every callback dated on or before it (or undated) as callback_facts resolves it
-- (the order it counts for, its vehicle, store and person). The models read nothing dated after
-- their as-of day, so two data versions with the same fingerprint train the same model, and the
-- refresh after an import of later days scores with the one already fitted (issue 20). Rows are
-- hashed whole and combined in any order (work order and callback ids are unique).
SELECT (
    SELECT count(*) || ':' || coalesce(bit_xor(hash(o)), 0)
    FROM service_orders AS o
    WHERE o.visit_date <= $as_of
) || '|' || (
    SELECT count(*) || ':' || coalesce(bit_xor(hash(f)), 0)
    FROM mart_callback_facts AS f
    WHERE f.callback_day IS NULL OR f.callback_day <= $as_of
) AS inputs
