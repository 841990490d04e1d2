-- one row per requested month: callback attempts, 3DC reach, satisfaction, NPS and complaint counts
-- A callback belongs to the month of its date. Satisfaction and NPS count reached survey calls
-- (survey_types) with the score present; an attempt whose reached flag is unknown counts as not
-- reached. A complaint is timely when resolved within its
-- level's limit counted in hours from the callback; an unresolved complaint is not timely.
WITH months AS (
    SELECT DISTINCT unnest($months::DATE[]) AS month
),
cb AS (
    SELECT f.*, CAST(date_trunc('month', f.callback_day) AS DATE) AS month
    FROM {{ ref('callback_facts') }} AS f
    WHERE f.callback_day >= (SELECT min(month) FROM months)
      AND f.callback_day <= (SELECT last_day(max(month)) FROM months)
      AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], f.store))
),
flagged AS (
    SELECT cb.*,
           coalesce(cb.reached, false) AND list_contains($survey_types::VARCHAR[], cb.callback_type) AS survey
    FROM cb
)
SELECT m.month,
       count(f.callback_id) AS callbacks,
       count(f.callback_id) FILTER (WHERE f.callback_type = '3DC') AS attempts_3dc,
       count(f.callback_id) FILTER (WHERE f.callback_type = '3DC' AND f.reached) AS reached_3dc,
       count(f.callback_id) FILTER (WHERE f.survey AND f.overall_score IS NOT NULL) AS scored,
       count(f.callback_id) FILTER (WHERE f.survey AND f.overall_score >= $satisfied_threshold) AS satisfied,
       count(f.callback_id) FILTER (WHERE f.survey AND f.recommend_score IS NOT NULL) AS recommend_n,
       count(f.callback_id) FILTER (WHERE f.survey AND f.recommend_score >= $nps_promoter_min) AS promoters,
       count(f.callback_id) FILTER (WHERE f.survey AND f.recommend_score <= $nps_detractor_max) AS detractors,
       count(f.callback_id) FILTER (WHERE f.is_complaint) AS complaints,
       count(f.callback_id) FILTER (
           WHERE f.is_complaint AND f.resolved_at IS NOT NULL
             AND date_diff('second', f.callback_date, f.resolved_at) <= f.limit_hours * 3600
       ) AS timely
FROM months AS m
LEFT JOIN flagged AS f USING (month)
GROUP BY m.month
ORDER BY m.month
