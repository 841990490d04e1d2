-- one row per reached survey callback dated in [$start, $end) with an overall score (the month's
-- satisfaction-rate base, as monthly_callback_kpis.sql counts it: the $survey_types only, a
-- follow-up call is no survey) and its recommend score, limited to $stores when given
-- (a callback's store as callback_facts gives it: its order's, else the one its own file named)
SELECT c.callback_id,
       c.overall_score,
       c.recommend_score
FROM {{ ref('callback_facts') }} c
WHERE c.callback_date >= $start
  AND c.callback_date < $end
  AND coalesce(c.reached, false)
  AND list_contains($survey_types::VARCHAR[], c.callback_type)
  AND c.overall_score IS NOT NULL
  AND ($stores IS NULL OR list_contains($stores, c.store))
ORDER BY c.callback_id
