-- one row per month (the day after each as-of date): vehicles due for maintenance and those that returned
WITH months AS (
    SELECT DISTINCT CAST(unnest($as_of_dates::DATE[]) + 1 AS DATE) AS month
),
due AS (
    SELECT * FROM {{ ref('due_maintenance') }} AS d
)
SELECT m.month,
       count(due.vin) AS due,
       count(due.returned_on) AS returned
FROM months AS m
LEFT JOIN due USING (month)
GROUP BY m.month
ORDER BY m.month
