-- one row per (month, advisor, service type) in the period: scored and satisfied responses
SELECT r.month, r.advisor, r.service_type,
       count(*) AS n,
       count(*) FILTER (WHERE r.overall_score >= $satisfied_threshold) AS satisfied
FROM {{ ref('survey_responses') }} AS r
WHERE r.overall_score IS NOT NULL
GROUP BY r.month, r.advisor, r.service_type
ORDER BY r.month, r.advisor NULLS LAST, r.service_type NULLS LAST
