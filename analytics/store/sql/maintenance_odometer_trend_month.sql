-- one row per vehicle in the active base at the month-end $as_of with an odometer reading: maintenance_odometer_trend.sql's rows of that day, read from the mart mart_trend_months
SELECT t.vin, t.odometer_readings, t.km_per_day, t.km_now, t.last_reading_km, t.days_since_reading
FROM mart_trend_months AS t
WHERE t.as_of = $as_of
ORDER BY t.vin
