-- one row per requested month: active base, lost and at-risk vehicles on its last day; vehicles due for maintenance in it and those back
-- monthly_vehicle_counts.sql read from the marts mart_vehicle_months and mart_due_months
-- (analytics/store/derived.py says when they are current).
WITH months AS (
    SELECT DISTINCT unnest($months::DATE[]) AS month
),
churn AS (
    SELECT s.as_of,
           count(*) AS base,
           count(*) FILTER (WHERE s.status = 'lost') AS lost,
           count(*) FILTER (WHERE s.status = 'at_risk') AS at_risk
    FROM mart_vehicle_months AS s
    WHERE s.as_of IN (SELECT last_day(month) FROM months)
      AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], s.store))
    GROUP BY s.as_of
),
due AS (
    SELECT d.month, count(*) AS due, count(d.returned_on) AS returned
    FROM mart_due_months AS d
    WHERE d.month IN (SELECT month FROM months)
      AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], d.store))
    GROUP BY d.month
)
SELECT m.month,
       coalesce(c.base, 0) AS base,
       coalesce(c.lost, 0) AS lost,
       coalesce(c.at_risk, 0) AS at_risk,
       coalesce(d.due, 0) AS due,
       coalesce(d.returned, 0) AS returned
FROM months AS m
LEFT JOIN churn AS c ON c.as_of = last_day(m.month)
LEFT JOIN due AS d ON d.month = m.month
ORDER BY m.month
