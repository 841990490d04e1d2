-- one row per (store, month): every numerator and denominator behind the monthly KPIs (the warehouse's KPI mart)
-- The rules of monthly_order_kpis.sql, monthly_callback_kpis.sql and monthly_vehicle_counts.sql,
-- grouped by store instead of filtered to a list of stores: a store's row holds what those files
-- give with $stores = [that store] (tests/test_warehouse_spark.py checks it against report). A
-- store is one that a work order, a callback or a vehicle's history names; figures whose store is
-- unknown belong to no store's row. Written in DuckDB's dialect and transpiled by sqlglot for
-- other engines (analytics/services/spark_sql.py), so it avoids what has no portable form there.
WITH months AS (
    SELECT DISTINCT unnest($months::DATE[]) AS month
),
visits AS (
    SELECT o.order_id, o.store, o.visit_date, o.amount, o.is_appointment,
           CAST(date_trunc('month', o.visit_date) AS DATE) AS month
    FROM service_orders AS o
    WHERE o.visit_date >= (SELECT min(month) FROM months)
      AND o.visit_date <= (SELECT last_day(max(month)) FROM months)
      AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], o.store))
),
covered AS (
    SELECT DISTINCT v.order_id
    FROM visits AS v
    JOIN {{ ref('linked_callbacks') }} AS c ON c.linked_order_id = v.order_id
    WHERE c.callback_type = '3DC'
      AND date_diff('day', v.visit_date, CAST(c.callback_date AS DATE)) BETWEEN 0 AND $coverage_3dc_days
),
orders AS (
    SELECT v.store, v.month,
           count(v.order_id) AS visits,
           sum(v.amount) AS revenue,
           -- summed exactly, so a rerun gives the same bits (the export hashes its rows)
           CAST(sum(v.amount * v.amount) AS DOUBLE) AS revenue_squares,
           count(v.order_id) FILTER (WHERE v.is_appointment) AS appointments,
           count(cv.order_id) AS covered_3dc
    FROM visits AS v
    LEFT JOIN covered AS cv ON cv.order_id = v.order_id
    GROUP BY v.store, v.month
),
cb AS (
    SELECT f.*, CAST(date_trunc('month', f.callback_day) AS DATE) AS month
    FROM {{ ref('callback_facts') }} AS f
    WHERE f.callback_day >= (SELECT min(month) FROM months)
      AND f.callback_day <= (SELECT last_day(max(month)) FROM months)
      AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], f.store))
),
flagged AS (
    SELECT cb.*,
           coalesce(cb.reached, false) AND list_contains($survey_types::VARCHAR[], cb.callback_type) AS survey
    FROM cb
),
calls AS (
    SELECT f.store, f.month,
           count(f.callback_id) AS callbacks,
           count(f.callback_id) FILTER (WHERE f.callback_type = '3DC') AS attempts_3dc,
           count(f.callback_id) FILTER (WHERE f.callback_type = '3DC' AND f.reached) AS reached_3dc,
           count(f.callback_id) FILTER (WHERE f.survey AND f.overall_score IS NOT NULL) AS scored,
           count(f.callback_id) FILTER (WHERE f.survey AND f.overall_score >= $satisfied_threshold) AS satisfied,
           count(f.callback_id) FILTER (WHERE f.survey AND f.recommend_score IS NOT NULL) AS recommend_n,
           count(f.callback_id) FILTER (WHERE f.survey AND f.recommend_score >= $nps_promoter_min) AS promoters,
           count(f.callback_id) FILTER (WHERE f.survey AND f.recommend_score <= $nps_detractor_max) AS detractors,
           count(f.callback_id) FILTER (WHERE f.is_complaint) AS complaints,
           count(f.callback_id) FILTER (
               WHERE f.is_complaint AND f.resolved_at IS NOT NULL
                 AND date_diff('second', f.callback_date, f.resolved_at) <= f.limit_hours * 3600
           ) AS timely
    FROM flagged AS f
    GROUP BY f.store, f.month
),
churn AS (
    SELECT s.store, s.as_of,
           count(*) AS base,
           count(*) FILTER (WHERE s.status = 'lost') AS lost,
           count(*) FILTER (WHERE s.status = 'at_risk') AS at_risk
    FROM {{ ref('vehicle_status') }} AS s
    GROUP BY s.store, s.as_of
),
due AS (
    SELECT d.store, d.month, count(*) AS due, count(d.returned_on) AS returned
    FROM {{ ref('due_maintenance') }} AS d
    GROUP BY d.store, d.month
),
stores AS (
    SELECT store FROM orders
    UNION SELECT store FROM calls
    UNION SELECT store FROM churn
    UNION SELECT store FROM due
)
SELECT s.store, m.month,
       coalesce(o.visits, 0) AS visits,
       o.revenue,
       o.revenue_squares,
       coalesce(o.appointments, 0) AS appointments,
       coalesce(o.covered_3dc, 0) AS covered_3dc,
       coalesce(k.callbacks, 0) AS callbacks,
       coalesce(k.attempts_3dc, 0) AS attempts_3dc,
       coalesce(k.reached_3dc, 0) AS reached_3dc,
       coalesce(k.scored, 0) AS scored,
       coalesce(k.satisfied, 0) AS satisfied,
       coalesce(k.recommend_n, 0) AS recommend_n,
       coalesce(k.promoters, 0) AS promoters,
       coalesce(k.detractors, 0) AS detractors,
       coalesce(k.complaints, 0) AS complaints,
       coalesce(k.timely, 0) AS timely,
       coalesce(c.base, 0) AS base,
       coalesce(c.lost, 0) AS lost,
       coalesce(c.at_risk, 0) AS at_risk,
       coalesce(d.due, 0) AS due,
       coalesce(d.returned, 0) AS returned
FROM stores AS s
CROSS JOIN months AS m
LEFT JOIN orders AS o ON o.store = s.store AND o.month = m.month
LEFT JOIN calls AS k ON k.store = s.store AND k.month = m.month
LEFT JOIN churn AS c ON c.store = s.store AND c.as_of = last_day(m.month)
LEFT JOIN due AS d ON d.store = s.store AND d.month = m.month
WHERE s.store IS NOT NULL
ORDER BY s.store, m.month
