-- one row per (month-end, vehicle in the active base on it): its status, store and the advisor of its last visit
-- A mart (analytics/store/derived.py): kpi_vehicle_rows.sql for every store over the month-ends
-- of the data, kept as the table mart_vehicle_months. Every figure is a vehicle's own (its visits,
-- its callbacks), so a refresh recomputes only the vehicles an import touched. The car model is
-- not kept: it is the vehicle's current one, joined when the mart is read.
SELECT r.as_of, r.vin, r.status, r.store, r.advisor
FROM {{ ref('kpi_vehicle_rows') }} AS r
