-- one row per (month-end, vehicle in the active base with an odometer reading on or before it): km per day and km then
-- A mart (analytics/store/derived.py): maintenance_odometer_trend.sql over the month-ends of the
-- data, kept as the table mart_trend_months. Every figure is a vehicle's own (its readings, its
-- purchase date), so a refresh recomputes only the vehicles an import touched.
SELECT t.as_of, t.vin, t.odometer_readings, t.km_per_day, t.km_now, t.last_reading_km, t.days_since_reading
FROM {{ ref('maintenance_odometer_trend') }} AS t
