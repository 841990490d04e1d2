-- one row per callback whose non-blank comment has no stored tokens yet, or tokens of an older text
SELECT c.callback_id, c.comment
FROM callbacks c
LEFT JOIN comment_tokens t ON t.callback_id = c.callback_id
WHERE nullif(trim(c.comment), '') IS NOT NULL
  AND (t.callback_id IS NULL OR t.comment IS DISTINCT FROM c.comment)
ORDER BY c.callback_id
