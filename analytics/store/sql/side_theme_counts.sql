-- one row per (month, theme) of the side's comments in [$start, $end) of the stores (all when
-- $stores is NULL), counted from theme_assignments alone (it holds every comment side_comments.sql
-- gives, with its date, store and theme; the caller checks that it is current): how many comments
SELECT strftime(a.callback_date, '%Y-%m') AS month, a.theme, count(*) AS n
FROM theme_assignments AS a
WHERE a.side = $side
  AND a.callback_date >= $start
  AND a.callback_date < $end
  AND ($stores IS NULL OR list_contains($stores, a.store))
GROUP BY ALL
ORDER BY month, a.theme
