-- one row per (month, vehicle whose next maintenance falls due in that month): due date and return visit
-- due_maintenance.sql read from the mart mart_due_months (the month is the day after each as-of date).
SELECT d.month, d.vin, d.store, d.last_maintenance, d.purchase_date, d.km_per_day, d.due_date, d.returned_on
FROM mart_due_months AS d
WHERE d.month IN (SELECT CAST(a + 1 AS DATE) FROM (SELECT unnest($as_of_dates::DATE[]) AS a))
  AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], d.store))
ORDER BY d.month, d.vin
