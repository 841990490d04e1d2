-- one row per imported file, newest first
SELECT
    import_id,
    file_name,
    kind,
    status,
    rows_read,
    rows_inserted,
    rows_updated,
    rows_unchanged,
    rows_rejected,
    coalesce(rows_duplicate, 0) AS rows_duplicate,
    started_at,
    finished_at,
    imported_by,
    rolled_back_at,
    sha256
FROM imports
ORDER BY import_id DESC
