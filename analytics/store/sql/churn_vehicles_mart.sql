-- one row per (cutoff, vehicle in the active base on that day): churn_vehicles.sql read from the mart mart_vehicle_days
-- The vehicle's row on the cutoff (its latest visit day on or before it) gives the running values;
-- its row on cutoff - value_days, when there is one, is subtracted from those counted in the
-- value window (cutoff - value_days, cutoff].
WITH cutoffs AS (
    SELECT DISTINCT unnest($cutoffs::DATE[]) AS cutoff
),
warranty_km AS (
    -- the first visit day that read warranty_km or more
    SELECT vin, min(visit_date) AS reached_on
    FROM mart_vehicle_days
    WHERE day_max_km >= $warranty_km
    GROUP BY vin
),
latest AS (
    SELECT k.cutoff, m.*
    FROM cutoffs AS k
    JOIN mart_vehicle_days AS m
      ON m.visit_date <= k.cutoff AND (m.next_visit IS NULL OR m.next_visit > k.cutoff)
    WHERE m.visit_date > k.cutoff - CAST($base_days AS INTEGER)
      AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], m.store))
)
SELECT n.cutoff, n.vin, n.store, n.model, n.advisor, n.plate, n.customer_name, n.phone,
       n.purchase_min AS purchase_date, n.first_visit, n.visit_date AS last_visit,
       n.last_order_id, n.last_service_type, n.last_amount, n.last_maintenance,
       n.cum_visits AS visits_total,
       n.cum_visits - coalesce(p.cum_visits, 0) AS visits,
       n.cum_maintenance - coalesce(p.cum_maintenance, 0) AS maintenance_visits,
       n.cum_repair - coalesce(p.cum_repair, 0) AS repair_visits,
       n.cum_warranty - coalesce(p.cum_warranty, 0) AS warranty_visits,
       n.cum_body_paint - coalesce(p.cum_body_paint, 0) AS body_paint_visits,
       n.cum_spend - coalesce(p.cum_spend, 0) AS spend,
       CAST(n.cum_appointments AS DOUBLE) / nullif(n.cum_appointment_known, 0) AS appointment_share,
       n.first_km, n.first_km_date, n.last_km, n.last_km_date,
       CASE WHEN w.reached_on <= n.visit_date THEN w.reached_on END AS warranty_km_date,
       n.median_visit_gap AS median_gap_days, n.max_visit_gap AS max_gap_days
FROM latest AS n
LEFT JOIN mart_vehicle_days AS p
  ON p.vin = n.vin
 AND p.visit_date <= n.cutoff - CAST($value_days AS INTEGER)
 AND (p.next_visit IS NULL OR p.next_visit > n.cutoff - CAST($value_days AS INTEGER))
LEFT JOIN warranty_km AS w ON w.vin = n.vin
