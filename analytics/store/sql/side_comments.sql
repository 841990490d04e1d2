-- one row per callback dated in [$start, $end) with a non-blank comment on the requested side
-- (praise: reached, overall >= $threshold, not a complaint; complaint: reached with overall
-- < $threshold, or flagged as a complaint), with its order's store (else the one its own file
-- named) and advisor and its stored tokens (NULL when the comment has not been tokenised yet)
-- (callback_facts, its mart while current: the callback's linked order gives the store and
-- advisor, as its own file's store where the order names none)
SELECT c.callback_id,
       c.callback_date,
       strftime(c.callback_date, '%Y-%m') AS month,
       c.store,
       c.advisor,
       c.overall_score,
       c.comment,
       CASE WHEN t.comment = c.comment THEN t.tokens END AS tokens
FROM {{ ref('callback_facts') }} c
LEFT JOIN comment_tokens t ON t.callback_id = c.callback_id
WHERE c.callback_date >= $start
  AND c.callback_date < $end
  AND nullif(trim(c.comment), '') IS NOT NULL
  AND ($stores IS NULL OR list_contains($stores, c.store))
  AND (
        ($side = 'praise'
         AND coalesce(c.reached, false)
         AND c.overall_score >= $threshold
         AND NOT coalesce(c.is_complaint, false))
     OR ($side = 'complaint'
         AND ((coalesce(c.reached, false) AND c.overall_score < $threshold)
              OR coalesce(c.is_complaint, false)))
  )
ORDER BY c.callback_date, c.callback_id
