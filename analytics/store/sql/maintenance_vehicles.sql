-- one row per vehicle in the active base at $as_of (a visit in the last $base_days days): its work orders dated on or before $as_of summarised
-- The person: the latest name, and the latest phone of the current owner (owner_days.sql).
-- maintenance_vehicles_mart.sql reads the same rows from the mart mart_vehicle_days.
WITH orders AS (
    SELECT o.*, w.owner_seq, max(w.owner_seq) OVER (PARTITION BY o.vin) AS current_owner
    FROM service_orders AS o
    JOIN {{ ref('owner_days') }} AS w ON w.vin = o.vin AND w.visit_date = o.visit_date
    WHERE o.vin IS NOT NULL AND o.visit_date <= $as_of
), visits AS (
    SELECT
        vin,
        -- contact details and model as on the latest work order
        arg_max(store, (visit_date, order_id)) AS store,
        arg_max(plate, (visit_date, order_id)) AS plate,
        arg_max(customer_name, (visit_date, order_id)) AS customer_name,
        arg_max(phone, (visit_date, order_id)) FILTER (WHERE owner_seq = current_owner) AS phone,
        arg_max(model, (visit_date, order_id)) AS model,
        arg_max(service_type, (visit_date, order_id)) AS last_service_type,
        min(visit_date) AS first_visit,
        max(visit_date) AS last_visit,
        max(visit_date) FILTER (WHERE service_type IN ('first_maintenance', 'maintenance')) AS last_maintenance,
        count(*) AS visits,
        count(*) FILTER (WHERE visit_date > $as_of - 365) AS visits_365,
        count(*) FILTER (WHERE service_type IN ('first_maintenance', 'maintenance')) AS maintenance_visits,
        count(*) FILTER (WHERE service_type = 'first_maintenance') > 0 AS first_maintenance_done,
        count(*) FILTER (WHERE service_type IN ('repair', 'warranty') AND visit_date > $as_of - 365)
            AS repairs_365,
        count(*) FILTER (WHERE service_type = 'body_paint' AND visit_date > $as_of - 730) AS body_paint_730,
        coalesce(sum(amount) FILTER (WHERE visit_date > $as_of - 730), 0) AS spend_730,
        avg(CASE WHEN is_appointment THEN 1.0 ELSE 0.0 END) AS appointment_share
    FROM orders
    GROUP BY vin
), purchases AS (
    -- the purchase date on most of its orders (on or before $as_of); on a tie the earliest
    SELECT vin, arg_min(purchase_date, (-n, purchase_date)) AS purchase_date
    FROM (
        SELECT vin, purchase_date, count(*) AS n
        FROM orders
        WHERE purchase_date <= $as_of
        GROUP BY vin, purchase_date
    )
    GROUP BY vin
), gaps AS (
    -- the owner's own rhythm: days between consecutive maintenance visits
    SELECT vin, median(gap) AS maintenance_gap_days
    FROM (
        SELECT vin, date_diff('day', lag(visit_date) OVER (PARTITION BY vin ORDER BY visit_date), visit_date) AS gap
        FROM orders
        WHERE service_type IN ('first_maintenance', 'maintenance')
    )
    WHERE gap > 0
    GROUP BY vin
)
SELECT v.*, p.purchase_date, g.maintenance_gap_days
FROM visits v
LEFT JOIN purchases p USING (vin)
LEFT JOIN gaps g USING (vin)
WHERE v.last_visit > $as_of - $base_days
