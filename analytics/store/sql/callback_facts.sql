-- one row per callback attempt, with the store, order, vehicle, customer and complaint limit it belongs to
-- order_id is the number the callback's file gave, linked_order_id the work order it counts for
-- (linked_callbacks.sql). The store: a callback that follows a service visit names its order, whose store is authoritative
-- (the callback file's own store only where the order names none). A delivery callback (7DC) has no
-- order: it takes the store its own file names (the store that sold the car), else the vin's latest
-- order on or before its date, else the vin's first order (the first service usually happens where
-- the car was sold). Only the few callbacks without an order go through that lookup.
-- The customer is the one those work orders name; a callback whose work orders name nobody (a new
-- car's buyer, who has no work order yet) shows the name and phone its own file carried. A person
-- is taken whole, name and phone from one source, so no name is shown with another person's phone.
WITH limits AS (
    SELECT unnest($limit_levels::INTEGER[]) AS complaint_level,
           unnest($limit_hours::DOUBLE[]) AS limit_hours
),
linked AS (
    SELECT c.*,
           coalesce(c.vin, o.vin) AS vehicle,
           CAST(c.callback_date AS DATE) AS callback_day,
           o.order_id IS NOT NULL AS has_order,
           o.store AS order_store, o.advisor, o.service_type, o.visit_date, o.model, o.plate,
           o.customer_name AS order_customer_name, o.phone AS order_phone,
           coalesce(o.customer_name IS NOT NULL OR o.phone IS NOT NULL, false) AS order_names_someone
    FROM {{ ref('linked_callbacks') }} AS c
    LEFT JOIN service_orders AS o ON o.order_id = c.linked_order_id
),
orphans AS (
    SELECT callback_id, vehicle, callback_day FROM linked WHERE NOT has_order AND vehicle IS NOT NULL
),
first_orders AS (
    SELECT vin,
           arg_min(store, (visit_date, order_id)) AS store,
           arg_min(model, (visit_date, order_id)) AS model,
           arg_min(plate, (visit_date, order_id)) AS plate,
           arg_min(customer_name, (visit_date, order_id)) AS customer_name,
           arg_min(phone, (visit_date, order_id)) AS phone
    FROM service_orders
    WHERE vin IN (SELECT vehicle FROM orphans)
    GROUP BY vin
),
previous_orders AS (
    -- The vin's orders on or before the callback's day, latest first (the higher order number on
    -- a tie). A window, not DuckDB's ASOF join, so the query transpiles to other engines.
    SELECT r.callback_id, p.store, p.model, p.plate, p.customer_name, p.phone,
           row_number() OVER (
               PARTITION BY r.callback_id ORDER BY p.visit_date DESC, p.order_id DESC
           ) AS recency
    FROM orphans AS r
    JOIN service_orders AS p ON p.vin = r.vehicle AND p.visit_date <= r.callback_day
),
orphan_owners AS (
    SELECT r.callback_id,
           coalesce(p.store, f.store) AS store,
           coalesce(p.model, f.model) AS model,
           coalesce(p.plate, f.plate) AS plate,
           coalesce(p.customer_name, f.customer_name) AS customer_name,
           coalesce(p.phone, f.phone) AS phone,
           coalesce(p.customer_name, f.customer_name, p.phone, f.phone) IS NOT NULL AS names_someone
    FROM orphans AS r
    LEFT JOIN previous_orders AS p ON p.callback_id = r.callback_id AND p.recency = 1
    LEFT JOIN first_orders AS f ON f.vin = r.vehicle
)
SELECT l.callback_id, l.order_id, l.linked_order_id, l.vehicle AS vin, l.callback_type, l.callback_date, l.callback_day,
       l.agent, l.reached, l.overall_score, l.attitude_score, l.quality_score, l.timeliness_score,
       l.price_score, l.environment_score, l.recommend_score, l.comment,
       coalesce(l.is_complaint, false) AS is_complaint, l.complaint_category, l.complaint_level,
       l.resolved_at,
       coalesce(lim.limit_hours, $limit_default) AS limit_hours,
       CASE WHEN l.has_order THEN coalesce(l.order_store, l.store) ELSE coalesce(l.store, w.store) END AS store,
       l.advisor, l.service_type, l.visit_date,
       CASE WHEN l.has_order THEN l.model ELSE w.model END AS model,
       CASE WHEN l.has_order THEN l.plate ELSE w.plate END AS plate,
       CASE WHEN l.has_order AND l.order_names_someone THEN l.order_customer_name
            WHEN NOT l.has_order AND w.names_someone THEN w.customer_name
            ELSE l.customer_name END AS customer_name,
       CASE WHEN l.has_order AND l.order_names_someone THEN l.order_phone
            WHEN NOT l.has_order AND w.names_someone THEN w.phone
            ELSE l.phone END AS phone
FROM linked AS l
LEFT JOIN orphan_owners AS w USING (callback_id)
LEFT JOIN limits AS lim ON lim.complaint_level = l.complaint_level
