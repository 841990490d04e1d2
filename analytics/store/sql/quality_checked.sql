-- one row: how many records each data-quality check reads, the count its findings are a share of
SELECT
    (SELECT count(*) FROM service_orders WHERE vin IS NOT NULL) AS duplicate_orders,
    (SELECT count(*) FROM service_orders WHERE vin IS NOT NULL) AS invalid_vins,
    (SELECT count(*) FROM vehicles WHERE phone IS NOT NULL)
        + (SELECT count(*) FROM callbacks WHERE phone IS NOT NULL) AS invalid_phones,
    (SELECT count(*) FROM service_orders WHERE vin IS NOT NULL AND mileage_km IS NOT NULL) AS mileage_backwards,
    (SELECT count(*) FROM service_orders) + (SELECT count(*) FROM callbacks) AS future_dates,
    (SELECT count(*) FROM callbacks WHERE order_id IS NOT NULL) AS unlinked_callbacks
