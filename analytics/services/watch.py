"""The drop folder: ``python -m analytics watch DIR [--once]`` imports DMS exports as they appear.

Each file that has stopped changing is imported in its own transaction (the kind told from its
headers, or from a saved mapping when the headers alone are not enough), then moved to
``DIR/done/`` or ``DIR/refused/`` with its report beside it (``NAME.report.json`` and a readable
``NAME.report.txt``) and a line in the audit log. Half-written files wait: temporary names
(``~$x.xlsx``, ``x.part``, ``.x``...) are never read, and a file is read only once its size and
modification time have held still for ``settle_seconds``. A bad file is refused and the next one
imported; the command keeps going.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from analytics.core.config import settings
from analytics.core.errors import ImportRefused, UserError
from analytics.core.i18n import text
from analytics.ingest.load import ImportResult, import_file, rejected_rows
from analytics.ingest.mapping import load_mapping
from analytics.ingest.read import check_size, readable_name
from analytics.ingest.stage import reason_words
from analytics.services import views
from analytics.store import audit, db

DONE = "done"
REFUSED = "refused"
WHO = "watch"  # recorded as the importer in the import log
# Names a program gives a file while it is still writing it: Office lock files, browser and
# download-manager partials, editors' and rsync's temporaries.
TEMP_PREFIXES: tuple[str, ...] = ("~$", ".", "~")
TEMP_SUFFIXES: tuple[str, ...] = (".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", ".swp")
REPORT_SUFFIXES: tuple[str, ...] = (".report.json", ".report.txt")
# What the pass found under a file's name when it came to move it after the import: nothing (the
# dropper took it away) or another file (renamed over it), which is left for the next pass.
GONE = "gone"
REPLACED = "replaced"


@dataclass
class FileOutcome:
    """What became of one dropped file: imported (``done``) or refused, where it went and its reports."""

    name: str
    status: str  # DONE or REFUSED
    moved_to: Path
    report_json: Path
    report_txt: Path
    result: ImportResult | None = None
    reason: str = ""
    mapping: str = ""  # "" when the headers were enough, else the saved mapping that was used
    report: dict[str, Any] = field(default_factory=dict)
    left: str = ""  # "" when moved; GONE or REPLACED when the file under its name changed meanwhile


def is_candidate(path: Path) -> bool:
    """Return whether ``path`` is a regular file the drop folder should import (not a temporary or a report)."""
    name = path.name
    lower = name.lower()
    if not path.is_file() or path.is_symlink():
        return False
    if name.startswith(TEMP_PREFIXES) or lower.endswith(TEMP_SUFFIXES) or lower.endswith(REPORT_SUFFIXES):
        return False
    return True


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def ready_files(
    folder: Path,
    settle_seconds: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.time,
) -> tuple[list[Path], list[Path]]:
    """Return (files ready to import, files still being written) in ``folder``, oldest first.

    A file is ready when its size and modification time are the same after ``settle_seconds``
    and it was last modified at least that long ago; the wait is spent once for the whole folder.
    """
    found = sorted((p for p in folder.iterdir() if is_candidate(p)), key=lambda p: (_mtime(p), p.name))
    first = {p: _signature(p) for p in found}
    young = [p for p, sig in first.items() if sig is not None and now() - sig[1] / 1e9 < settle_seconds]
    if young and settle_seconds > 0:
        sleep(settle_seconds)
    ready: list[Path] = []
    busy: list[Path] = []
    for p in found:
        sig = _signature(p)
        if sig is None:
            continue  # gone meanwhile (moved away by whoever dropped it)
        (ready if sig == first[p] else busy).append(p)
    return ready, busy


def _mtime(path: Path) -> int:
    sig = _signature(path)
    return sig[1] if sig else 0


def _status_folder(folder: Path, status: str) -> int:
    """Return an open descriptor of ``folder/status`` (created if missing); a symlink or a file
    there raises UserError. Files are moved and reports written through the descriptor, so a
    folder swapped for a link meanwhile is never followed out of the drop folder."""
    path = folder / status
    with contextlib.suppress(FileExistsError):
        path.mkdir()
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:  # ELOOP for a symlink, ENOTDIR for a file
        raise UserError(
            f"{path} is a symlink or not a folder: whoever can write to the drop folder could send "
            f"files elsewhere through it; remove it (watch makes a folder there itself)."
        ) from exc


def _taken(dir_fd: int, name: str) -> bool:
    try:
        os.lstat(name, dir_fd=dir_fd)  # lstat: a dangling symlink takes its name too
    except FileNotFoundError:
        return False
    return True


# The longest file name the folder takes, in bytes (Linux, macOS and Windows filesystems: 255).
NAME_MAX = 255


def _name_bytes(name: str) -> int:
    return len(os.fsencode(name))


def _free_name(dir_fd: int, name: str) -> str:
    """Return a name in the folder of ``dir_fd`` that neither the file nor its reports would take
    from anything already there (a dangling symlink included), short enough for its reports'
    names to fit the folder's limit (a long Chinese name is shortened, its suffix kept)."""
    stem, dot, suffix = name.rpartition(".") if "." in name[1:] else (name, "", "")
    room = NAME_MAX - max(_name_bytes(s) for s in REPORT_SUFFIXES)
    n = 1
    while True:
        tail = f"{dot}{suffix}" if n == 1 else f"-{n}{dot}{suffix}"
        short = stem
        while short and _name_bytes(short + tail) > room:
            short = short[:-1]
        candidate = short + tail if (n > 1 or short != stem) else name
        if not any(_taken(dir_fd, candidate + s) for s in ("", *REPORT_SUFFIXES)):
            return candidate
        n += 1


