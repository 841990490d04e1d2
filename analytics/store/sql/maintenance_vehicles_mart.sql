-- one row per vehicle in the active base at $as_of: maintenance_vehicles.sql read from the mart mart_vehicle_days
-- The vehicle's row on $as_of (its latest visit day on or before it) gives the running values; its
-- rows on $as_of - 365 and $as_of - 730, when there are, are subtracted from those counted over
-- the last 365 or 730 days. The purchase date is the one on most of its orders on or before $as_of
-- (the earliest on a tie): the one date when the vehicle has one so far, else recomputed from its work orders.
WITH latest AS (
    SELECT m.*
    FROM mart_vehicle_days AS m
    WHERE m.visit_date <= $as_of AND (m.next_visit IS NULL OR m.next_visit > $as_of)
      AND m.visit_date > $as_of - $base_days
),
year_ago AS (
    SELECT m.vin, m.cum_visits, m.cum_repair + m.cum_warranty AS cum_repairs
    FROM mart_vehicle_days AS m
    WHERE m.visit_date <= $as_of - 365 AND (m.next_visit IS NULL OR m.next_visit > $as_of - 365)
),
two_years_ago AS (
    SELECT m.vin, m.cum_body_paint, m.cum_spend
    FROM mart_vehicle_days AS m
    WHERE m.visit_date <= $as_of - 730 AND (m.next_visit IS NULL OR m.next_visit > $as_of - 730)
),
purchase AS (
    -- vehicles with more than one purchase date so far
    SELECT vin, arg_min(purchase_date, (-n, purchase_date)) AS purchase_date
    FROM (
        SELECT vin, purchase_date, count(*) AS n
        FROM service_orders
        WHERE vin IN (SELECT vin FROM latest WHERE purchase_min <> purchase_max)
          AND visit_date <= $as_of AND purchase_date <= $as_of
        GROUP BY vin, purchase_date
    )
    GROUP BY vin
)
SELECT
    l.vin,
    l.store,
    l.plate,
    l.customer_name,
    l.phone,
    l.model,
    l.last_service_type,
    l.first_visit,
    l.visit_date AS last_visit,
    l.last_maintenance,
    l.cum_visits AS visits,
    l.cum_visits - coalesce(y.cum_visits, 0) AS visits_365,
    l.cum_maintenance AS maintenance_visits,
    l.cum_first_maintenance > 0 AS first_maintenance_done,
    l.cum_repair + l.cum_warranty - coalesce(y.cum_repairs, 0) AS repairs_365,
    l.cum_body_paint - coalesce(t.cum_body_paint, 0) AS body_paint_730,
    l.cum_spend - coalesce(t.cum_spend, 0) AS spend_730,
    CAST(l.cum_appointments AS DOUBLE) / l.cum_visits AS appointment_share,
    CASE
        WHEN l.purchase_min <> l.purchase_max THEN p.purchase_date
        WHEN l.purchase_min <= $as_of THEN l.purchase_min
    END AS purchase_date,
    l.median_gap_days AS maintenance_gap_days
FROM latest AS l
LEFT JOIN year_ago AS y USING (vin)
LEFT JOIN two_years_ago AS t USING (vin)
LEFT JOIN purchase AS p USING (vin)
