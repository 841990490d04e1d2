-- a work-order number's key: its digits alone, leading zeros dropped ('WO0001234' and '1234' give '1234'; '' when it has no digit)
ltrim(regexp_replace({{ value }}, '[^0-9]', '', 'g'), '0')
