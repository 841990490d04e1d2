"""Settings from the committed ``data/settings.toml``, with paths resolved."""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "data"
SETTINGS_FILE = DATA_DIR / "settings.toml"
DEFAULT_DB = DATA_DIR / "dashboard.duckdb"


@cache
def settings() -> dict[str, Any]:
    """Return the parsed settings file (cached for the process)."""
    with SETTINGS_FILE.open("rb") as fh:
        return tomllib.load(fh)


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the database path: explicit argument, then ``ANALYTICS_DB``, then the default."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("ANALYTICS_DB")
    return Path(env) if env else DEFAULT_DB


def parquet_dir() -> Path | None:
    """Return the Parquet export the dashboard reads instead of the database (``ANALYTICS_PARQUET``, then
    ``[warehouse] parquet_dir``), or None to read the database."""
    chosen = os.environ.get("ANALYTICS_PARQUET") or settings().get("warehouse", {}).get("parquet_dir", "")
    return Path(chosen) if chosen else None
