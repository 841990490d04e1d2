-- one row per requested month: active base, lost and at-risk vehicles on its last day; vehicles due for maintenance in it and those back
-- as_of_dates must hold each month's last day (churn) and the day before it starts (due dates);
-- both parts read the same vehicle history.
WITH months AS (
    SELECT DISTINCT unnest($months::DATE[]) AS month
),
churn AS (
    SELECT s.as_of,
           count(*) AS base,
           count(*) FILTER (WHERE s.status = 'lost') AS lost,
           count(*) FILTER (WHERE s.status = 'at_risk') AS at_risk
    FROM {{ ref('vehicle_status') }} AS s
    GROUP BY s.as_of
),
due AS (
    SELECT d.month, count(*) AS due, count(d.returned_on) AS returned
    FROM {{ ref('due_maintenance') }} AS d
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
