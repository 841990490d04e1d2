"""CLI: ``import FILE...``, ``imports`` and ``rollback ID`` (a thin layer over analytics.ingest)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

import duckdb

from analytics.cli import add_db_option
from analytics.core.config import db_path
from analytics.core.errors import ImportRefused, UserError
from analytics.ingest.load import ImportResult, import_files, rollback
from analytics.ingest.mapping import KINDS, load_mapping, save_mapping
from analytics.ingest.read import readable_name
from analytics.services import reads, views
from analytics.store import audit, db


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the import, imports and rollback commands."""
    p = sub.add_parser(
        "import",
        help="import DMS exports (CSV or XLSX) of service orders or callbacks",
        description="Import each file in its own transaction. A refused file is reported on stderr "
        "and the others still import; the exit code is then 2.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="CSV (UTF-8 or GBK) or XLSX export")
    p.add_argument("--kind", choices=KINDS, help="what the files hold (default: told from the headers)")
    p.add_argument("--map", metavar="F", help="a saved column mapping (TOML or JSON) to use")
    p.add_argument("--save-map", metavar="F", help="save the mapping used for the first imported file")
    p.add_argument("--json", action="store_true", help="print one JSON object per imported file")
    p.add_argument(
        "--no-guess",
        action="store_true",
        help="do not guess fields from the values of columns with unknown headers (they stay unmapped)",
    )
    p.add_argument(
        "--no-marts",
        action="store_true",
        help="skip preparing the dashboard's default views afterwards (run `marts` after the last file)",
    )
    add_db_option(p)
    p.set_defaults(handler=_import_command)

    p = sub.add_parser(
        "imports",
        help="list the imported files, newest first",
        description="The import log: one row per imported file with its counts and status.",
    )
    p.add_argument("--json", action="store_true", help="print the log as JSON")
    add_db_option(p)
    p.set_defaults(handler=_imports_command)

    p = sub.add_parser(
        "rollback",
        help="undo one import by its id",
        description="Remove the rows an import inserted and restore the rows it replaced.",
    )
    p.add_argument("import_id", type=int, metavar="ID", help="the import id (see the imports command)")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    add_db_option(p)
    p.set_defaults(handler=_rollback_command)


def _result_object(file: str, result: ImportResult) -> dict[str, Any]:
    return {
        "file": file,
        "import_id": result.import_id,
        "kind": result.kind,
        "rows_read": result.rows_read,
        "inserted": result.inserted,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "rejected": result.rejected,
        "reasons": result.reasons,
        "blanked": result.blanked,
        "notes": result.notes,
        "unmapped": result.unmapped,
        "guessed": result.guessed,
        "sheets": result.sheets,
        "scales": result.mapping.get("scales", {}),
        "unrated_zeros": result.unrated_zeros,
        "unrecognised": result.unrecognised,
    }


def _os_user() -> str:
    # The command line has no accounts: the audit log names the operating-system user.
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _audit_detail(file: str, result: ImportResult) -> dict[str, Any]:
    return {
        "import_id": result.import_id,
        "file": file,
        "kind": result.kind,
        "inserted": result.inserted,
        "updated": result.updated,
        "rejected": result.rejected,
    }


# How many of the types not recognised a summary names.
_NAMED_TYPES = 5


def _summary(file: str, r: ImportResult) -> str:
    line = (
        f"{audit.printable(file)}: import {r.import_id} ({r.kind}): {r.rows_read:,} rows read, {r.inserted:,} inserted, "
        f"{r.updated:,} updated, {r.unchanged:,} unchanged, {r.rejected:,} rejected"
    )
    if r.duplicates_in_file:
        line += f", {r.duplicates_in_file:,} exact duplicates imported once"
    if r.reasons:
        line += f" ({audit.printable('; '.join(r.reasons))})"
    line += f" in {r.seconds:.1f} s"
    if r.blanked:
        line += f"\n  {r.blanked:,} rows landed with a cell not read ({audit.printable('; '.join(r.notes))})"
    for field_name, header in r.guessed.items():
        line += (
            f"\n  guessed from its values: column {audit.printable(repr(header))} -> {field_name} "
            '(check it; --no-guess or a --map file with this field set to "" overrides)'
        )
    if r.unrated_zeros:
        # A 0 beside answers of at most 5 reads the column as a 1-5 survey's, where 0 is "not rated":
        # said, with the count, since a small 0-10 file of low answers reads the same way.
        said = ", ".join(
            f"{audit.printable(r.mapping.get('columns', {}).get(f, f))} ({n:,} × 0)"
            for f, n in r.unrated_zeros.items()
        )
        line += (
            f"\n  read on the 1-5 scale, where a 0 means not rated and lands blank: {said}; if the survey "
            'is 0-10, import the file again with a --map file giving its "scales" (README, known limits)'
        )
    for field_name, cells in r.unrecognised.items():
        # A type no word or code names (a manufacturer's code not known yet) counts as other: said,
        # with the values and their rows, since it moves every visit out of its type's figures.
        header = r.mapping.get("columns", {}).get(field_name, field_name)
        named = ", ".join(f"{cell} ({n:,})" for cell, n in list(cells.items())[:_NAMED_TYPES])
        more = f" and {len(cells) - _NAMED_TYPES:,} more" if len(cells) > _NAMED_TYPES else ""
        line += "\n  " + audit.printable(
            f"{header}: {sum(cells.values()):,} rows of a type not recognised, read as other: {named}{more}"
        )
    if r.unmapped:
        # Headers and sheet names are whatever the file says: control characters written as
        # escapes, so a header cannot add a line to this output or drive the terminal.
        line += f"\n  columns not imported: {audit.printable(', '.join(r.unmapped))}"
    if len(r.sheets) > 1 or any(not s["landed"] and s["reason"] for s in r.sheets):
        for sheet in r.sheets:
            line += (
                f"\n  sheet {audit.printable(sheet['sheet'])}: {sheet['rows']:,} rows = {sheet['landed']:,} landed + "
                f"{sheet['rejected']:,} rejected + {sheet['skipped']:,} skipped"
            )
            if sheet["reason"]:
                line += f" ({audit.printable(sheet['reason'])})"
    elif r.sheets and (r.sheets[0]["skipped"] or r.sheets[0]["reason"]):
        sheet = r.sheets[0]
        line += (
            f"\n  {sheet['rows']:,} rows = {sheet['landed']:,} landed + {sheet['rejected']:,} rejected + "
            f"{sheet['skipped']:,} skipped ({audit.printable(sheet['reason'])})"
        )
    return line


class _Output:
    """The import's lines on stdout: a reader that has gone (`| head`) stops the lines, not the
    imports, which are what was asked for."""

    def __init__(self) -> None:
        self.closed = False

    def line(self, text: str) -> None:
        if self.closed:
            return
        try:
            # Flushed line by line: the closed pipe shows at once, not at exit after every import.
            print(text, flush=True)
        except BrokenPipeError:
            self.closed = True
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _check_map_target(path: str) -> None:
    """Refuse, before anything is imported, a ``--save-map`` file that cannot be written."""
    target = Path(path)
    if target.is_dir():
        raise UserError(f"--save-map {path} is a folder; give a file name, e.g. {target / 'mapping.toml'}.")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(
            f"--save-map {path}: the folder {folder} does not exist; create it or choose another."
        )
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UserError(f"--save-map {path} cannot be written here (no permission); choose another file.")


def _import_command(args: argparse.Namespace) -> int:
    mapping = load_mapping(args.map) if args.map else None
    if args.save_map:
        _check_map_target(args.save_map)
    con = db.connect(args.db)
    results: list[dict[str, Any]] = []
    refused: list[str] = []
    saved = False
    refreshed = False
    out = _Output()
    try:
        for file, result in import_files(
            con, args.files, kind=args.kind, mapping=mapping, who="cli", guess=not args.no_guess
        ):
            # A name whose bytes are not UTF-8 (GBK from a Windows share) is written as text.
            file = readable_name(file)
            if isinstance(result, ImportRefused):
                refused.append(file)
                print(audit.printable(f"error: {file}: {result}"), file=sys.stderr)
                continue
            audit.record(con, _os_user(), audit.CLI_ROLE, "import", _audit_detail(file, result))
            results.append(_result_object(file, result))
            if not args.json:
                out.line(_summary(file, result))
            if args.save_map and not saved:
                saved = True
                try:
                    # The scales detected from this file's values are not saved: the next
                    # month's file is read by its own values (a month whose answers all fell
                    # between 1 and 5 would pin every later 0-10 file to 1-5); scales the
                    # user's --map gave are kept.
                    given = (mapping or {}).get("scales") or {}
                    save_mapping({**result.mapping, "scales": dict(given)}, args.save_map)
                except OSError as exc:
                    # The file has landed: say so and go on with the others.
                    refused.append(f"--save-map {args.save_map}")
                    print(
                        f"error: the mapping could not be saved to {args.save_map} "
                        f"({exc.strerror or exc}); the files are imported without it.",
                        file=sys.stderr,
                    )
                else:
                    if not args.json:
                        out.line(f"mapping saved to {args.save_map}")
        refreshed = not args.no_marts and any(r["inserted"] or r["updated"] for r in results)
        if refreshed:
            _refresh_marts(con, quiet=args.json, out=out)
    finally:
        con.close()
    if refreshed:
        # The pages show the new data by now; the models the new month calls for are fitted
        # after it, the file given back to the dashboard's readers meanwhile.
        views.refit_after_import(db.Handles(db_path(args.db), keep_open=0), None if args.json else out.line)
    if args.json:
        out.line(audit.dumps(results))
    if out.closed:
        done = f"all {len(results)} files were imported"
        if refused:
            done = f"{len(results)} of {len(args.files)} files were imported; refused: {', '.join(refused)}"
        print(
            f"note: the output was closed by its reader (| head); the import went on: {done} "
            "(see `python -m analytics imports`).",
            file=sys.stderr,
        )
    return 2 if refused else 0


def _refresh_marts(con: duckdb.DuckDBPyConnection, *, quiet: bool, out: _Output | None = None) -> None:
    """Compute the pages' default views for the new data, so the dashboard opens at once.

    The import has committed by now: a view that cannot be prepared (a model with too little
    history, say) is named with its reason, and never turns the import into a failure.
    """
    try:
        outcome = views.rebuild(con)
    except Exception as exc:  # noqa: BLE001 - derived results must not make a committed import look failed
        reason = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
        print(
            f"note: the import is complete, but the dashboard's views could not be prepared ({reason}); "
            "the pages compute them when opened.",
            file=sys.stderr,
        )
        return
    if quiet:
        return
    say = out.line if out is not None else print
    say(f"dashboard results prepared for the new data in {outcome['seconds']} s")
    # Too little data for a model is normal after a first import: one line per reason, naming its views.
    by_reason: dict[str, list[str]] = {}
    for view, reason in outcome.get("failed", {}).items():
        by_reason.setdefault(reason, []).append(view.split(" ")[0])
    for reason, names in by_reason.items():
        pending = ", ".join(dict.fromkeys(names))
        say(f"note: not prepared yet ({pending}): {reason}")


def _imports_command(args: argparse.Namespace) -> int:
    con = db.connect(args.db)
    try:
        log = reads.read(con, "imports.log")
    finally:
        con.close()
    if args.json:
        print(
            audit.printable_json(
                log.to_json(orient="records", date_format="iso", force_ascii=False, indent=2)
            )
        )
        return 0
    if log.empty:
        print("no imports yet")
        return 0
    for row in log.itertuples(index=False):
        status = "" if row.status == "done" else f" [{row.status}]"
        print(
            f"{row.import_id:>5}  {row.finished_at:%Y-%m-%d %H:%M}  {row.kind:<8} "
            f"{audit.printable(row.file_name)}{status}: "
            f"{row.rows_read:,} read, {row.rows_inserted:,} inserted, {row.rows_updated:,} updated, "
            f"{row.rows_unchanged:,} unchanged, {row.rows_rejected:,} rejected"
            + (f", {row.rows_duplicate:,} exact duplicates imported once" if row.rows_duplicate else "")
        )
    return 0


def _rollback_command(args: argparse.Namespace) -> int:
    con = db.connect(args.db)
    try:
        counts = rollback(con, args.import_id)
        audit.record(con, _os_user(), audit.CLI_ROLE, "rollback", counts)
        if args.json:
            print(json.dumps(counts))
        else:
            print(
                f"rolled back import {counts['import_id']}: {counts['deleted']:,} rows removed, "
                f"{counts['restored']:,} rows restored to their earlier values"
                + (
                    f"; {counts['kept']:,} rows kept, which a later import holds as they are"
                    if counts["kept"]
                    else ""
                ),
                flush=True,
            )
        if counts["deleted"] or counts["restored"]:
            _refresh_marts(con, quiet=args.json)
    finally:
        con.close()
    return 0
