"""Import of DMS exports (service orders and callbacks) into the canonical DuckDB tables."""

from analytics.ingest.load import (
    ImportPlan,
    ImportResult,
    import_file,
    list_imports,
    plan_import,
    rejected_rows,
    rollback,
)
from analytics.ingest.mapping import auto_mapping, detect_kind, load_mapping, save_mapping
from analytics.ingest.read import RawTable, read_table

__all__ = [
    "ImportPlan",
    "ImportResult",
    "RawTable",
    "auto_mapping",
    "detect_kind",
    "import_file",
    "list_imports",
    "load_mapping",
    "plan_import",
    "read_table",
    "rejected_rows",
    "rollback",
    "save_mapping",
]
