-- a visit day's odometer pace in km a day: its reading {{ value }} since the vehicle's previous reading (prev_km on prev_km_date), or before the first since purchase (purchase_so_far) at 0 km; NULL without a reading
CASE
    WHEN {{ value }} IS NULL THEN NULL
    WHEN prev_km_date IS NOT NULL THEN ({{ value }} - prev_km) / date_diff('day', prev_km_date, visit_date)
    WHEN purchase_so_far < visit_date THEN {{ value }} / date_diff('day', purchase_so_far, visit_date)
END
