-- one row per (vehicle, visit day): how many new owners the vehicle has had by then
-- A day's person is the name and phone of its work orders as arg_max reads them (the latest
-- non-empty one by order_id, as mart_vehicle_days.sql does). A new owner appears on a day whose
-- name differs from the latest name before it while its phone is not the latest phone before it,
-- a blank one included (a car sold: 王强 13700000010, then 赵敏 13600000010 or 周杰 with no
-- number). The same number beside another spelling of the name (郭先生 for 郭靖) is the same owner;
-- so is a name changed where no phone was ever given. owner_seq: the new owners so far (0: the first).
WITH days AS (
    SELECT vin, visit_date,
           arg_max(customer_name, order_id) AS customer_name,
           arg_max(phone, order_id) AS phone
    FROM service_orders
    WHERE vin IS NOT NULL
    GROUP BY vin, visit_date
),
flagged AS (
    SELECT vin, visit_date,
           coalesce(
               customer_name <> last_value(customer_name IGNORE NULLS) OVER earlier
               AND phone IS DISTINCT FROM last_value(phone IGNORE NULLS) OVER earlier,
               false
           ) AS new_owner
    FROM days
    WINDOW earlier AS (PARTITION BY vin ORDER BY visit_date ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
)
SELECT vin, visit_date, new_owner,
       CAST(sum(CASE WHEN new_owner THEN 1 ELSE 0 END) OVER (
           PARTITION BY vin ORDER BY visit_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
       ) AS BIGINT) AS owner_seq
FROM flagged
