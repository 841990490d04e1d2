-- one row per callback attempt about one vehicle dated on or before as_of, newest first
-- A callback names its vehicle directly or through its work order.
SELECT c.callback_date, c.callback_type, c.agent, c.reached, c.overall_score, c.price_score,
       c.recommend_score, c.is_complaint, c.complaint_category, c.resolved_at, c.comment, c.order_id
FROM {{ ref('linked_callbacks') }} AS c
LEFT JOIN service_orders AS o ON o.order_id = c.linked_order_id
WHERE coalesce(c.vin, o.vin) = $vin AND CAST(c.callback_date AS DATE) <= $as_of
ORDER BY c.callback_date DESC, c.callback_id DESC
