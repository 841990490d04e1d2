-- one row per callback dated in [start, end] that needs a follow-up: a reached survey call (survey_types) with an overall score below the threshold, or a complaint
-- Followed up: a reached callback on the same vehicle or the same order within followup_days
-- after it, or the complaint resolved; only what is known at the reference time as_of counts.
-- A callback without a work order (a 7DC delivery call) shows the vehicle's owner from its latest
-- work order (the vehicles table), the person to call now; a vehicle whose work orders name nobody
-- (a new car, not yet serviced) shows the name and phone the callback's own file carried
-- (callback_facts). A person is taken whole: name and phone come from one source.
-- Unsatisfied: an answer to a survey call, as in the satisfaction rate. A follow-up call (after a
-- complaint or a major repair, type other) is no survey: its score would count the customer twice,
-- and the call is itself the follow-up of the answer before it. A complaint, on any call, needs one.
WITH flagged AS (
    SELECT f.*,
           coalesce(f.reached, false) AND list_contains($survey_types::VARCHAR[], f.callback_type)
               AND coalesce(f.overall_score < $satisfied_threshold, false) AS unsatisfied
    FROM {{ ref('callback_facts') }} AS f
    WHERE f.callback_day BETWEEN $start AND $end
      AND f.callback_date <= $as_of
      AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], f.store))
),
needs AS (
    SELECT * FROM flagged WHERE unsatisfied OR is_complaint
),
-- Only reached calls up to followup_days after the period can follow one of its callbacks up. The
-- facts' vin is the callback's own, else its linked order's: the vehicle a follow-up call is about.
followers AS (
    SELECT c.callback_id, coalesce(c.linked_order_id, c.order_id) AS order_id, c.vin, c.callback_date
    FROM {{ ref('callback_facts') }} AS c
    WHERE coalesce(c.reached, false)
      AND c.callback_day BETWEEN $start AND $end + CAST($followup_days AS INTEGER)
),
later AS (
    SELECT u.callback_id, n.callback_date
    FROM needs AS u
    JOIN followers AS n ON n.vin = u.vin
    WHERE n.callback_date > u.callback_date
      AND n.callback_date <= u.callback_date + to_days(CAST($followup_days AS INTEGER))
      AND n.callback_date <= $as_of
    UNION ALL
    SELECT u.callback_id, n.callback_date
    FROM needs AS u
    JOIN followers AS n ON n.order_id = coalesce(u.linked_order_id, u.order_id)
    WHERE n.callback_date > u.callback_date
      AND n.callback_date <= u.callback_date + to_days(CAST($followup_days AS INTEGER))
      AND n.callback_date <= $as_of
),
followups AS (
    SELECT callback_id, min(callback_date) AS next_callback_at
    FROM later
    GROUP BY callback_id
)
SELECT u.callback_id, u.callback_date, u.callback_type, u.order_id, u.vin,
       CASE WHEN u.order_id IS NULL THEN coalesce(v.plate, u.plate) ELSE u.plate END AS plate,
       CASE WHEN u.order_id IS NULL AND (v.customer_name IS NOT NULL OR v.phone IS NOT NULL)
            THEN v.customer_name ELSE u.customer_name END AS customer_name,
       CASE WHEN u.order_id IS NULL AND (v.customer_name IS NOT NULL OR v.phone IS NOT NULL)
            THEN v.phone ELSE u.phone END AS phone,
       u.store, u.advisor, u.service_type, u.model, u.agent,
       u.overall_score, u.attitude_score, u.quality_score, u.timeliness_score, u.price_score,
       u.environment_score, u.recommend_score, u.comment,
       u.unsatisfied, u.is_complaint, u.complaint_category, u.complaint_level, u.limit_hours,
       CASE WHEN u.resolved_at <= $as_of THEN u.resolved_at END AS resolved_at,
       fu.next_callback_at,
       date_diff('second', u.callback_date, $as_of) / 3600.0 AS hours_since,
       date_diff('day', u.callback_day, CAST($as_of AS DATE)) AS days_since,
       fu.next_callback_at IS NOT NULL OR coalesce(u.resolved_at <= $as_of, false) AS followed_up
FROM needs AS u
LEFT JOIN followups AS fu USING (callback_id)
LEFT JOIN vehicles AS v ON v.vin = u.vin
ORDER BY u.callback_date DESC, u.callback_id
