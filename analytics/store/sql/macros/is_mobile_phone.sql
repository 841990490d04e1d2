-- whether a phone is a valid mainland mobile number once a +86/86 prefix, spaces and dashes are set aside (NULL for NULL)
regexp_full_match(regexp_replace({{ value }}, '^(\+?86)|[\s\-]', '', 'g'), '1[3-9][0-9]{9}')
