-- one row per segment (the advisor, service type, model or store named by the by parameter) in the period: scored and satisfied responses
SELECT CASE $by
           WHEN 'advisor' THEN r.advisor
           WHEN 'service_type' THEN r.service_type
           WHEN 'model' THEN r.model
           WHEN 'store' THEN r.store
       END AS segment,
       count(*) AS n,
       count(*) FILTER (WHERE r.overall_score >= $satisfied_threshold) AS satisfied
FROM {{ ref('survey_responses') }} AS r
WHERE r.overall_score IS NOT NULL
GROUP BY segment
ORDER BY segment NULLS LAST
