-- one row per requested month: visits, revenue (and its sum of squared amounts), booked visits and visits covered by a 3DC attempt
-- Covered: at least one 3DC attempt (reached or not) on the order (linked_callbacks.sql; read from callback_facts, its mart while current) dated 0 to coverage_3dc_days
-- whole days after the visit; an attempt dated in the next month still covers its visit. A visit
-- whose booking flag is unknown counts as not booked.
WITH months AS (
    SELECT DISTINCT unnest($months::DATE[]) AS month
),
visits AS (
    SELECT o.order_id, o.visit_date, o.amount, o.is_appointment,
           CAST(date_trunc('month', o.visit_date) AS DATE) AS month
    FROM service_orders AS o
    WHERE o.visit_date >= (SELECT min(month) FROM months)
      AND o.visit_date <= (SELECT last_day(max(month)) FROM months)
      AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], o.store))
),
covered AS (
    SELECT DISTINCT v.order_id
    FROM visits AS v
    JOIN {{ ref('callback_facts') }} AS c ON c.linked_order_id = v.order_id
    WHERE c.callback_type = '3DC'
      AND date_diff('day', v.visit_date, CAST(c.callback_date AS DATE)) BETWEEN 0 AND $coverage_3dc_days
)
SELECT m.month,
       count(v.order_id) AS visits,
       sum(v.amount) AS revenue,
       -- summed exactly, so a rerun gives the same bits (a sum of doubles depends on the order DuckDB adds them)
       CAST(sum(v.amount * v.amount) AS DOUBLE) AS revenue_squares,
       count(v.order_id) FILTER (WHERE v.is_appointment) AS appointments,
       count(cv.order_id) AS covered_3dc
FROM months AS m
LEFT JOIN visits AS v USING (month)
LEFT JOIN covered AS cv USING (order_id)
GROUP BY m.month
ORDER BY m.month
