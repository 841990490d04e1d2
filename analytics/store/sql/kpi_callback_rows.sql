-- one row per callback dated in [start, end]: its month, segments and what it adds to the callback KPIs
-- The same rules as monthly_callback_kpis.sql, one row per callback instead of one per month.
WITH cb AS (
    SELECT f.*, CAST(date_trunc('month', f.callback_day) AS DATE) AS month,
           coalesce(f.reached, false) AND list_contains($survey_types::VARCHAR[], f.callback_type) AS survey
    FROM {{ ref('callback_facts') }} AS f
    WHERE f.callback_day BETWEEN $start AND $end
      AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], f.store))
)
SELECT month, advisor, service_type, model, store,
       callback_type = '3DC' AS attempt_3dc,
       callback_type = '3DC' AND coalesce(reached, false) AS reached_3dc,
       survey AND overall_score IS NOT NULL AS scored,
       survey AND coalesce(overall_score >= $satisfied_threshold, false) AS satisfied,
       survey AND recommend_score IS NOT NULL AS recommend,
       survey AND coalesce(recommend_score >= $nps_promoter_min, false) AS promoter,
       survey AND coalesce(recommend_score <= $nps_detractor_max, false) AS detractor,
       is_complaint AS complaint,
       is_complaint AND resolved_at IS NOT NULL
           AND date_diff('second', callback_date, resolved_at) <= limit_hours * 3600 AS timely
FROM cb
