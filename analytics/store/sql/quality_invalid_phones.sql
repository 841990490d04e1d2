-- one row per vehicle whose latest phone is not a valid mainland mobile number
SELECT vin, store, plate, customer_name, phone, last_visit
FROM vehicles
WHERE phone IS NOT NULL
  AND NOT regexp_full_match(regexp_replace(phone, '^(\+?86)|[\s\-]', '', 'g'), '1[3-9][0-9]{9}')
ORDER BY last_visit DESC, vin
