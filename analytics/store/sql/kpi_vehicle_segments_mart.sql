-- one row per (as-of date, advisor, car model, store) of the active base: its vehicles, those lost and those at risk
-- kpi_vehicle_rows_mart.sql (the mart mart_vehicle_months) counted per segment, so the "why?" breakdowns read a few thousand rows, not
-- every vehicle of the base.
SELECT r.as_of, r.advisor, r.model, r.store,
       count(*) AS one,
       count(*) FILTER (WHERE r.status = 'lost') AS is_lost,
       count(*) FILTER (WHERE r.status = 'at_risk') AS is_at_risk
FROM {{ ref('kpi_vehicle_rows_mart') }} AS r
GROUP BY ALL
