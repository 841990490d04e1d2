-- one row per staged callback attempt: the row as it stands after the import, and the action that writes it
-- ($m_<column> is true when the file supplies the column, and s.lacking names the columns a row's sheet
-- lacks: a column the file or the row's sheet lacks keeps the stored value, and so does an empty cell,
-- so that exports taken at different times (before the call was answered, after) end in the same rows
-- whichever is imported last; except the work-order number, whose absence is a statement: a call on
-- no work order is a delivery call, and a placeholder stored by an older version is corrected; and a
-- call's date without a time of day (an export that writes the day only), which keeps the time stored
-- for the call on that day, whichever export is imported last, and a time without seconds (Excel's
-- minutes) keeps the stored seconds of that minute); other_store names the store of a
-- stored call with the same number that is another store's call (another store, and another car or
-- day): two stores numbering their calls alike, not a correction (ingest.load._set_aside_collisions)
WITH s AS (
    SELECT
        CAST(source_row AS INTEGER) AS source_row,
        CAST(pos AS BIGINT) AS pos,
        CAST(callback_id AS VARCHAR) AS callback_id,
        CAST(order_id AS VARCHAR) AS order_id,
        CAST(vin AS VARCHAR) AS vin,
        CAST(customer_name AS VARCHAR) AS customer_name,
        CAST(phone AS VARCHAR) AS phone,
        CAST(store AS VARCHAR) AS store,
        CAST(callback_type AS VARCHAR) AS callback_type,
        CAST(callback_date AS TIMESTAMP) AS callback_date,
        CAST(agent AS VARCHAR) AS agent,
        CAST(reached AS BOOLEAN) AS reached,
        CAST(overall_score AS DOUBLE) AS overall_score,
        CAST(attitude_score AS DOUBLE) AS attitude_score,
        CAST(quality_score AS DOUBLE) AS quality_score,
        CAST(timeliness_score AS DOUBLE) AS timeliness_score,
        CAST(price_score AS DOUBLE) AS price_score,
        CAST(environment_score AS DOUBLE) AS environment_score,
        CAST(recommend_score AS DOUBLE) AS recommend_score,
        CAST(comment AS VARCHAR) AS comment,
        CAST(is_complaint AS BOOLEAN) AS is_complaint,
        CAST(complaint_category AS VARCHAR) AS complaint_category,
        CAST(complaint_level AS INTEGER) AS complaint_level,
        CAST(resolved_at AS TIMESTAMP) AS resolved_at,
        lacking
    FROM ingest_staged
)
SELECT
    s.source_row,
    s.callback_id,
    CASE WHEN ($m_order_id AND NOT contains(s.lacking, ',order_id,')) OR t.callback_id IS NULL THEN s.order_id ELSE t.order_id END AS order_id,
    CASE WHEN ($m_vin AND NOT contains(s.lacking, ',vin,') AND s.vin IS NOT NULL) OR t.callback_id IS NULL THEN s.vin ELSE t.vin END AS vin,
    CASE WHEN ($m_customer_name AND NOT contains(s.lacking, ',customer_name,') AND s.customer_name IS NOT NULL) OR t.callback_id IS NULL THEN s.customer_name ELSE t.customer_name END AS customer_name,
    CASE WHEN ($m_phone AND NOT contains(s.lacking, ',phone,') AND s.phone IS NOT NULL) OR t.callback_id IS NULL THEN s.phone ELSE t.phone END AS phone,
    CASE WHEN ($m_store AND NOT contains(s.lacking, ',store,') AND s.store IS NOT NULL) OR t.callback_id IS NULL THEN s.store ELSE t.store END AS store,
    CASE WHEN ($m_callback_type AND NOT contains(s.lacking, ',callback_type,') AND s.callback_type IS NOT NULL) OR t.callback_id IS NULL THEN s.callback_type ELSE t.callback_type END AS callback_type,
    CASE WHEN ($m_callback_date AND NOT contains(s.lacking, ',callback_date,') AND s.callback_date IS NOT NULL AND NOT coalesce((s.callback_date = date_trunc('day', s.callback_date) AND date_trunc('day', t.callback_date) = s.callback_date) OR (second(s.callback_date) = 0 AND date_trunc('minute', t.callback_date) = s.callback_date), false)) OR t.callback_id IS NULL THEN s.callback_date ELSE t.callback_date END AS callback_date,
    CASE WHEN ($m_agent AND NOT contains(s.lacking, ',agent,') AND s.agent IS NOT NULL) OR t.callback_id IS NULL THEN s.agent ELSE t.agent END AS agent,
    CASE WHEN ($m_reached AND NOT contains(s.lacking, ',reached,') AND s.reached IS NOT NULL) OR t.callback_id IS NULL THEN s.reached ELSE t.reached END AS reached,
    CASE WHEN ($m_overall_score AND NOT contains(s.lacking, ',overall_score,') AND s.overall_score IS NOT NULL) OR t.callback_id IS NULL THEN s.overall_score ELSE t.overall_score END AS overall_score,
    CASE WHEN ($m_attitude_score AND NOT contains(s.lacking, ',attitude_score,') AND s.attitude_score IS NOT NULL) OR t.callback_id IS NULL THEN s.attitude_score ELSE t.attitude_score END AS attitude_score,
    CASE WHEN ($m_quality_score AND NOT contains(s.lacking, ',quality_score,') AND s.quality_score IS NOT NULL) OR t.callback_id IS NULL THEN s.quality_score ELSE t.quality_score END AS quality_score,
    CASE WHEN ($m_timeliness_score AND NOT contains(s.lacking, ',timeliness_score,') AND s.timeliness_score IS NOT NULL) OR t.callback_id IS NULL THEN s.timeliness_score ELSE t.timeliness_score END AS timeliness_score,
    CASE WHEN ($m_price_score AND NOT contains(s.lacking, ',price_score,') AND s.price_score IS NOT NULL) OR t.callback_id IS NULL THEN s.price_score ELSE t.price_score END AS price_score,
    CASE WHEN ($m_environment_score AND NOT contains(s.lacking, ',environment_score,') AND s.environment_score IS NOT NULL) OR t.callback_id IS NULL THEN s.environment_score ELSE t.environment_score END AS environment_score,
    CASE WHEN ($m_recommend_score AND NOT contains(s.lacking, ',recommend_score,') AND s.recommend_score IS NOT NULL) OR t.callback_id IS NULL THEN s.recommend_score ELSE t.recommend_score END AS recommend_score,
    CASE WHEN ($m_comment AND NOT contains(s.lacking, ',comment,') AND s.comment IS NOT NULL) OR t.callback_id IS NULL THEN s.comment ELSE t.comment END AS comment,
    CASE WHEN ($m_is_complaint AND NOT contains(s.lacking, ',is_complaint,') AND s.is_complaint IS NOT NULL) OR t.callback_id IS NULL THEN s.is_complaint ELSE t.is_complaint END AS is_complaint,
    CASE WHEN ($m_complaint_category AND NOT contains(s.lacking, ',complaint_category,') AND s.complaint_category IS NOT NULL) OR t.callback_id IS NULL THEN s.complaint_category ELSE t.complaint_category END AS complaint_category,
    CASE WHEN ($m_complaint_level AND NOT contains(s.lacking, ',complaint_level,') AND s.complaint_level IS NOT NULL) OR t.callback_id IS NULL THEN s.complaint_level ELSE t.complaint_level END AS complaint_level,
    CASE WHEN ($m_resolved_at AND NOT contains(s.lacking, ',resolved_at,') AND s.resolved_at IS NOT NULL) OR t.callback_id IS NULL THEN s.resolved_at ELSE t.resolved_at END AS resolved_at,
    CASE
        WHEN t.callback_id IS NULL THEN 'insert'
        WHEN
             (($m_order_id AND NOT contains(s.lacking, ',order_id,')) AND s.order_id IS DISTINCT FROM t.order_id)
          OR (($m_vin AND NOT contains(s.lacking, ',vin,') AND s.vin IS NOT NULL) AND s.vin IS DISTINCT FROM t.vin)
          OR (($m_customer_name AND NOT contains(s.lacking, ',customer_name,') AND s.customer_name IS NOT NULL) AND s.customer_name IS DISTINCT FROM t.customer_name)
          OR (($m_phone AND NOT contains(s.lacking, ',phone,') AND s.phone IS NOT NULL) AND s.phone IS DISTINCT FROM t.phone)
          OR (($m_store AND NOT contains(s.lacking, ',store,') AND s.store IS NOT NULL) AND s.store IS DISTINCT FROM t.store)
          OR (($m_callback_type AND NOT contains(s.lacking, ',callback_type,') AND s.callback_type IS NOT NULL) AND s.callback_type IS DISTINCT FROM t.callback_type)
          OR (($m_callback_date AND NOT contains(s.lacking, ',callback_date,') AND s.callback_date IS NOT NULL) AND s.callback_date IS DISTINCT FROM t.callback_date AND NOT coalesce((s.callback_date = date_trunc('day', s.callback_date) AND date_trunc('day', t.callback_date) = s.callback_date) OR (second(s.callback_date) = 0 AND date_trunc('minute', t.callback_date) = s.callback_date), false))
          OR (($m_agent AND NOT contains(s.lacking, ',agent,') AND s.agent IS NOT NULL) AND s.agent IS DISTINCT FROM t.agent)
          OR (($m_reached AND NOT contains(s.lacking, ',reached,') AND s.reached IS NOT NULL) AND s.reached IS DISTINCT FROM t.reached)
          OR (($m_overall_score AND NOT contains(s.lacking, ',overall_score,') AND s.overall_score IS NOT NULL) AND s.overall_score IS DISTINCT FROM t.overall_score)
          OR (($m_attitude_score AND NOT contains(s.lacking, ',attitude_score,') AND s.attitude_score IS NOT NULL) AND s.attitude_score IS DISTINCT FROM t.attitude_score)
          OR (($m_quality_score AND NOT contains(s.lacking, ',quality_score,') AND s.quality_score IS NOT NULL) AND s.quality_score IS DISTINCT FROM t.quality_score)
          OR (($m_timeliness_score AND NOT contains(s.lacking, ',timeliness_score,') AND s.timeliness_score IS NOT NULL) AND s.timeliness_score IS DISTINCT FROM t.timeliness_score)
          OR (($m_price_score AND NOT contains(s.lacking, ',price_score,') AND s.price_score IS NOT NULL) AND s.price_score IS DISTINCT FROM t.price_score)
          OR (($m_environment_score AND NOT contains(s.lacking, ',environment_score,') AND s.environment_score IS NOT NULL) AND s.environment_score IS DISTINCT FROM t.environment_score)
          OR (($m_recommend_score AND NOT contains(s.lacking, ',recommend_score,') AND s.recommend_score IS NOT NULL) AND s.recommend_score IS DISTINCT FROM t.recommend_score)
          OR (($m_comment AND NOT contains(s.lacking, ',comment,') AND s.comment IS NOT NULL) AND s.comment IS DISTINCT FROM t.comment)
          OR (($m_is_complaint AND NOT contains(s.lacking, ',is_complaint,') AND s.is_complaint IS NOT NULL) AND s.is_complaint IS DISTINCT FROM t.is_complaint)
          OR (($m_complaint_category AND NOT contains(s.lacking, ',complaint_category,') AND s.complaint_category IS NOT NULL) AND s.complaint_category IS DISTINCT FROM t.complaint_category)
          OR (($m_complaint_level AND NOT contains(s.lacking, ',complaint_level,') AND s.complaint_level IS NOT NULL) AND s.complaint_level IS DISTINCT FROM t.complaint_level)
          OR (($m_resolved_at AND NOT contains(s.lacking, ',resolved_at,') AND s.resolved_at IS NOT NULL) AND s.resolved_at IS DISTINCT FROM t.resolved_at)
        THEN 'update'
        ELSE 'unchanged'
    END AS action,
    s.pos,
    CASE
        WHEN ($m_store AND NOT contains(s.lacking, ',store,') AND s.store IS NOT NULL)
         AND t.store IS NOT NULL AND s.store <> t.store
         AND (
                (s.vin IS NOT NULL AND t.vin IS NOT NULL AND s.vin <> t.vin)
             OR (s.callback_date IS NOT NULL AND t.callback_date IS NOT NULL
                 AND CAST(s.callback_date AS DATE) <> CAST(t.callback_date AS DATE))
         )
        THEN t.store
    END AS other_store
FROM s
LEFT JOIN callbacks AS t ON t.callback_id = s.callback_id
ORDER BY s.source_row