def _write_new(dir_fd: int, name: str, content: str) -> None:
    # Created new, never through a link or over a file planted meanwhile.
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=dir_fd)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def dropped_bytes(path: Path) -> bytes:
    """Return a dropped file's bytes, read through a handle that follows no link (``dropped_file``)."""
    return dropped_file(path)[0]


def dropped_file(path: Path) -> tuple[bytes, tuple[int, int]]:
    """Return a dropped file's bytes and its identity (device, inode), read through a handle that
    follows no link.

    The pass lists regular files only, but whoever may write to the drop folder could swap one for
    a link (to the secrets file, another store's export) between the listing and the read; the
    import would then have read what the link points to. A link, a pipe or a device here is refused.
    """
    try:
        # O_NONBLOCK: a pipe planted under the name opens at once (and is refused) instead of waiting.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise ImportRefused(
            f"{readable_name(path.name)} is a link or cannot be opened ({exc.strerror}); drop the exported file itself.",
            zh=f"{readable_name(path.name)} 是链接或无法打开；请把导出的文件本身放进投放文件夹。",
        ) from exc
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ImportRefused(
                f"{readable_name(path.name)} is not a regular file; drop the exported file itself.",
                zh=f"{readable_name(path.name)} 不是普通文件；请把导出的文件本身放进投放文件夹。",
            )
        check_size(st.st_size, readable_name(path.name))  # the bound before reading, not after
        return handle.read(), (st.st_dev, st.st_ino)


def _import_with_fallback(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    mappings: Sequence[tuple[str, dict[str, Any]]],
    identity: list[tuple[int, int]],
) -> tuple[ImportResult, str]:
    """Import by the headers; when they are not enough, with each saved mapping in turn. The file's
    identity is appended to ``identity`` once it is read (so a refusal knows it too)."""
    data, found = dropped_file(path)
    identity.append(found)
    try:
        return import_file(con, data, file_name=path.name, who=WHO), ""
    except ImportRefused as first:
        reasons = [str(first)]
        # In Chinese only when every attempt's reason is (never half translated).
        words: list[str | None] = [first.zh]
        for label, mapping in mappings:
            try:
                return import_file(con, data, file_name=path.name, mapping=mapping, who=WHO), label
            except ImportRefused as exc:
                reasons.append(f"with the mapping {label}: {exc}")
                words.append(f"使用映射 {label}：{exc.zh}" if exc.zh else None)
        zh = " ".join(w for w in words if w) if all(words) else None
        raise ImportRefused(" ".join(reasons), zh=zh) from first


