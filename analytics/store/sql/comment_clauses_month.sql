-- one row per distinct comment text on the requested side in [$start, $end) (side_comments.sql)
-- that comment_clauses has read: its praise text, complaining clauses and their aspects
SELECT k.comment, k.praise, k.complaints, k.aspects
FROM comment_clauses AS k
WHERE k.comment IN (SELECT s.comment FROM {{ ref('side_comments') }} AS s)
