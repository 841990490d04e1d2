-- one row per (month, vehicle whose next maintenance falls due in it): due date and return visit
-- A mart (analytics/store/derived.py): due_maintenance.sql for every store, each month seen from
-- the month-end before it, kept as the table mart_due_months. Every figure is a vehicle's own, so a
-- refresh recomputes only the vehicles an import touched.
SELECT d.month, d.vin, d.store, d.last_maintenance, d.purchase_date, d.km_per_day, d.due_date, d.returned_on
FROM {{ ref('due_maintenance') }} AS d
