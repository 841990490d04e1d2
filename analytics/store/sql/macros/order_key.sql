-- a work-order number's key: its digits alone (full-width digits read as digits), leading zeros dropped ('WO0001234', '1234' and 'ＷＯ１２３４' give '1234'; '' when it has no digit)
ltrim(regexp_replace(translate({{ value }}, '０１２３４５６７８９', '0123456789'), '[^0-9]', '', 'g'), '0')
