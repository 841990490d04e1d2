-- one row per staged work order: the row as it stands after the import, and the action that writes it
-- ($m_<column> is true when the file supplies the column, and s.lacking names the columns a row's sheet
-- lacks: a column the file or the row's sheet lacks keeps the stored value, and so does an empty cell,
-- so that exports taken at different times (an open order's amount still blank, then settled) end
-- in the same rows whichever is imported last); other_store names the
-- store of a stored order with the same number that is another store's order (another store, and
-- another car or day): two stores numbering alike, not a correction (ingest.load._set_aside_collisions)
WITH s AS (
    SELECT
        CAST(source_row AS INTEGER) AS source_row,
        CAST(pos AS BIGINT) AS pos,
        CAST(order_id AS VARCHAR) AS order_id,
        CAST(store AS VARCHAR) AS store,
        CAST(vin AS VARCHAR) AS vin,
        CAST(plate AS VARCHAR) AS plate,
        CAST(customer_name AS VARCHAR) AS customer_name,
        CAST(phone AS VARCHAR) AS phone,
        CAST(model AS VARCHAR) AS model,
        CAST(purchase_date AS DATE) AS purchase_date,
        CAST(visit_date AS DATE) AS visit_date,
        CAST(mileage_km AS INTEGER) AS mileage_km,
        CAST(service_type AS VARCHAR) AS service_type,
        CAST(amount AS DECIMAL(18, 2)) AS amount,
        CAST(advisor AS VARCHAR) AS advisor,
        CAST(is_appointment AS BOOLEAN) AS is_appointment,
        lacking
    FROM ingest_staged
)
SELECT
    s.source_row,
    s.order_id,
    CASE WHEN ($m_store AND NOT contains(s.lacking, ',store,') AND s.store IS NOT NULL) OR t.order_id IS NULL THEN s.store ELSE t.store END AS store,
    CASE WHEN ($m_vin AND NOT contains(s.lacking, ',vin,') AND s.vin IS NOT NULL) OR t.order_id IS NULL THEN s.vin ELSE t.vin END AS vin,
    CASE WHEN ($m_plate AND NOT contains(s.lacking, ',plate,') AND s.plate IS NOT NULL) OR t.order_id IS NULL THEN s.plate ELSE t.plate END AS plate,
    CASE WHEN ($m_customer_name AND NOT contains(s.lacking, ',customer_name,') AND s.customer_name IS NOT NULL) OR t.order_id IS NULL THEN s.customer_name ELSE t.customer_name END AS customer_name,
    CASE WHEN ($m_phone AND NOT contains(s.lacking, ',phone,') AND s.phone IS NOT NULL) OR t.order_id IS NULL THEN s.phone ELSE t.phone END AS phone,
    CASE WHEN ($m_model AND NOT contains(s.lacking, ',model,') AND s.model IS NOT NULL) OR t.order_id IS NULL THEN s.model ELSE t.model END AS model,
    CASE WHEN ($m_purchase_date AND NOT contains(s.lacking, ',purchase_date,') AND s.purchase_date IS NOT NULL) OR t.order_id IS NULL THEN s.purchase_date ELSE t.purchase_date END AS purchase_date,
    CASE WHEN ($m_visit_date AND NOT contains(s.lacking, ',visit_date,') AND s.visit_date IS NOT NULL) OR t.order_id IS NULL THEN s.visit_date ELSE t.visit_date END AS visit_date,
    CASE WHEN ($m_mileage_km AND NOT contains(s.lacking, ',mileage_km,') AND s.mileage_km IS NOT NULL) OR t.order_id IS NULL THEN s.mileage_km ELSE t.mileage_km END AS mileage_km,
    CASE WHEN ($m_service_type AND NOT contains(s.lacking, ',service_type,') AND s.service_type IS NOT NULL) OR t.order_id IS NULL THEN s.service_type ELSE t.service_type END AS service_type,
    CASE WHEN ($m_amount AND NOT contains(s.lacking, ',amount,') AND s.amount IS NOT NULL) OR t.order_id IS NULL THEN s.amount ELSE t.amount END AS amount,
    CASE WHEN ($m_advisor AND NOT contains(s.lacking, ',advisor,') AND s.advisor IS NOT NULL) OR t.order_id IS NULL THEN s.advisor ELSE t.advisor END AS advisor,
    CASE WHEN ($m_is_appointment AND NOT contains(s.lacking, ',is_appointment,') AND s.is_appointment IS NOT NULL) OR t.order_id IS NULL THEN s.is_appointment ELSE t.is_appointment END AS is_appointment,
    CASE
        WHEN t.order_id IS NULL THEN 'insert'
        WHEN
             (($m_store AND NOT contains(s.lacking, ',store,') AND s.store IS NOT NULL) AND s.store IS DISTINCT FROM t.store)
          OR (($m_vin AND NOT contains(s.lacking, ',vin,') AND s.vin IS NOT NULL) AND s.vin IS DISTINCT FROM t.vin)
          OR (($m_plate AND NOT contains(s.lacking, ',plate,') AND s.plate IS NOT NULL) AND s.plate IS DISTINCT FROM t.plate)
          OR (($m_customer_name AND NOT contains(s.lacking, ',customer_name,') AND s.customer_name IS NOT NULL) AND s.customer_name IS DISTINCT FROM t.customer_name)
          OR (($m_phone AND NOT contains(s.lacking, ',phone,') AND s.phone IS NOT NULL) AND s.phone IS DISTINCT FROM t.phone)
          OR (($m_model AND NOT contains(s.lacking, ',model,') AND s.model IS NOT NULL) AND s.model IS DISTINCT FROM t.model)
          OR (($m_purchase_date AND NOT contains(s.lacking, ',purchase_date,') AND s.purchase_date IS NOT NULL) AND s.purchase_date IS DISTINCT FROM t.purchase_date)
          OR (($m_visit_date AND NOT contains(s.lacking, ',visit_date,') AND s.visit_date IS NOT NULL) AND s.visit_date IS DISTINCT FROM t.visit_date)
          OR (($m_mileage_km AND NOT contains(s.lacking, ',mileage_km,') AND s.mileage_km IS NOT NULL) AND s.mileage_km IS DISTINCT FROM t.mileage_km)
          OR (($m_service_type AND NOT contains(s.lacking, ',service_type,') AND s.service_type IS NOT NULL) AND s.service_type IS DISTINCT FROM t.service_type)
          OR (($m_amount AND NOT contains(s.lacking, ',amount,') AND s.amount IS NOT NULL) AND s.amount IS DISTINCT FROM t.amount)
          OR (($m_advisor AND NOT contains(s.lacking, ',advisor,') AND s.advisor IS NOT NULL) AND s.advisor IS DISTINCT FROM t.advisor)
          OR (($m_is_appointment AND NOT contains(s.lacking, ',is_appointment,') AND s.is_appointment IS NOT NULL) AND s.is_appointment IS DISTINCT FROM t.is_appointment)
        THEN 'update'
        ELSE 'unchanged'
    END AS action,
    s.pos,
    CASE
        WHEN ($m_store AND NOT contains(s.lacking, ',store,') AND s.store IS NOT NULL)
         AND s.store IS NOT NULL AND t.store IS NOT NULL AND s.store <> t.store
         AND (
                (s.vin IS NOT NULL AND t.vin IS NOT NULL AND s.vin <> t.vin)
             OR (s.visit_date IS NOT NULL AND t.visit_date IS NOT NULL AND s.visit_date <> t.visit_date)
         )
        THEN t.store
    END AS other_store
FROM s
LEFT JOIN service_orders AS t ON t.order_id = s.order_id
ORDER BY s.source_row
