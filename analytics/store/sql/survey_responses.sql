-- one row per reached survey callback dated in [start, end]: its segment columns and scores
SELECT f.callback_id, f.callback_date, f.callback_day,
       CAST(date_trunc('month', f.callback_day) AS DATE) AS month,
       f.callback_type, f.store, f.advisor, f.service_type, f.model,
       f.overall_score, f.attitude_score, f.quality_score, f.timeliness_score, f.price_score,
       f.environment_score, f.recommend_score
FROM {{ ref('callback_facts') }} AS f
WHERE coalesce(f.reached, false)
  AND list_contains($survey_types::VARCHAR[], f.callback_type)
  AND f.callback_day BETWEEN $start AND $end
  AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], f.store))
ORDER BY f.callback_id
