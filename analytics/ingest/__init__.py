"""Import of DMS exports (service orders and callbacks) into the canonical DuckDB tables."""

from analytics.ingest.load import (
    ImportPlan,
    ImportResult,
    import_file,
    import_files,
    list_imports,
    plan_import,
    reject_table,
    rejected_rows,
    rollback,
    sheet_table,
    suggested_mapping,
)
from analytics.ingest.mapping import (
    FIELDS_BY_KIND,
    KINDS,
    SCALES,
    SCORE_FIELDS,
    auto_mapping,
    both_kinds,
    detect_kind,
    load_mapping,
    save_mapping,
)
from analytics.ingest.read import SOURCE_ROW, RawTable, read_table

__all__ = [
    "FIELDS_BY_KIND",
    "KINDS",
    "SCALES",
    "SCORE_FIELDS",
    "SOURCE_ROW",
    "ImportPlan",
    "ImportResult",
    "RawTable",
    "auto_mapping",
    "both_kinds",
    "detect_kind",
    "import_file",
    "import_files",
    "list_imports",
    "load_mapping",
    "plan_import",
    "read_table",
    "reject_table",
    "rejected_rows",
    "rollback",
    "save_mapping",
    "sheet_table",
    "suggested_mapping",
]
