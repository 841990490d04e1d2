-- one row per distinct comment text on the requested side in [$start, $end) (side_comments.sql)
SELECT DISTINCT s.comment
FROM {{ ref('side_comments') }} AS s
ORDER BY s.comment
