-- one row per (vehicle, visit day): its odometer points and km per day from its work orders up to that day (maintenance_odometer_points.sql), its next visit day, and the latest purchase date on those orders
-- A mart (analytics/store/derived.py) kept as the table mart_trend_days. A vehicle's trend as of any
-- date D is its row with visit_date <= D < next_visit (maintenance_odometer_points_mart.sql): no
-- work order of it lies between, so its points and slopes are D's, unless a purchase date on those
-- orders is later than the visit day (an order keyed before the car was sold: its purchase day may
-- become a point before D); features.odometer_trend runs the query then. A visit day without any
-- point has a row too (no points), so that a read sees its purchase dates. Every figure is the
-- vehicle's own: a refresh recomputes only the vehicles an import touched.
WITH days AS (
    SELECT vin, visit_date,
           lead(visit_date) OVER (PARTITION BY vin ORDER BY visit_date) AS next_visit,
           max(purchase_max) OVER (
               PARTITION BY vin ORDER BY visit_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
           ) AS purchase_max
    FROM (
        SELECT vin, visit_date, max(purchase_date) AS purchase_max
        FROM service_orders
        WHERE vin IS NOT NULL
        GROUP BY vin, visit_date
    )
)
SELECT d.vin, d.visit_date, d.next_visit, d.purchase_max, t.km_per_day, t.points
FROM days AS d
LEFT JOIN {{ ref('maintenance_odometer_points') }} AS t ON t.vin = d.vin AND t.as_of = d.visit_date
