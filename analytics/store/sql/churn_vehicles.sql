-- one row per (cutoff, vehicle in the active base on that day): its work orders dated on or before the cutoff summarised
-- The value window is (cutoff - value_days, cutoff]. The rhythm: days between its distinct visit
-- days. The person: the latest name, and the latest phone of the current owner (owner_days.sql).
-- churn_vehicles_mart.sql reads the same rows from the mart mart_vehicle_days.
WITH cutoffs AS (
    SELECT DISTINCT unnest($cutoffs::DATE[]) AS cutoff
),
orders AS (
    SELECT k.cutoff, o.*, w.owner_seq,
           max(w.owner_seq) OVER (PARTITION BY k.cutoff, o.vin) AS current_owner
    FROM cutoffs AS k
    JOIN service_orders AS o ON o.visit_date <= k.cutoff
    JOIN {{ ref('owner_days') }} AS w ON w.vin = o.vin AND w.visit_date = o.visit_date
    WHERE o.vin IS NOT NULL
),
visit_days AS (
    SELECT cutoff, vin,
           date_diff('day', lag(visit_date) OVER (PARTITION BY cutoff, vin ORDER BY visit_date), visit_date) AS gap
    FROM (SELECT DISTINCT cutoff, vin, visit_date FROM orders)
),
rhythm AS (
    SELECT cutoff, vin, median(gap) AS median_gap_days, max(gap) AS max_gap_days
    FROM visit_days
    GROUP BY cutoff, vin
),
vehicle AS (
    SELECT cutoff, vin,
           arg_max(store, (visit_date, order_id)) AS store,
           arg_max(model, (visit_date, order_id)) AS model,
           arg_max(advisor, (visit_date, order_id)) AS advisor,
           arg_max(plate, (visit_date, order_id)) AS plate,
           arg_max(customer_name, (visit_date, order_id)) AS customer_name,
           arg_max(phone, (visit_date, order_id)) FILTER (WHERE owner_seq = current_owner) AS phone,
           min(purchase_date) AS purchase_date,
           min(visit_date) AS first_visit,
           max(visit_date) AS last_visit,
           arg_max(order_id, (visit_date, order_id)) AS last_order_id,
           arg_max(service_type, (visit_date, order_id)) AS last_service_type,
           arg_max(amount, (visit_date, order_id)) AS last_amount,
           max(visit_date) FILTER (WHERE service_type IN ('first_maintenance', 'maintenance')) AS last_maintenance,
           count(*) AS visits_total,
           count(*) FILTER (WHERE visit_date > cutoff - CAST($value_days AS INTEGER)) AS visits,
           count(*) FILTER (
               WHERE visit_date > cutoff - CAST($value_days AS INTEGER)
                 AND service_type IN ('first_maintenance', 'maintenance')
           ) AS maintenance_visits,
           count(*) FILTER (
               WHERE visit_date > cutoff - CAST($value_days AS INTEGER) AND service_type = 'repair'
           ) AS repair_visits,
           count(*) FILTER (
               WHERE visit_date > cutoff - CAST($value_days AS INTEGER) AND service_type = 'warranty'
           ) AS warranty_visits,
           count(*) FILTER (
               WHERE visit_date > cutoff - CAST($value_days AS INTEGER) AND service_type = 'body_paint'
           ) AS body_paint_visits,
           coalesce(sum(amount) FILTER (WHERE visit_date > cutoff - CAST($value_days AS INTEGER)), 0) AS spend,
           avg(CASE WHEN is_appointment THEN 1.0 WHEN NOT is_appointment THEN 0.0 END) AS appointment_share,
           arg_min(mileage_km, (visit_date, order_id)) FILTER (WHERE mileage_km IS NOT NULL) AS first_km,
           min(visit_date) FILTER (WHERE mileage_km IS NOT NULL) AS first_km_date,
           arg_max(mileage_km, (visit_date, order_id)) FILTER (WHERE mileage_km IS NOT NULL) AS last_km,
           max(visit_date) FILTER (WHERE mileage_km IS NOT NULL) AS last_km_date,
           min(visit_date) FILTER (WHERE mileage_km >= $warranty_km) AS warranty_km_date
    FROM orders
    GROUP BY cutoff, vin
),
base AS (
    SELECT v.*, r.median_gap_days, r.max_gap_days
    FROM vehicle AS v
    LEFT JOIN rhythm AS r ON r.cutoff = v.cutoff AND r.vin = v.vin
    WHERE v.last_visit > v.cutoff - CAST($base_days AS INTEGER)
      AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], v.store))
)
SELECT cutoff, vin, store, model, advisor, plate, customer_name, phone, purchase_date, first_visit, last_visit,
       last_order_id, last_service_type, last_amount, last_maintenance, visits_total, visits,
       maintenance_visits, repair_visits, warranty_visits, body_paint_visits, spend, appointment_share,
       first_km, first_km_date, last_km, last_km_date, warranty_km_date, median_gap_days, max_gap_days
FROM base
