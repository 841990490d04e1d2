-- one row: the callbacks dated in the month that belong to no store (no store in their file, their
-- work order not imported, and no earlier work order of their vehicle): counted for all stores only
SELECT count(*) AS n
FROM {{ ref('callback_facts') }} AS f
WHERE f.store IS NULL
  AND f.callback_day >= CAST($month_start AS DATE)
  AND f.callback_day < CAST($month_start AS DATE) + INTERVAL 1 MONTH
