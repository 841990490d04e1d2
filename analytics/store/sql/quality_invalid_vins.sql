-- one row per work order whose VIN fails the ISO 3779 check (length, characters, check digit)
WITH v AS (
    SELECT DISTINCT upper(trim(vin)) AS vin FROM service_orders WHERE vin IS NOT NULL
), chars AS (
    SELECT vin, i, substr(vin, i, 1) AS c,
           strpos('0123456789ABCDEFGHJKLMNPRSTUVWXYZ', substr(vin, i, 1)) AS pos
    FROM v, range(1, 18) AS r(i)
    WHERE length(vin) = 17
), scored AS (
    SELECT vin,
           bool_and(pos > 0) AS chars_ok,
           sum(
               [0,1,2,3,4,5,6,7,8,9, 1,2,3,4,5,6,7,8, 1,2,3,4,5,7,9, 2,3,4,5,6,7,8,9][greatest(pos, 1)]
               * [8,7,6,5,4,3,2,10,0,9,8,7,6,5,4,3,2][i]
           ) % 11 AS check_value,
           max(CASE WHEN i = 9 THEN c END) AS check_char
    FROM chars GROUP BY vin
), bad AS (
    SELECT vin, 'length' AS problem FROM v WHERE length(vin) <> 17
    UNION ALL
    SELECT vin, 'characters' FROM scored WHERE NOT chars_ok
    UNION ALL
    SELECT vin, 'check digit' FROM scored
    WHERE chars_ok AND check_char <> CASE WHEN check_value = 10 THEN 'X' ELSE CAST(check_value AS VARCHAR) END
)
SELECT o.order_id, o.store, o.vin, o.plate, o.visit_date, bad.problem
FROM service_orders o JOIN bad ON upper(trim(o.vin)) = bad.vin
ORDER BY o.visit_date, o.order_id
