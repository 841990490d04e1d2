-- one row per distinct comment text on the requested side in [$start, $end) (side_comments.sql)
-- that comment_complaint_parts has not read yet
SELECT DISTINCT s.comment
FROM {{ ref('side_comments') }} AS s
WHERE s.comment NOT IN (SELECT comment FROM comment_complaint_parts)
ORDER BY s.comment
