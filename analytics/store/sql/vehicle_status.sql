-- one row per (as-of date, vehicle in the active base): last visit, expected interval, status
-- Base: a visit in (D - base_days, D]. Lost: last visit on or before D - lost_days. At risk: not
-- lost and days since the last visit above at_risk_factor times the expected interval, which is
-- the vehicle's own median maintenance gap (enough gaps), else the routine schedule at its km
-- per day, else the default interval.
WITH history AS (
    SELECT * FROM {{ ref('vehicle_history') }} AS h
),
rated AS (
    SELECT h.*,
           date_diff('day', h.last_visit, h.as_of) AS days_since,
           CASE
               WHEN h.maintenance_gaps >= $own_rhythm_min_gaps THEN 'own'
               WHEN h.km_per_day IS NOT NULL THEN 'schedule'
               ELSE 'default'
           END AS interval_source
    FROM history AS h
    WHERE h.last_visit > h.as_of - CAST($base_days AS INTEGER)
      AND ($stores::VARCHAR[] IS NULL OR list_contains($stores::VARCHAR[], h.store))
),
expected AS (
    SELECT r.*,
           CAST(CASE r.interval_source
               WHEN 'own' THEN r.median_gap_days
               WHEN 'schedule' THEN least(
                   $routine_days,
                   CASE WHEN r.km_per_day > 0 THEN floor($routine_km / r.km_per_day) END
               )
               ELSE $default_interval_days
           END AS DOUBLE) AS expected_interval_days
    FROM rated AS r
)
SELECT as_of, vin, store, last_visit, days_since, expected_interval_days, interval_source,
       days_since / expected_interval_days AS overdue_ratio,
       CASE
           WHEN last_visit <= as_of - CAST($lost_days AS INTEGER) THEN 'lost'
           WHEN days_since > $at_risk_factor * expected_interval_days THEN 'at_risk'
           ELSE 'active'
       END AS status
FROM expected
