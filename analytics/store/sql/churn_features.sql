-- one row per (cutoff, vehicle in the active base on that day): what was known about it then
-- Only work orders dated on or before the cutoff and callbacks dated on or before it are read; a
-- complaint counts as open when it was not resolved by the cutoff; so no column sees past its
-- cutoff. The value window is (cutoff - value_days, cutoff].
WITH cutoffs AS (
    SELECT DISTINCT unnest($cutoffs::DATE[]) AS cutoff
),
base AS (
    SELECT * FROM {{ ref('churn_vehicles') }} AS v
),
calls AS (
    -- callback_facts: the callback's vehicle is its own VIN, else its order's
    SELECT k.cutoff, f.vin, f.callback_id, f.order_id, f.linked_order_id, f.callback_date, f.callback_day, f.reached,
           f.overall_score, f.attitude_score, f.quality_score, f.timeliness_score, f.price_score,
           f.environment_score, f.recommend_score, f.is_complaint, f.complaint_category, f.resolved_at,
           f.customer_name, f.phone
    FROM cutoffs AS k
    JOIN {{ ref('callback_facts') }} AS f ON f.callback_day <= k.cutoff
),
base_calls AS (
    -- the base vehicles' calls, the latest first (recent = 1); one ordering serves every summary
    -- below (the latest reached call with a score is the one of lowest recent among those). Only
    -- the calls to the vehicle's person count (callback_facts' person: its work order's, else the
    -- owner's then): a car sold to a new owner does not give the former owner's answers,
    -- complaints and unanswered numbers as reasons of the new one. The same person: the same name
    -- or the same phone; a call or a vehicle naming nobody counts as before.
    SELECT c.*,
           row_number() OVER (PARTITION BY c.cutoff, c.vin ORDER BY c.callback_date DESC, c.callback_id DESC)
               AS recent
    FROM calls AS c
    JOIN base AS b ON b.cutoff = c.cutoff AND b.vin = c.vin
    WHERE (c.customer_name IS NULL AND c.phone IS NULL)
       OR (b.customer_name IS NULL AND b.phone IS NULL)
       OR c.customer_name = b.customer_name
       OR c.phone = b.phone
),
call_summary AS (
    SELECT r.cutoff, r.vin,
           count(*) FILTER (WHERE r.callback_day > r.cutoff - CAST($value_days AS INTEGER)) AS callbacks,
           max(r.callback_day) AS last_called,
           avg(CASE WHEN r.reached THEN 1.0 ELSE 0.0 END) FILTER (WHERE r.recent <= 3) AS reach_last3,
           -- unreached attempts in a row, counting back from the latest one
           coalesce(min(r.recent) FILTER (WHERE r.reached), count(*) + 1) - 1 AS unreached_streak,
           min(r.overall_score) FILTER (
               WHERE r.reached AND r.callback_day > r.cutoff - CAST($value_days AS INTEGER)
           ) AS worst_overall,
           count(*) FILTER (
               WHERE r.reached AND r.overall_score < $satisfied_threshold
                 AND r.callback_day > r.cutoff - CAST($value_days AS INTEGER)
           ) AS unsatisfied_callbacks,
           count(*) FILTER (
               WHERE r.is_complaint AND r.callback_day > r.cutoff - CAST($value_days AS INTEGER)
           ) AS complaints,
           count(*) FILTER (
               WHERE r.is_complaint AND (r.resolved_at IS NULL OR CAST(r.resolved_at AS DATE) > r.cutoff)
           ) AS open_complaints,
           -- the latest reached call with an overall score: last_overall, last_attitude ... a column
           -- at a time (arg_min_null: one of its scores may be missing; one struct of the seven took
           -- twice as long)
           arg_min_null(
               COLUMNS('^(overall|attitude|quality|timeliness|price|environment|recommend)_score$'), r.recent
           ) FILTER (WHERE r.reached AND r.overall_score IS NOT NULL) AS 'last_\1'
    FROM base_calls AS r
    GROUP BY r.cutoff, r.vin
),
last_visit_calls AS (
    -- callbacks about the last visit: on its order, or (for calls without an order) in the
    -- complaint window after it
    SELECT b.cutoff, b.vin,
           arg_max(r.complaint_category, (r.callback_date, r.callback_id)) FILTER (WHERE r.is_complaint)
               AS last_visit_complaint_category,
           count(*) FILTER (WHERE r.is_complaint) AS last_visit_complaints,
           min(r.overall_score) FILTER (WHERE r.reached) AS last_visit_overall,
           min(r.price_score) FILTER (WHERE r.reached) AS last_visit_price
    FROM base AS b
    JOIN base_calls AS r ON r.cutoff = b.cutoff AND r.vin = b.vin
    WHERE r.linked_order_id = b.last_order_id
       OR (r.order_id IS NULL
           AND r.callback_day BETWEEN b.last_visit AND b.last_visit + CAST($complaint_window_days AS INTEGER))
       OR (r.is_complaint
           AND r.callback_day BETWEEN b.last_visit AND b.last_visit + CAST($complaint_window_days AS INTEGER))
    GROUP BY b.cutoff, b.vin
)
SELECT b.cutoff, b.vin, b.store, b.model, b.advisor, b.plate, b.customer_name, b.phone,
       b.purchase_date, b.first_visit, b.last_visit, b.last_service_type, b.last_maintenance,
       date_diff('day', b.last_visit, b.cutoff) AS days_since,
       date_diff('day', b.last_maintenance, b.cutoff) AS days_since_maintenance,
       date_diff('day', b.first_visit, b.cutoff) AS tenure_days,
       date_diff('day', b.purchase_date, b.cutoff) AS vehicle_age_days,
       CAST(b.purchase_date + to_years(CAST($warranty_years AS INTEGER)) AS DATE) AS warranty_end_by_date,
       b.warranty_km_date,
       b.last_km,
       CASE
           WHEN b.last_km_date > b.first_km_date AND b.last_km >= b.first_km
               THEN (b.last_km - b.first_km) / date_diff('day', b.first_km_date, b.last_km_date)
           WHEN b.last_km_date > b.purchase_date
               THEN b.last_km / date_diff('day', b.purchase_date, b.last_km_date)
       END AS km_per_day,
       b.visits_total, b.visits, b.maintenance_visits, b.repair_visits, b.warranty_visits, b.body_paint_visits,
       b.spend, b.appointment_share,
       b.median_gap_days, b.max_gap_days,
       coalesce(s.callbacks, 0) AS callbacks, s.last_called, s.reach_last3,
       coalesce(s.unreached_streak, 0) AS unreached_streak,
       s.worst_overall, coalesce(s.unsatisfied_callbacks, 0) AS unsatisfied_callbacks,
       coalesce(s.complaints, 0) AS complaints, coalesce(s.open_complaints, 0) AS open_complaints,
       s.last_overall, s.last_attitude, s.last_quality, s.last_timeliness, s.last_price, s.last_environment,
       s.last_recommend,
       coalesce(c.last_visit_complaints, 0) AS last_visit_complaints, c.last_visit_complaint_category,
       c.last_visit_overall, c.last_visit_price, b.last_amount
FROM base AS b
LEFT JOIN call_summary AS s ON s.cutoff = b.cutoff AND s.vin = b.vin
LEFT JOIN last_visit_calls AS c ON c.cutoff = b.cutoff AND c.vin = b.vin
ORDER BY b.cutoff, b.vin
