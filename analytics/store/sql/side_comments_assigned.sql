-- one row per callback as side_comments.sql gives it (the side's comments in [$start, $end)), with
-- its theme from theme_assignments (kept for the data version's model; the caller checks that it
-- is current) and its stored tokens for the comments of $month only
SELECT s.callback_id, s.callback_date, s.month, s.store, s.advisor, s.overall_score, s.comment,
       CASE WHEN s.month = $month THEN s.tokens END AS tokens,
       a.theme
FROM {{ ref('side_comments') }} AS s
LEFT JOIN theme_assignments AS a ON a.side = $side AND a.callback_id = s.callback_id
ORDER BY s.callback_date, s.callback_id
