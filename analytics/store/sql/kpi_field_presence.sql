-- one row: how many stored work orders and callbacks there are, and how many of them hold each field a KPI
-- reads (a field no imported file supplied is NULL everywhere, and its KPI cannot be computed)
SELECT
    (SELECT count(*) FROM service_orders) AS orders,
    (SELECT count(amount) FROM service_orders) AS orders_amount,
    (SELECT count(is_appointment) FROM service_orders) AS orders_appointment,
    (SELECT count(*) FROM callbacks) AS callbacks,
    (SELECT count(reached) FROM callbacks) AS callbacks_reached,
    (SELECT count(overall_score) FROM callbacks) AS callbacks_overall,
    (SELECT count(recommend_score) FROM callbacks) AS callbacks_recommend,
    (SELECT count(is_complaint) FROM callbacks) AS callbacks_complaint
