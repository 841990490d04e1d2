-- one row per complaint category among callbacks flagged as complaints dated in [$start, $end)
-- A callback's store: its order's, else the one its own file named.
SELECT coalesce(nullif(trim(c.complaint_category), ''), '') AS category,
       count(*) AS n
FROM {{ ref('linked_callbacks') }} c
LEFT JOIN service_orders o ON o.order_id = c.linked_order_id
WHERE coalesce(c.is_complaint, false)
  AND c.callback_date >= $start
  AND c.callback_date < $end
  AND ($stores IS NULL OR list_contains($stores, coalesce(o.store, c.store)))
GROUP BY 1
ORDER BY n DESC, category
