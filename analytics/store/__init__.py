"""Store: the DuckDB connection, schema and migrations, SQL files by subject, audit log, backups."""
