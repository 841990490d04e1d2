-- one row: the last day on which any visit or callback is recorded (NULL for an empty database)
SELECT greatest(
    (SELECT max(visit_date) FROM service_orders),
    (SELECT CAST(max(callback_date) AS DATE) FROM callbacks)
) AS data_end
