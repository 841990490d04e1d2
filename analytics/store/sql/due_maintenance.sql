-- one row per (month, vehicle whose next maintenance falls due in that month): due date and return visit
-- The month is the day after each as-of date. Due dates use only the history known on the day
-- before the month starts, so a visit made early in the previous month moves the due date out
-- of this month. Never-serviced vehicles are anchored on their purchase date, or, when only a
-- delivery callback (7DC) knows them, on that callback's date. A return is a maintenance-type
-- visit at any store from the first day of the month to grace_days after its last day.
WITH as_of_dates AS (
    SELECT DISTINCT unnest($as_of_dates::DATE[]) AS as_of
),
history AS (
    SELECT * FROM {{ ref('vehicle_history') }} AS h
),
deliveries AS (
    SELECT a.as_of, c.vin,
           min(c.callback_day) AS delivered,
           arg_min(c.store, (c.callback_date, c.callback_id)) AS store
    FROM as_of_dates AS a
    JOIN {{ ref('callback_facts') }} AS c ON c.callback_day <= a.as_of
    WHERE c.callback_type = '7DC' AND c.vin IS NOT NULL
    GROUP BY a.as_of, c.vin
),
vehicles AS (
    SELECT coalesce(h.as_of, d.as_of) AS as_of,
           coalesce(h.vin, d.vin) AS vin,
           coalesce(h.store, d.store) AS store,
           h.last_maintenance,
           coalesce(h.purchase_date, d.delivered) AS purchase_date,
           h.km_per_day
    FROM history AS h
    FULL OUTER JOIN deliveries AS d ON d.as_of = h.as_of AND d.vin = h.vin
),
due AS (
    SELECT v.*,
           CAST(v.as_of + 1 AS DATE) AS month,
           CASE
               WHEN v.last_maintenance IS NOT NULL THEN v.last_maintenance + CAST(least(
                   $routine_days, CASE WHEN v.km_per_day > 0 THEN floor($routine_km / v.km_per_day) END
               ) AS INTEGER)
               ELSE v.purchase_date + CAST(least(
                   $first_days, CASE WHEN v.km_per_day > 0 THEN floor($first_km / v.km_per_day) END
               ) AS INTEGER)
           END AS due_date
    FROM vehicles AS v
    WHERE ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], v.store))
)
SELECT d.month, d.vin, d.store, d.last_maintenance, d.purchase_date, d.km_per_day, d.due_date,
       min(o.visit_date) AS returned_on
FROM due AS d
LEFT JOIN service_orders AS o
    ON o.vin = d.vin
   AND o.service_type IN ('first_maintenance', 'maintenance')
   AND o.visit_date >= d.month
   AND o.visit_date <= last_day(d.month) + CAST($due_return_grace_days AS INTEGER)
WHERE d.due_date >= d.month AND d.due_date <= last_day(d.month)
GROUP BY d.month, d.vin, d.store, d.last_maintenance, d.purchase_date, d.km_per_day, d.due_date
ORDER BY d.month, d.vin
