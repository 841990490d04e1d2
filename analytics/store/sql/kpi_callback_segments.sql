-- one row per (month, advisor, service type, car model, store) of the callbacks dated in [start, end]: its callbacks and each callback KPI's numerator and denominator
-- kpi_callback_rows.sql summed per segment, so the "why?" breakdowns read a few thousand rows, not
-- every callback of the two months.
SELECT r.month, r.advisor, r.service_type, r.model, r.store,
       count(*) AS one,
       count(*) FILTER (WHERE r.attempt_3dc) AS attempt_3dc,
       count(*) FILTER (WHERE r.reached_3dc) AS reached_3dc,
       count(*) FILTER (WHERE r.scored) AS scored,
       count(*) FILTER (WHERE r.satisfied) AS satisfied,
       count(*) FILTER (WHERE r.recommend) AS recommend,
       count(*) FILTER (WHERE r.promoter) - count(*) FILTER (WHERE r.detractor) AS net,
       count(*) FILTER (WHERE r.complaint) AS complaint,
       count(*) FILTER (WHERE r.timely) AS timely
FROM {{ ref('kpi_callback_rows') }} AS r
GROUP BY ALL
