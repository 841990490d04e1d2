-- one row per callback whose non-blank comment has no stored tokens yet, or tokens of an older
-- text; tokens: those already stored for the same text under another callback, else NULL
WITH pending AS (
    SELECT c.callback_id, c.comment
    FROM callbacks c
    LEFT JOIN comment_tokens t ON t.callback_id = c.callback_id
    WHERE nullif(trim(c.comment), '') IS NOT NULL
      AND (t.callback_id IS NULL OR t.comment IS DISTINCT FROM c.comment)
),
known AS (
    SELECT comment, any_value(tokens) AS tokens
    FROM comment_tokens
    WHERE comment IN (SELECT comment FROM pending)
    GROUP BY comment
)
SELECT p.callback_id, p.comment, k.tokens
FROM pending p
LEFT JOIN known k ON k.comment = p.comment
ORDER BY p.callback_id
