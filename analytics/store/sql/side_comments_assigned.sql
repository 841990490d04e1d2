-- one row per callback as side_comments.sql gives it (the side's comments in [$start, $end)), with
-- its theme: the rows are theme_assignments' (kept for the data version's model, with the
-- callback's date, store and advisor; the caller checks that it is current), the score and the
-- comment from callbacks, and the stored tokens for the comments of $month only
WITH chosen AS (
    SELECT a.callback_id, a.callback_date, a.store, a.advisor, a.theme
    FROM theme_assignments AS a
    WHERE a.side = $side
      AND a.callback_date >= $start
      AND a.callback_date < $end
      AND ($stores IS NULL OR list_contains($stores, a.store))
)
SELECT a.callback_id, c.callback_date, strftime(c.callback_date, '%Y-%m') AS month, a.store, a.advisor,
       c.overall_score, c.comment,
       CASE WHEN strftime(c.callback_date, '%Y-%m') = $month AND t.comment = c.comment THEN t.tokens END AS tokens,
       a.theme
FROM chosen AS a
JOIN callbacks AS c ON c.callback_id = a.callback_id
LEFT JOIN comment_tokens AS t ON t.callback_id = a.callback_id
ORDER BY c.callback_date, a.callback_id
