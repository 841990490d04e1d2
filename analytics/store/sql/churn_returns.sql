-- one row per (cutoff, vehicle seen on or before it): whether it made a visit within horizon_days after the cutoff
-- A visit at any store counts as a return: a customer who moved to a sister store is not lost.
WITH cutoffs AS (
    SELECT DISTINCT unnest($cutoffs::DATE[]) AS cutoff
)
SELECT k.cutoff, o.vin, min(o.visit_date) AS next_visit
FROM cutoffs AS k
JOIN service_orders AS o
  ON o.visit_date > k.cutoff AND o.visit_date <= k.cutoff + CAST($horizon_days AS INTEGER)
WHERE o.vin IS NOT NULL
GROUP BY k.cutoff, o.vin
ORDER BY k.cutoff, o.vin