def _move(path: Path, identity: tuple[int, int] | None, name: str, dir_fd: int) -> str:
    """Move the file read from ``path`` to ``name`` in the folder of ``dir_fd``; return "" when it was
    moved, GONE when nothing is under its name any more, REPLACED when another file is (renamed over
    it while it was imported: that one is left for the next pass, never filed as imported)."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return GONE
    if identity is not None and (found.st_dev, found.st_ino) != identity:
        return REPLACED
    try:
        os.replace(path, name, dst_dir_fd=dir_fd)
    except FileNotFoundError:
        return GONE
    return ""


def _rejected_sample(con: duckdb.DuckDBPyConnection, import_id: int, limit: int) -> list[dict[str, Any]]:
    frame = rejected_rows(con, import_id).head(limit)
    # A row rejected as a whole names no column: None (JSON null), never pandas' NaN, which
    # json.dumps writes as NaN, not JSON.
    return [
        {
            "row": int(r["source_row"]),
            "column": r["column_name"] if isinstance(r["column_name"], str) else None,
            "reason": r["reason"],
        }
        for r in frame.to_dict("records")
    ]


def report_text(report: dict[str, Any], lang: str) -> str:
    """Return a dropped file's report as readable lines in ``lang``."""
    # The file's name (in the reason too) with its control characters as escapes: one line each.
    name = audit.printable(report["file"])
    lines = [text("watch.report_title", lang, file=name, at=report["processed_at"])]
    if report["status"] == REFUSED:
        # The reason in Chinese when the refusal has its Chinese sentence (``reason_zh``).
        reason = report.get("reason_zh") if lang == "zh" else None
        lines.append(text("watch.report_refused", lang, reason=audit.printable(reason or report["reason"])))
    else:
        lines.append(
            text(
                "watch.report_done",
                lang,
                id=report["import_id"],
                kind=text(f"data.kind_{report['kind']}", lang),
                read=f"{report['rows_read']:,}",
                inserted=f"{report['inserted']:,}",
                updated=f"{report['updated']:,}",
                unchanged=f"{report['unchanged']:,}",
                rejected=f"{report['rejected']:,}",
            )
        )
        if report["mapping"]:
            lines.append(text("watch.report_mapping", lang, mapping=report["mapping"]))
        if report["rejected_rows"]:
            lines.append(text("watch.report_rejects", lang, shown=len(report["rejected_rows"])))
            # A header as the file wrote it; the reason in the report's language, as the Data page gives it.
            lines.extend(
                audit.printable(f"  {r['row']}  {r['column'] or ''}  {reason_words(r['reason'], lang)}")
                for r in report["rejected_rows"]
            )
    if report.get("left"):
        lines.append(text(f"watch.report_{report['left']}", lang))
    else:
        lines.append(text("watch.report_moved", lang, path=audit.printable(report["moved_to"])))
    return "\n".join(lines) + "\n"


def process_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    folder: Path,
    mappings: Sequence[tuple[str, dict[str, Any]]] = (),
    lang: str = "zh",
) -> FileOutcome:
    """Import one dropped file, move it to done/ or refused/ with its reports, audit it; return the outcome."""
    started = datetime.now().replace(microsecond=0)
    # Both folders checked before the import, so a planted link stops the pass before any work.
    with contextlib.ExitStack() as opened:
        folders: dict[str, int] = {}
        for status in (DONE, REFUSED):
            folders[status] = _status_folder(folder, status)
            opened.callback(os.close, folders[status])
        return _process(con, path, folder, folders, mappings, lang, started)


def _process(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    folder: Path,
    folders: dict[str, int],
    mappings: Sequence[tuple[str, dict[str, Any]]],
    lang: str,
    started: datetime,
) -> FileOutcome:
    result: ImportResult | None = None
    mapping_label, reason = "", ""
    reason_zh: str | None = None
    identity: list[tuple[int, int]] = []
    try:
        result, mapping_label = _import_with_fallback(con, path, mappings, identity)
    except ImportRefused as exc:
        reason, reason_zh = str(exc), exc.zh
    except duckdb.Error:
        raise  # the database, not the file, failed: the file stays for the next pass
    except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop the folder
        reason = (
            f"{readable_name(path.name)} could not be imported ({type(exc).__name__}: {exc}); "
            "check the file or import it by hand."
        )
        reason_zh = (
            f"{readable_name(path.name)} 无法导入（{type(exc).__name__}: {exc}）；请检查该文件，或手动导入。"
        )
    status = REFUSED if result is None else DONE
    target_dir = folders[status]
    moved = folder / status / _free_name(target_dir, path.name)
    report: dict[str, Any] = {
        "file": readable_name(path.name),
        "status": status,
        "processed_at": started.isoformat(sep=" "),
        "moved_to": f"{status}/{readable_name(moved.name)}",
    }
    if result is None:
        report["reason"] = reason
        if reason_zh:
            report["reason_zh"] = reason_zh
    else:
        report.update(
            import_id=result.import_id,
            kind=result.kind,
            rows_read=result.rows_read,
            inserted=result.inserted,
            updated=result.updated,
            unchanged=result.unchanged,
            rejected=result.rejected,
            duplicates_in_file=result.duplicates_in_file,
            reasons=result.reasons,
            mapping=mapping_label,
            rejected_rows=_rejected_sample(con, result.import_id, settings().watch.report_rejected_rows),
        )
    detail: dict[str, Any] = {"file": readable_name(path.name), "via": "watch", "status": status}
    if result is None:
        detail["reason"] = reason
    else:
        detail.update(
            import_id=result.import_id,
            kind=result.kind,
            inserted=result.inserted,
            updated=result.updated,
            rejected=result.rejected,
        )
    audit.record(con, _os_user(), audit.CLI_ROLE, "import", detail)
    left = _move(path, identity[0] if identity else None, moved.name, target_dir)
    if left:
        # The reports still go where the file would have gone, saying what the pass found.
        report["moved_to"] = ""
        report["left"] = left
    report_json = moved.with_name(moved.name + ".report.json")
    report_txt = moved.with_name(moved.name + ".report.txt")
    _write_new(target_dir, report_json.name, audit.dumps(report) + "\n")
    _write_new(target_dir, report_txt.name, report_text(report, lang))
    return FileOutcome(
        name=readable_name(path.name),
        status=status,
        moved_to=moved,
        report_json=report_json,
        report_txt=report_txt,
        result=result,
        reason=reason,
        mapping=mapping_label,
        report=report,
        left=left,
    )


