-- one row per (month, theme) of the side's comments in [$start, $end) as side_comments_assigned.sql
-- gives them (their themes kept in theme_assignments): how many comments
SELECT a.month, a.theme, count(*) AS n
FROM {{ ref('side_comments_assigned') }} AS a
GROUP BY a.month, a.theme
ORDER BY a.month, a.theme
