-- one row: the first day with a work order and the first day with a callback (NULL when a table is empty)
SELECT (SELECT min(visit_date) FROM service_orders) AS orders_start,
       (SELECT CAST(min(callback_date) AS DATE) FROM callbacks) AS callbacks_start
