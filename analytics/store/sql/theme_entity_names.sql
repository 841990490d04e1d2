-- the store's own names that are never themes: car models, advisors, stores (work orders and
-- vehicles) and callback agents, one distinct non-blank name a row
SELECT DISTINCT name FROM (
    SELECT model AS name FROM service_orders
    UNION ALL SELECT advisor FROM service_orders
    UNION ALL SELECT store FROM service_orders
    UNION ALL SELECT model FROM vehicles
    UNION ALL SELECT store FROM vehicles
    UNION ALL SELECT agent FROM callbacks
) AS n
WHERE nullif(trim(name), '') IS NOT NULL
ORDER BY name
