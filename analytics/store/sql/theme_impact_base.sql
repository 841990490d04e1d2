-- one row per reached callback dated in [$start, $end) with an overall score (the month's
-- satisfaction-rate base) and its recommend score, limited to $stores when given
-- (a callback's store: its order's, else the one its own file named)
SELECT c.callback_id,
       c.overall_score,
       c.recommend_score
FROM {{ ref('linked_callbacks') }} c
LEFT JOIN service_orders o ON o.order_id = c.linked_order_id
WHERE c.callback_date >= $start
  AND c.callback_date < $end
  AND coalesce(c.reached, false)
  AND c.overall_score IS NOT NULL
  AND ($stores IS NULL OR list_contains($stores, coalesce(o.store, c.store)))
ORDER BY c.callback_id
