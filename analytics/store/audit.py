"""The audit log (``audit_log`` table): sign-ins, imports, rollbacks and list exports, with who did them.

One row per event: when, who (the account's user name, ``local`` in local single-user mode,
the OS user for the command line), the role they acted in, the action and a detail (a JSON
object: the file, the import id, the row count...). Written by the dashboard and the CLI;
read by ``python -m analytics audit``.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

ACTIONS: tuple[str, ...] = (
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "import",
    "rollback",
    "export",
    "retrain",  # the maintenance model fitted again on request
    "refused",  # a write a role may not make, attempted anyway (detail: the action)
    "backup",
    "restore",
)
CLI_ROLE = "cli"  # the role recorded for the command line, which has no accounts


def cli_user() -> str:
    """Return who runs a command, for the audit log: the operating-system user (the command line has no accounts)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def record(
    con: duckdb.DuckDBPyConnection,
    who: str,
    role: str,
    action: str,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    """Append one event to the audit log and return its id; an unknown action raises ``ValueError``."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; the actions are {', '.join(ACTIONS)}")
    row = con.execute(
        """INSERT INTO audit_log (happened_at, who, role, action, detail)
           VALUES ($at, $who, $role, $action, $detail) RETURNING audit_id""",
        {
            "at": at or datetime.now().replace(microsecond=0),
            "who": who,
            "role": role,
            "action": action,
            "detail": json.dumps(dict(detail or {}), ensure_ascii=False, default=str),
        },
    ).fetchone()
    assert row is not None
    return int(row[0])


def entries(con: duckdb.DuckDBPyConnection, limit: int = 200, action: str | None = None) -> pd.DataFrame:
    """Return the latest audit events, newest first: audit_id, happened_at, who, role, action, detail (JSON text)."""
    return con.execute(
        """SELECT audit_id, happened_at, who, role, action, detail
           FROM audit_log
           WHERE $action IS NULL OR action = $action
           ORDER BY happened_at DESC, audit_id DESC
           LIMIT $limit""",
        {"action": action, "limit": int(limit)},
    ).df()


def printable(value: object) -> str:
    """Return ``value`` as text with control and format characters (ANSI escapes, new lines,
    right-to-left overrides) written as escapes, so a user name cannot disguise an audit line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(value))


def printable_json(text: str) -> str:
    """Return JSON text with every character that does not print as itself inside it (C1 controls,
    right-to-left overrides and isolates, zero-width characters, which JSON leaves as they are)
    written as a ``\\u`` escape; its line breaks are kept. It reads back to the same values, and a
    name in it cannot drive the terminal or reverse the line it is printed on."""
    return "".join(c if c.isprintable() or c == "\n" else json.dumps(c)[1:-1] for c in text)


def dumps(value: object, indent: int | None = 2) -> str:
    """Return ``value`` as JSON (non-ASCII text as itself) that prints safely (``printable_json``)."""
    return printable_json(json.dumps(value, ensure_ascii=False, indent=indent))


def readable(
    log: pd.DataFrame, shown: Callable[[str], str] | None = None, words: Callable[[Any], str] | None = None
) -> pd.DataFrame:
    """Return audit entries for display: who, role, action and detail with control characters escaped.

    ``shown`` (a mask for the roles that do not see phone numbers) is applied to each text first,
    to the detail's values as they were recorded: after escaping (``\\u200b``, ``\\n``) letters
    would stand between a number's digits and no mask would find it. ``words`` writes a detail
    (decoded from its JSON, masked) as a reader reads it; without it the detail stays JSON.
    """
    out = log.copy()
    for column in ("who", "role", "action", "detail"):
        if column in out.columns:
            change = _detail_shown(shown, words) if column == "detail" else shown
            out[column] = (
                out[column]
                .map(lambda v, f=change: None if v is None else printable(f(str(v)) if f else v))
                .astype(object)
            )
    return out


def _detail_shown(
    shown: Callable[[str], str] | None, words: Callable[[Any], str] | None = None
) -> Callable[[str], str] | None:
    if shown is None and words is None:
        return None

    def each(value: Any) -> Any:
        if isinstance(value, str):
            return shown(value) if shown else value
        if isinstance(value, dict):
            return {k: each(v) for k, v in value.items()}
        if isinstance(value, list):
            return [each(v) for v in value]
        return value

    def detail(text: str) -> str:
        try:
            decoded = json.loads(text)
        except ValueError:
            return shown(text) if shown else text
        return words(each(decoded)) if words else json.dumps(each(decoded), ensure_ascii=False)

    return detail
