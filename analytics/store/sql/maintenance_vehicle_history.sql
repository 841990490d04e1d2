-- one row per vehicle in the active base at $as_of (a visit in the last $base_days days), from records dated on or before $as_of only
-- ($vins: only these vehicles, a training sample or a store's vehicles; every one when NULL)
WITH v AS (
    SELECT * FROM {{ ref('maintenance_vehicles') }}
    WHERE $vins IS NULL OR vin IN (SELECT unnest($vins))
), calls AS (
    SELECT
        c.vin,
        count(*) AS callback_attempts,
        count(*) FILTER (WHERE c.reached) AS callbacks_reached,
        list(coalesce(c.reached, false) ORDER BY c.callback_date DESC)[1:2] AS last_two_reached,
        arg_max(c.overall_score, c.callback_date) FILTER (WHERE c.overall_score IS NOT NULL) AS last_score,
        count(*) FILTER (WHERE c.is_complaint AND c.callback_date >= $as_of - 730) AS complaints_730,
        -- as the churn call list reads them: the latest call, and complaints not resolved by $as_of
        max(CAST(c.callback_date AS DATE)) AS last_called,
        count(*) FILTER (
            WHERE c.is_complaint AND (c.resolved_at IS NULL OR CAST(c.resolved_at AS DATE) > $as_of)
        ) AS open_complaints
    -- callback_facts: a callback's vehicle is its own VIN, else its order's (its mart while current);
    -- only the calls to the vehicle's person count, as in churn_features.sql (a sold car's former
    -- owner's calls are not the new owner's)
    FROM {{ ref('callback_facts') }} AS c
    JOIN v ON v.vin = c.vin
    WHERE c.callback_date < $as_of + 1
      AND ((c.customer_name IS NULL AND c.phone IS NULL)
           OR (v.customer_name IS NULL AND v.phone IS NULL)
           OR c.customer_name = v.customer_name
           OR c.phone = v.phone)
    GROUP BY 1
)
SELECT
    v.vin,
    v.store,
    v.plate,
    v.customer_name,
    v.phone,
    v.model,
    v.purchase_date,
    v.first_visit,
    v.last_visit,
    v.last_service_type,
    v.last_maintenance,
    CAST(date_diff('day', v.purchase_date, $as_of) AS DOUBLE) AS age_days,
    CAST(date_diff('day', v.last_visit, $as_of) AS DOUBLE) AS days_since_visit,
    CAST(date_diff('day', v.first_visit, $as_of) AS DOUBLE) AS days_since_first_visit,
    CAST(date_diff('day', (SELECT min(visit_date) FROM service_orders WHERE vin IS NOT NULL AND visit_date <= $as_of), $as_of) AS DOUBLE) AS days_since_data_start,
    CAST(v.visits AS DOUBLE) AS visits,
    CAST(v.visits_365 AS DOUBLE) AS visits_365,
    CAST(v.maintenance_visits AS DOUBLE) AS maintenance_visits,
    v.first_maintenance_done,
    CAST(v.repairs_365 AS DOUBLE) AS repairs_365,
    CAST(v.body_paint_730 AS DOUBLE) AS body_paint_730,
    CAST(v.spend_730 AS DOUBLE) AS spend_730,
    CAST(v.appointment_share AS DOUBLE) AS appointment_share,
    CAST(v.maintenance_gap_days AS DOUBLE) AS maintenance_gap_days,
    CAST(coalesce(c.callback_attempts, 0) AS DOUBLE) AS callback_attempts,
    CAST(coalesce(c.callbacks_reached, 0) AS DOUBLE) AS callbacks_reached,
    coalesce(len(c.last_two_reached) = 2 AND NOT list_bool_or(c.last_two_reached), false) AS last_two_unreached,
    coalesce(c.last_two_reached[1], false) AS last_reached,
    CAST(c.last_score AS DOUBLE) AS last_score,
    CAST(coalesce(c.complaints_730, 0) AS DOUBLE) AS complaints_730,
    c.last_called,
    coalesce(c.open_complaints, 0) > 0 AS open_complaint,
    v.phone IS NOT NULL
        AND {{ macro('is_mobile_phone', 'v.phone') }} AS phone_ok
FROM v
LEFT JOIN calls c USING (vin)
ORDER BY v.vin
