-- one row per (as-of date, vehicle in the active base): its status, store, car model and the advisor of its last visit
-- kpi_vehicle_rows.sql read from the mart mart_vehicle_months (as-of dates that are month-ends).
SELECT s.as_of, s.vin, s.status, s.store, v.model, s.advisor
FROM mart_vehicle_months AS s
LEFT JOIN vehicles AS v ON v.vin = s.vin
WHERE s.as_of IN (SELECT unnest($as_of_dates::DATE[]))
  AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], s.store))
