-- one row per day of $days: model_inputs.sql's fingerprint of that day (count and bit_xor of the
-- row hashes of every work order dated on or before it, and of every callback as callback_facts
-- resolves it dated on or before it or undated), for many days in one pass over the records. Each
-- record is hashed once, into the first of the days on or after its date; each day then combines
-- its own and the earlier days' (bit_xor is its own inverse and order-free, so the running bit_xor
-- of the parts is the bit_xor of the whole). The refresh works out one such fingerprint for each
-- month whose views it carries: one scan instead of one per month.
WITH days AS (
    SELECT day, lag(day) OVER (ORDER BY day) AS prev
    FROM (SELECT DISTINCT unnest($days::DATE[]) AS day)
),
orders AS (
    SELECT d.day, count(*) AS n, bit_xor(hash(o)) AS x
    FROM service_orders AS o
    JOIN days AS d ON o.visit_date <= d.day AND (d.prev IS NULL OR o.visit_date > d.prev)
    GROUP BY d.day
),
calls AS (
    SELECT d.day, count(*) AS n, bit_xor(hash(f)) AS x
    FROM mart_callback_facts AS f
    JOIN days AS d
      ON (f.callback_day IS NULL AND d.prev IS NULL)
      OR (f.callback_day <= d.day AND (d.prev IS NULL OR f.callback_day > d.prev))
    GROUP BY d.day
),
running AS (
    SELECT
        d.day,
        sum(coalesce(o.n, 0)) OVER w AS orders_n,
        bit_xor(o.x) OVER w AS orders_x,
        sum(coalesce(c.n, 0)) OVER w AS calls_n,
        bit_xor(c.x) OVER w AS calls_x
    FROM days AS d
    LEFT JOIN orders AS o ON o.day = d.day
    LEFT JOIN calls AS c ON c.day = d.day
    WINDOW w AS (ORDER BY d.day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT
    day,
    orders_n::BIGINT || ':' || coalesce(orders_x, 0) || '|' || calls_n::BIGINT || ':' || coalesce(calls_x, 0) AS inputs
FROM running
ORDER BY day
