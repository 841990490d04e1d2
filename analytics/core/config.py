"""Settings: the committed ``data/settings.toml``, read and checked once, as typed sections.

Every key lives in the TOML file with its comment and its value; the types below say what each
key must hold (and its range), so a mistyped or misspelt setting stops the program with a
sentence naming the key, instead of a ``KeyError`` deep inside a page. Code reads attributes
(``settings().churn.lost_days``), never strings with inline defaults.
"""

from __future__ import annotations

import ipaddress
import os
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from analytics.core.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "data"
SETTINGS_FILE = DATA_DIR / "settings.toml"
DEFAULT_DB = DATA_DIR / "dashboard.duckdb"

Count = Annotated[int, msgspec.Meta(ge=0)]
Positive = Annotated[int, msgspec.Meta(ge=1)]
Score = Annotated[float, msgspec.Meta(ge=0, le=10)]
Share = Annotated[float, msgspec.Meta(ge=0, le=1)]
Seconds = Annotated[float, msgspec.Meta(ge=0)]
Band = tuple[Share, Share]


class _Section(msgspec.Struct, forbid_unknown_fields=True):
    """A ``[section]`` of the settings file: every key required, no key unknown."""


class Kpi(_Section):
    satisfied_threshold: Score
    survey_callback_types: list[str]
    nps_promoter_min: Annotated[int, msgspec.Meta(ge=0, le=10)]
    nps_detractor_max: Annotated[int, msgspec.Meta(ge=0, le=10)]
    complaint_limit_hours: dict[str, Positive]
    complaint_limit_default_hours: Positive
    coverage_3dc_days: Count
    due_return_grace_days: Count
    dimension_low_score: Score
    followup_days: Count
    red_flag_unsatisfied_days: Positive
    red_flag_complaint_lookback_days: Positive
    change_z: Annotated[float, msgspec.Meta(gt=0)]
    far_from_target: Share


class Churn(_Section):
    base_days: Positive
    lost_days: Positive
    at_risk_factor: Annotated[float, msgspec.Meta(gt=0)]
    own_rhythm_min_gaps: Positive
    default_interval_days: Positive
    horizon_days: Positive
    cutoff_step_months: Positive
    max_cutoffs: Positive
    max_training_rows: Positive
    data_end_slack_days: Count
    min_history_days: Count
    seed: Count
    value_days: Positive
    value_weight: Annotated[float, msgspec.Meta(ge=0)]
    value_tier_high: Share
    value_tier_medium: Share
    warranty_years: Count
    warranty_km: Count
    warranty_reason_days: Count
    complaint_window_days: Count
    reason_low_score: Score
    reason_detractor_max: Annotated[int, msgspec.Meta(ge=0, le=10)]
    unreachable_attempts: Positive
    retention_months: Positive
    call_capacity: Positive
    suppress_called_days: Count


class Display(_Section):
    small_n: Count
    default_language: Literal["zh", "en"]
    max_list_rows: Positive


class Deck(_Section):
    latin_font: str
    east_asian_font: str
    trend_months: Positive
    driver_months: Positive
    top_themes: Positive
    quotes_per_theme: Count


class Targets(_Section):
    """Target bands ``[floor, ceiling]`` for the KPIs the seed documents give a target."""

    appointment_rate: Band
    due_maintenance_return_rate: Band
    coverage_3dc: Band
    complaint_timeliness: Band


class Maintenance(_Section):
    training_cutoffs: Positive
    cutoff_step_days: Positive
    min_history_days: Count
    max_km_per_day: Annotated[float, msgspec.Meta(gt=0)]
    default_km_per_day: Annotated[float, msgspec.Meta(gt=0)]
    rule_overdue_days: Count
    seed: Count
    threads: Positive
    calibration: Literal["sigmoid", "isotonic"]
    max_training_rows: Positive
    invitation_capacity: Positive
    suppress_called_days: Count


class Auth(_Section):
    failure_delay_seconds: Seconds
    max_failures: Positive
    lock_minutes: Seconds
    client_max_failures: Positive
    trusted_proxies: list[str]
    first_wait_seconds: Seconds
    max_wait_seconds: Seconds
    serve_network_without_accounts: bool
    idle_minutes: Seconds

    def __post_init__(self) -> None:
        for entry in self.trusted_proxies:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: {entry!r} is not an IP address or network") from None


class Import(_Section):
    max_rows: Positive
    max_expanded_mb: Annotated[float, msgspec.Meta(gt=0)]


class Backup(_Section):
    after_import: bool
    keep: Positive


class Database(_Section):
    lock_wait_seconds: Seconds
    keep_open_seconds: Seconds
    months_ahead: Count | Literal["all"]


class Watch(_Section):
    server_folder: str
    settle_seconds: Seconds
    interval_seconds: Annotated[float, msgspec.Meta(gt=0)]
    report_rejected_rows: Count


class Warehouse(_Section):
    parquet_dir: str


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """The whole settings file. Sections are mutable only so that tests can patch one value."""

    kpi: Kpi
    churn: Churn
    display: Display
    deck: Deck
    targets: Targets
    maintenance: Maintenance
    auth: Auth
    import_: Import = msgspec.field(name="import")
    backup: Backup
    database: Database
    watch: Watch
    warehouse: Warehouse

    def fingerprint(self) -> bytes:
        """The settings as canonical bytes (for keys of results that depend on them), without the
        ``[database]`` section: how long a program waits for the file, how long it keeps it open and
        how many earlier months are computed ahead change no result, and a change to them must not
        discard every kept result and model."""
        fields = msgspec.structs.asdict(self)
        fields.pop("database")
        return msgspec.json.encode(fields, order="sorted")


class SettingsError(UserError):
    """The settings file is missing, is not TOML, or holds a key of the wrong type or range."""


def load_settings(path: Path) -> Settings:
    """Read and check a settings file; a defect raises :class:`SettingsError` naming the key."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"The settings file {path} cannot be read ({exc.strerror}).") from None
    try:
        return msgspec.toml.decode(raw, type=Settings)
    except msgspec.ValidationError as exc:
        where = str(exc).rpartition(" - at `$.")
        key = where[2].rstrip("`") if where[1] else ""
        what = where[0] if where[1] else str(exc)
        section, _, name = key.partition(".")
        place = f" at [{section}] {name}".rstrip() if key else ""
        raise SettingsError(f"The settings file {path} is not valid{place}: {what}.") from None
    except msgspec.DecodeError as exc:
        raise SettingsError(f"The settings file {path} is not valid TOML: {exc}.") from None


@cache
def settings() -> Settings:
    """Return the checked settings (read once per process)."""
    return load_settings(SETTINGS_FILE)


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the database path: explicit argument, then ``ANALYTICS_DB``, then the default."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("ANALYTICS_DB")
    return Path(env) if env else DEFAULT_DB


def parquet_dir() -> Path | None:
    """Return the Parquet export the dashboard reads instead of the database (``ANALYTICS_PARQUET``, then
    ``[warehouse] parquet_dir``), or None to read the database."""
    chosen = os.environ.get("ANALYTICS_PARQUET") or settings().warehouse.parquet_dir
    return Path(chosen) if chosen else None
