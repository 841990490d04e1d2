-- one row per work order dated in [start, end]: its month, segments and what it adds to the order KPIs
-- The same rules as monthly_order_kpis.sql, one row per order instead of one per month, so a
-- month's KPI splits over advisors, service types, models and stores.
WITH visits AS (
    SELECT o.order_id, o.visit_date, o.amount, o.is_appointment, o.advisor, o.service_type, o.model, o.store,
           CAST(date_trunc('month', o.visit_date) AS DATE) AS month
    FROM service_orders AS o
    WHERE o.visit_date BETWEEN $start AND $end
      AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], o.store))
),
covered AS (
    SELECT DISTINCT v.order_id
    FROM visits AS v
    JOIN {{ ref('callback_facts') }} AS c ON c.linked_order_id = v.order_id
    WHERE c.callback_type = '3DC'
      AND date_diff('day', v.visit_date, CAST(c.callback_date AS DATE)) BETWEEN 0 AND $coverage_3dc_days
)
SELECT v.month, v.advisor, v.service_type, v.model, v.store,
       CAST(v.amount AS DOUBLE) AS amount,
       coalesce(v.is_appointment, false) AS appointment,
       cv.order_id IS NOT NULL AS covered_3dc
FROM visits AS v
LEFT JOIN covered AS cv USING (order_id)
-- In a fixed order: the breakdowns add amounts as doubles, whose sum depends on the order.
ORDER BY v.order_id