def process_folder(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    files: Sequence[Path],
    mappings: Sequence[tuple[str, dict[str, Any]]] = (),
    lang: str = "zh",
    on_outcome: Callable[[FileOutcome], None] | None = None,
    refresh_marts: bool = True,
) -> list[FileOutcome]:
    """Import ``files`` of the drop folder one by one (one transaction each) and refresh the dashboard's
    views once afterwards (unless ``refresh_marts`` is false); return the outcomes in order."""
    outcomes = []
    for path in files:
        outcome = process_file(con, path, folder, mappings, lang)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    if refresh_marts and any(
        o.result is not None and (o.result.inserted or o.result.updated) for o in outcomes
    ):
        views.rebuild(con)
    return outcomes


def check_folder(folder: str | Path) -> Path:
    """Return the drop folder as a path; raise UserError when it is missing or not a folder."""
    path = Path(folder)
    if not path.is_dir():
        raise UserError(
            f"The drop folder {path} does not exist or is not a folder; create it or check the path."
        )
    return path


def load_mappings(paths: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """Return the saved mappings (label, mapping) to try on files whose headers are not enough."""
    return [(Path(p).name, load_mapping(p)) for p in paths]


def summary_line(outcome: FileOutcome) -> str:
    """Return one line saying what became of a dropped file (for the command's output, often a cron
    log): whoever can drop a file names it, so control characters in it are written as escapes and
    a name cannot add a line or drive the terminal."""
    where = f"{outcome.status}/{readable_name(outcome.moved_to.name)}"
    if outcome.left == GONE:
        where = "not moved (the file was taken out of the folder during its import)"
    elif outcome.left == REPLACED:
        where = "not moved (another file was put under its name during its import; left for the next pass)"
    if outcome.result is None:
        return audit.printable(f"{outcome.name}: refused ({outcome.reason}) -> {where}")
    r = outcome.result
    via = f", with the mapping {outcome.mapping}" if outcome.mapping else ""
    return audit.printable(
        f"{outcome.name}: import {r.import_id} ({r.kind}{via}): {r.rows_read:,} rows read, {r.inserted:,} inserted, "
        f"{r.updated:,} updated, {r.unchanged:,} unchanged, {r.rejected:,} rejected -> {where}"
    )


def run_once(
    folder: Path,
    database: str | None,
    mappings: Sequence[tuple[str, dict[str, Any]]],
    settle_seconds: float,
    lang: str,
    on_outcome: Callable[[FileOutcome], None] | None = None,
    say: Callable[[str], None] | None = None,
) -> tuple[list[FileOutcome], list[Path]]:
    """Process what is ready in the folder, opening the database only when there is something to
    import, then fit the models the imports call for (``views.refit_after_import``, the file
    given back meanwhile; ``say`` hears its lines); return the outcomes and the files left
    because they were still being written."""
    ready, busy = ready_files(folder, settle_seconds)
    if not ready:
        return [], busy
    con = db.connect(database)
    try:
        outcomes = process_folder(con, folder, ready, mappings, lang, on_outcome)
    finally:
        con.close()
    if any(o.result is not None and (o.result.inserted or o.result.updated) for o in outcomes):
        views.refit_after_import(db.Handles(db.db_path(database), keep_open=0), say)
    return outcomes, busy
