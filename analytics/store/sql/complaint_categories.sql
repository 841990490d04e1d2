-- one row per complaint category among callbacks flagged as complaints dated in [$start, $end)
-- A callback's store as callback_facts gives it, as every other callback figure counts it (its
-- order's; a delivery call's own file's, else its vehicle's work orders'); read from the mart
-- while it is current, so the callbacks' links are not resolved again for the count.
SELECT coalesce(nullif(trim(f.complaint_category), ''), '') AS category,
       count(*) AS n
FROM {{ ref('callback_facts') }} AS f
WHERE f.is_complaint
  AND f.callback_date >= $start
  AND f.callback_date < $end
  AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], f.store))
GROUP BY 1
ORDER BY n DESC, category
