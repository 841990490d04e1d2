-- one row: the latest import that replaced rows written by import $import_id (NULL when none did)
SELECT max(replaced_by) AS blocker
FROM (
    SELECT replaced_by FROM service_orders_history WHERE import_id = $import_id
    UNION ALL
    SELECT replaced_by FROM callbacks_history WHERE import_id = $import_id
) AS replaced
