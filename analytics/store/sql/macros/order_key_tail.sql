-- the last eight digits of a work-order number's key (order_key.sql), zero-padded when the key is shorter: what a number ending in eight digits ends in (see order_tail_unsure.sql)
lpad(right({{ value }}, 8), 8, '0')
