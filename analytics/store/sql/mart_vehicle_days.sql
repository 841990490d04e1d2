-- one row per (vehicle, visit day): its work orders up to and including that day as running values, and its next visit day
-- A mart (analytics/store/derived.py) kept as the table mart_vehicle_days. A vehicle's history as
-- of any date D is its row with visit_date <= D < next_visit (one lookup); a count or sum over
-- (D - n, D] is the running value at D minus the one at D - n (a second lookup). "Latest" values
-- (store, name, ...) are the latest non-empty one, by (visit day, order_id), as arg_max reads
-- them; the phone is the latest one of the current owner (owner_days.sql: owner_seq counts the new
-- owners), so a sold car never shows its new owner beside the former owner's number (a blank one
-- when the new owner gave none). What is not a running value is
-- kept exact otherwise: the median gaps as window medians over the days so far; the mode of the
-- purchase date is only a lookup while the vehicle has one purchase date so far (purchase_min =
-- purchase_max), the reads recompute it from the work orders otherwise; the first day reading
-- warranty_km or more, a setting, comes from day_max_km. Every figure is the vehicle's own: a
-- refresh recomputes only the vehicles an import touched.
WITH days AS (
    SELECT vin, visit_date,
           arg_max(store, order_id) AS d_store,
           arg_max(model, order_id) AS d_model,
           arg_max(advisor, order_id) AS d_advisor,
           arg_max(plate, order_id) AS d_plate,
           arg_max(customer_name, order_id) AS d_customer_name,
           arg_max(phone, order_id) AS d_phone,
           max(order_id) AS d_order_id,
           arg_max(service_type, order_id) AS d_service_type,
           arg_max(amount, order_id) AS d_amount,
           min(purchase_date) AS d_purchase_min,
           max(purchase_date) AS d_purchase_max,
           count(*) AS d_orders,
           count(*) FILTER (WHERE service_type IN ('first_maintenance', 'maintenance')) AS d_maintenance,
           count(*) FILTER (WHERE service_type = 'first_maintenance') AS d_first_maintenance,
           count(*) FILTER (WHERE service_type = 'repair') AS d_repair,
           count(*) FILTER (WHERE service_type = 'warranty') AS d_warranty,
           count(*) FILTER (WHERE service_type = 'body_paint') AS d_body_paint,
           coalesce(sum(amount), 0) AS d_spend,
           count(*) FILTER (WHERE is_appointment) AS d_appointments,
           count(is_appointment) AS d_appointment_known,
           arg_min(mileage_km, order_id) FILTER (WHERE mileage_km IS NOT NULL) AS d_first_km,
           arg_max(mileage_km, order_id) FILTER (WHERE mileage_km IS NOT NULL) AS d_last_km,
           max(mileage_km) AS day_max_km
    FROM service_orders
    WHERE vin IS NOT NULL
    GROUP BY vin, visit_date
),
owners AS (
    SELECT d.*, w.owner_seq
    FROM days AS d
    JOIN {{ ref('owner_days') }} AS w ON w.vin = d.vin AND w.visit_date = d.visit_date
),
gaps AS (
    SELECT *,
           date_diff('day', lag(visit_date) OVER (PARTITION BY vin ORDER BY visit_date), visit_date) AS visit_gap,
           CASE WHEN d_maintenance > 0 THEN date_diff('day', max(CASE WHEN d_maintenance > 0 THEN visit_date END) OVER p,
               visit_date) END AS maintenance_gap,
           last_value(d_last_km IGNORE NULLS) OVER p AS prev_km,
           max(CASE WHEN d_last_km IS NOT NULL THEN visit_date END) OVER p AS prev_km_date,
           min(d_purchase_min) OVER (
               PARTITION BY vin ORDER BY visit_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
           ) AS purchase_so_far
    FROM owners
    WINDOW p AS (PARTITION BY vin ORDER BY visit_date ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
paces AS (
    -- the odometer's pace since the previous reading (the purchase day as 0 km before the first);
    -- one running backwards or faster than $max_km_per_day is a keying error and left out
    SELECT * EXCLUDE (pace, prev_km, prev_km_date, purchase_so_far),
           CASE WHEN pace >= 0 AND pace <= $max_km_per_day THEN pace END AS pace
    FROM (
        SELECT *, {{ macro('odometer_pace', 'd_first_km') }} AS pace
        FROM gaps
    )
),
running AS (
    SELECT vin, visit_date,
           lead(visit_date) OVER (PARTITION BY vin ORDER BY visit_date) AS next_visit,
           d_store AS day_store,
           last_value(d_store IGNORE NULLS) OVER w AS store,
           last_value(d_model IGNORE NULLS) OVER w AS model,
           last_value(d_advisor IGNORE NULLS) OVER w AS advisor,
           last_value(d_plate IGNORE NULLS) OVER w AS plate,
           last_value(d_customer_name IGNORE NULLS) OVER w AS customer_name,
           last_value(d_phone IGNORE NULLS) OVER (
               PARTITION BY vin, owner_seq ORDER BY visit_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
           ) AS phone,
           last_value(d_order_id IGNORE NULLS) OVER w AS last_order_id,
           last_value(d_service_type IGNORE NULLS) OVER w AS last_service_type,
           last_value(d_amount IGNORE NULLS) OVER w AS last_amount,
           min(d_purchase_min) OVER w AS purchase_min,
           max(d_purchase_max) OVER w AS purchase_max,
           min(visit_date) OVER w AS first_visit,
           max(CASE WHEN d_maintenance > 0 THEN visit_date END) OVER w AS last_maintenance,
           CAST(sum(d_orders) OVER w AS BIGINT) AS cum_visits,
           CAST(sum(d_maintenance) OVER w AS BIGINT) AS cum_maintenance,
           CAST(sum(d_first_maintenance) OVER w AS BIGINT) AS cum_first_maintenance,
           CAST(sum(d_repair) OVER w AS BIGINT) AS cum_repair,
           CAST(sum(d_warranty) OVER w AS BIGINT) AS cum_warranty,
           CAST(sum(d_body_paint) OVER w AS BIGINT) AS cum_body_paint,
           sum(d_spend) OVER w AS cum_spend,
           CAST(sum(d_appointments) OVER w AS BIGINT) AS cum_appointments,
           CAST(sum(d_appointment_known) OVER w AS BIGINT) AS cum_appointment_known,
           first_value(d_first_km IGNORE NULLS) OVER w AS first_km,
           min(CASE WHEN d_first_km IS NOT NULL THEN visit_date END) OVER w AS first_km_date,
           last_value(d_last_km IGNORE NULLS) OVER w AS last_km,
           max(CASE WHEN d_last_km IS NOT NULL THEN visit_date END) OVER w AS last_km_date,
           day_max_km,
           median(visit_gap) OVER w AS median_visit_gap,
           max(visit_gap) OVER w AS max_visit_gap,
           count(maintenance_gap) OVER w AS maintenance_gaps,
           median(maintenance_gap) OVER w AS median_gap_days,
           median(pace) OVER w AS km_per_day
    FROM paces
    WINDOW w AS (PARTITION BY vin ORDER BY visit_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT r.*
FROM running AS r
