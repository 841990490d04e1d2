"""Marts: page results computed once per data version and kept in the database.

A group database (a million work orders) makes some page results expensive: the month's KPIs
with their churn counts over thirteen month-ends, the churn model's snapshot, the themes of a
month, the maintenance scores. The first call after an import computes such a result and
stores it in ``marts``, keyed by the function, its arguments and the data version; every later
call, from any process (a restarted server, a second server, the deck), reads it back. An
import or rollback changes the data version, so stale results are never read; ``rebuild``
computes the default views (the latest month, all stores) right after an import
so the first visitor does not wait, and drops results of older versions.

Payloads are written in a format that cannot run code when read (``safe_payload``: frames,
series, dataclasses, plain values and fitted models); a result it cannot hold exactly is not kept,
never pickled. Each file is owner-only (0600 in a 0700 folder) and its SHA-256 is kept in the
``marts`` row, so a file that this program did not write is never read (``private_files``).
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import itertools
import re
import signal
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar, copy_context
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from analytics.core import memo, private_files, safe_payload
from analytics.core.config import DATA_DIR, settings
from analytics.core.errors import DiskFull, UserError
from analytics.store import db

# Results quicker to compute than this are not worth a round trip to the store.
MIN_SECONDS = 0.2

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Call:
    """One analytics call: ``module.function`` and its arguments (after the connection)."""

    fn: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        """The arguments as stored: their repr (deterministic for the values pages pass), after
        the fingerprint of the code and settings that compute them."""
        return f"{context(self.fn)}|{repr((self.args, self.kwargs))}"

    def run(self, con: duckdb.DuckDBPyConnection) -> Any:
        """Compute the result afresh."""
        module_name, _, name = self.fn.rpartition(".")
        function = getattr(importlib.import_module(module_name), name)
        return function(con, *self.args, **dict(self.kwargs))


# Code that writes data or files but computes no page result: changing it keeps the marts.
# (An import changes the data version, which is what makes its results fresh.) Names are
# packages or modules anywhere under ``analytics``.
NOT_RESULTS = frozenset({"ingest", "cli", "devtools", "auth", "audit", "deck", "chart_export"})


def _outside_fingerprint(fn: str) -> bool:
    """Whether ``fn`` lives in code the fingerprint leaves out: its results are never kept (a
    change to that code would not make them fresh), so they skip the lookup too (the import log)."""
    package, *parts = fn.split(".")
    return package == "analytics" and any(part in NOT_RESULTS for part in parts[:-1])


# Data files a result depends on, by the module that reads them (a module in a call's imports).
DATA_FILES: dict[str, tuple[str, ...]] = {
    "analytics.domain.schedule": ("schedule.toml",),
    "analytics.domain.themes.segmentation": ("themes/*",),
    "analytics.domain.themes.polarity": ("themes/sentiment.toml",),
    "analytics.domain.themes.lexicon": ("themes/aspects.toml",),
    "analytics.core.i18n": ("i18n.toml",),
}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# A line that begins an import statement, at any indentation (an import under ``if TYPE_CHECKING:``
# or in a ``try`` counts as well). A docstring line that reads like one is parsed and dropped.
_IMPORT_START = re.compile(rb"^[ \t]*(?:from[ \t]+\.*[\w.]*[ \t]+import\b|import[ \t]+[\w.])", re.MULTILINE)


def import_statements(source: bytes) -> list[ast.stmt]:
    """Return the import statements of a module's source, parsed one by one without parsing the
    rest of the module (a fresh process worked out the whole package's imports by parsing its
    1.4 MB of source: 0.5-0.7 s before its first page; ``tests/test_marts.py`` checks that this
    finds what a walk of each module's full syntax tree finds)."""
    found: list[ast.stmt] = []
    for match in _IMPORT_START.finditer(source):
        end = source.find(b"\n", match.end())
        end = len(source) if end < 0 else end
        text = source[match.start() : end]
        if b"(" in text and b")" not in text:  # a parenthesised list of names over several lines
            close = source.find(b")", end)
            end = len(source) if close < 0 else close + 1
        while source[match.start() : end].rstrip().endswith(b"\\"):  # backslash continuations
            following = source.find(b"\n", end + 1)
            end = len(source) if following < 0 else following
        try:
            tree = ast.parse(source[match.start() : end].strip())
        except (SyntaxError, ValueError):
            continue  # prose that reads like an import
        found.extend(node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom)))
    return found


def module_imports(name: str, path: Path, statements: Iterable[ast.AST]) -> set[str]:
    """Return the dotted names module ``name`` (at ``path``) imports in ``statements``, a
    ``from`` import's names each also as a possible submodule of its base."""
    found: set[str] = set()
    for node in statements:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                base = ".".join([*here[: len(here) - node.level + 1], node.module])
            found |= {base, *(f"{base}.{alias.name}" for alias in node.names)}
    return found


def package_modules() -> dict[str, Path]:
    """Return every ``analytics`` module's dotted name and file."""
    package = Path(__file__).resolve().parents[1]
    return {_module_name(p, package.parent): p for p in package.rglob("*.py")}


@cache
def import_graph() -> dict[str, frozenset[str]]:
    """Return each ``analytics`` module's project imports (module level only: the layer contract
    forbids imports inside functions), a package's ``__init__`` counted for each module under it."""
    files = package_modules()
    graph: dict[str, frozenset[str]] = {}
    for name, path in files.items():
        found = module_imports(name, path, import_statements(path.read_bytes()))
        parents = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        graph[name] = frozenset((found | parents) & files.keys() - {name})
    return graph


def inputs(fn: str) -> list[Path]:
    """Return the files a call's result depends on besides the data: the source of its module and
    of every project module it imports, directly or not, the SQL files, and the data files those
    modules read (the schedule, the themes lexicon, the interface texts)."""
    graph = import_graph()
    module = fn
    while module and module not in graph:
        module = module.rpartition(".")[0]
    seen: set[str] = set()
    todo = [module] if module else []
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph[name] - seen)
    package = Path(__file__).resolve().parents[1]
    files: set[Path] = set()
    for name in seen:
        relative = Path(*name.split(".")[1:])
        init = package / relative / "__init__.py"
        files.add(init if init.exists() else (package / relative).with_suffix(".py"))
        for pattern in DATA_FILES.get(name, ()):
            files.update(p for p in DATA_DIR.glob(pattern) if p.is_file())
    # Every SQL file but the importer's (ingest_*.sql): which statements a module runs is data
    # (a name passed to queries.run), not an import, so all of them count.
    files.update(p for p in package.rglob("*.sql") if p.stem.split("_")[0] not in NOT_RESULTS)
    return sorted(files)


def context(fn: str) -> str:
    """Fingerprint of what a call's result depends on besides the data: the settings and the
    files of ``inputs``. A changed file means fresh results for the calls that read it, and only
    for those: editing the themes lexicon keeps the churn list, editing the deck keeps everything.

    The settings are read at each call, not once per process with the files: a key made while
    a setting differed (a test's, for a moment) was kept for the process's life, so results kept
    later carried a key no other program computes, and the next import dropped them as made by
    other settings (the churn model kept before an import was refitted by its refresh)."""
    return _context(fn, settings().fingerprint())


@cache
def _context(fn: str, settings_fingerprint: bytes) -> str:
    digest = hashlib.sha256(settings_fingerprint)
    root = DATA_DIR.parent
    for path in inputs(fn):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def short_name(fn: str) -> str:
    """Return ``module.function`` of a call's dotted path for people: the domain module (or package)
    and the function, without ``analytics``, the layer or a package's inner module."""
    parts = fn.split(".")
    if parts[0] == "analytics" and len(parts) > 3:
        return f"{parts[2]}.{parts[-1]}"
    return ".".join(parts[-2:])


def call_of(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Call:
    """Return the ``Call`` of ``fn(con, *args, **kwargs)``."""
    return Call(f"{fn.__module__}.{fn.__qualname__}", tuple(args), tuple(sorted(kwargs.items())))


def folder(con: duckdb.DuckDBPyConnection) -> Path | None:
    """Where the payloads of this database live: ``<database>.marts/`` beside the file (None in memory).

    Payloads are files, not table cells: DuckDB reads a column's whole segment to return one
    cell, so a table of a gigabyte of payloads took two seconds for every lookup.
    """
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    if not row or not row[0]:
        return None
    path = Path(row[0])
    return path.with_name(f"{path.name}.marts")


def _payload_name(call: Call, version: int) -> str:
    return hashlib.sha256(f"{call.fn}|{call.key}|{version}".encode()).hexdigest()[:32] + ".payload"


def _serialise(value: Any) -> bytes | None:
    """Return a result as bytes in the safe format (no code runs when read), compressed from
    ``safe_payload.COMPRESS_FROM`` bytes (the earlier months computed ahead, ``views.keep_earlier``,
    would otherwise take 3 GB beside a 0.4 GB database); None when that format cannot hold it
    exactly: such a result is not kept, and nothing is ever kept as a pickle."""
    try:
        return safe_payload.pack(value)
    except safe_payload.Unsupported:
        return None


def _deserialise(data: bytes) -> Any:
    """Return the result ``_serialise`` wrote; raise ValueError for anything else (a pickle kept by
    an earlier version is never unpickled: the result is computed again)."""
    return safe_payload.unpack(data)


def fetch(con: duckdb.DuckDBPyConnection, call: Call, version: int) -> tuple[bool, Any]:
    """Return ``(True, result)`` when the mart holds this call for ``version``, else ``(False, None)``.

    A payload file is read only when its SHA-256 is the one recorded when it was written.
    """
    row = con.execute(
        "SELECT payload, file, sha256 FROM marts "
        "WHERE name = $name AND args = $args AND data_version = $version",
        {"name": call.fn, "args": call.key, "version": version},
    ).fetchone()
    if row is None:
        return False, None
    where = folder(con)  # a query: outside the try, so Ctrl-C stops
    try:
        if row[1] is None:
            # Only an in-memory database keeps payloads in the table; they are read the same way.
            return True, _deserialise(row[0])
        data = None if where is None else private_files.read_verified(where / row[1], row[2])
        if data is None:
            # Removed or replaced by hand (never read then): compute it again.
            return False, None
        return True, _deserialise(data)
    except Exception:
        # Not this program's format (a pickle kept by an earlier version), or written by another
        # version of a library: compute it again.
        return False, None


_bypass: ContextVar[bool] = ContextVar("marts_bypass", default=False)
# A rebuild running in this context: its number (0 outside one), unique in the process.
_rebuilding: ContextVar[int] = ContextVar("marts_rebuilding", default=0)
_rebuild_numbers = itertools.count(1)


@contextmanager
def bypassed() -> Iterator[None]:
    """Compute everything afresh inside the block, neither reading nor keeping results (the bench)."""
    token = _bypass.set(True)
    try:
        yield
    finally:
        _bypass.reset(token)


def has_marts(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database has the marts table as this program reads it (``db.has_current_marts``)."""
    return db.has_current_marts(con)


def _read_only(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return bool(row and row[0])


def store(
    con: duckdb.DuckDBPyConnection,
    call: Call,
    version: int,
    value: Any,
    seconds: float,
    inputs: tuple[date, str] | None = None,
) -> bool:
    """Keep a result for ``version``; return False when the database cannot take it (read-only).
    ``inputs`` (``read_inputs``): the as-of day and what the result read, for ``purge`` to carry it."""
    if _read_only(con):
        # The dashboard reads on read-only handles (issue 21): a payload file written now would
        # have no row to name it and never be cleaned up.
        return False
    data = _serialise(value)
    if data is None:
        return False  # the safe format cannot hold it: computed again when asked for
    where = folder(con)
    name: str | None = None
    digest: str | None = None
    try:
        if where is not None:
            # Written whole under a temporary name, then renamed: a reader never sees half a file.
            name = _payload_name(call, version)
            digest = private_files.write_private(where / name, data)
        con.execute(
            "INSERT OR REPLACE INTO marts "
            "(name, args, data_version, payload, file, seconds, built_at, sha256, inputs_as_of, inputs) "
            "VALUES ($name, $args, $version, $payload, $file, $seconds, $at, $sha256, $inputs_as_of, $inputs)",
            {
                "name": call.fn,
                "args": call.key,
                "version": version,
                "payload": None if name else data,
                "file": name,
                "seconds": seconds,
                "at": datetime.now(),
                "sha256": digest,
                "inputs_as_of": inputs[0] if inputs else None,
                "inputs": inputs[1] if inputs else None,
            },
        )
        if memo.inputs_of(call.fn) is not None and version >= 0:
            _drop_stand_ins(con, version, [(call.fn, call.key)], where)
    except duckdb.InterruptException:
        raise  # Ctrl-C: stop, do not go on to the next result
    except (duckdb.Error, OSError) as exc:
        if db.is_disk_full(exc):
            # Never silent: the caller says so (the rebuild stops; a page still shows its result).
            raise db.disk_full(where or ".", exc, needed=len(data) + 100_000_000) from exc
        # Read-only connection or folder, or another session stored the same result a moment ago.
        return False
    return True


def _drop_stand_ins(
    con: duckdb.DuckDBPyConnection, version: int, keys: Sequence[tuple[str, str]], where: Path | None
) -> None:
    """Delete the stand-ins (``stand_in``) of ``version`` of the calls ``keys`` (name, args), rows
    and files, where there are any."""
    gone = con.execute(
        "DELETE FROM marts WHERE data_version = $aside AND (name, args) IN "
        "(SELECT unnest($names) AS name, unnest($args) AS args) RETURNING file",
        {"aside": _superseded(version), "names": [k[0] for k in keys], "args": [k[1] for k in keys]},
    ).fetchall()
    if where is not None:
        for (file,) in gone:
            if file is not None:
                (where / str(file)).unlink(missing_ok=True)


def cached_many(
    con: duckdb.DuckDBPyConnection, calls: Sequence[Call], compute: Callable[[list[Call]], list[Any]]
) -> list[Any]:
    """Return each call's result: the kept ones from the marts, the others computed together
    by ``compute`` (given the missing calls, it returns their results in the same order) and kept.

    For results that are cheaper computed in one go than one by one (one query over several
    months). They are kept only when the data version is the same after the computation as
    before it, since a caller outside a read transaction may see an import commit meanwhile.
    """
    if _bypass.get() or not calls:
        return compute(list(calls))
    version = db.data_version(con)
    have = has_marts(con)
    found: dict[int, Any] = {}
    if have:
        for i, call in enumerate(calls):
            hit, value = fetch(con, call, version)
            if hit:
                found[i] = value
    missing = [i for i in range(len(calls)) if i not in found]
    if missing:
        clock = time.perf_counter()
        values = compute([calls[i] for i in missing])
        seconds = (time.perf_counter() - clock) / len(missing)
        found.update(zip(missing, values, strict=True))
        if have and db.data_version(con) == version:
            _keep(con, [(calls[i], found[i]) for i in missing], version, seconds)
    return [found[i] for i in range(len(calls))]


def read_inputs(con: duckdb.DuckDBPyConnection, call: Call) -> tuple[date, str] | None:
    """Return the as-of day and what ``call``'s result read (``memo.carried_while``), on ``con``
    as it computed the result, or None for a function not marked so."""
    inputs = memo.inputs_of(call.fn)
    if inputs is None or not call.args or not isinstance(call.args[0], date) or _read_only(con):
        return None  # (a read-only handle keeps nothing: no fingerprint to compute for it)
    return call.args[0], inputs(con, call.args[0])


def _keep(
    con: duckdb.DuckDBPyConnection,
    results: list[tuple[Call, Any]],
    version: int,
    seconds: float,
    inputs: tuple[date, str] | None = None,
) -> None:
    """Store results on a cursor of their own, outside the caller's read transaction (``inputs``:
    of a single result, ``read_inputs``)."""
    writer = con.cursor()
    try:
        for call, value in results:
            store(writer, call, version, value, seconds, inputs)
    except DiskFull:
        # A page still shows the result it computed; only a rebuild, whose job is keeping them, fails.
        if _rebuilding.get():
            raise
    finally:
        writer.close()


def purge(con: duckdb.DuckDBPyConnection, keep_version: int, aside: Collection[Call] = ()) -> None:
    """Drop the results of every other data version (the newest result of each carried function
    excepted, filed under ``keep_version``), and those of ``keep_version`` computed by
    other code or settings than the current ones (their key's fingerprint is not ``context`` of
    their function now: a program updated without an import would otherwise keep every earlier
    build's results until the next import, a gigabyte or more at group size), rows and files.

    The newest earlier result of each of the calls ``aside`` that ``keep_version`` has not (none
    carried: the earlier months' views after an import of a new month, which the caller computes
    again next, ``views.keep_earlier``) stays as its ``stand_in`` until then; after a rollback,
    none (they were computed on the rows it took out)."""
    # A carried function's newest results (``memo.carried``: its arguments name what it read) are
    # filed under this version first, unless this version has them already: asked with the same
    # arguments they are still right (the churn and theme models, when an import brought only later
    # days). The newest: those built within a day of the function's newest (the theme model's two
    # sides, fitted by one refresh), so one superseded by a new fit goes with its version.
    con.execute(
        """
        UPDATE marts SET data_version = $v
        WHERE data_version <> $v AND data_version >= 0 AND list_contains($carried::VARCHAR[], name)
          AND built_at >= (
              SELECT max(m.built_at) FROM marts AS m
              WHERE m.name = marts.name AND m.data_version <> $v AND m.data_version >= 0
          ) - INTERVAL 1 DAY
          AND NOT EXISTS (
              SELECT 1 FROM marts AS c WHERE c.name = marts.name AND c.args = marts.args AND c.data_version = $v
          )
        """,
        {"v": keep_version, "carried": sorted(memo.carried_names())},
    )
    _carry_unchanged(con, keep_version)
    if aside and not db.rolled_back(con):  # a rollback's: computed on the rows it took out
        _stand_in_from_older(con, keep_version, aside)
    # This version's stand-ins (``stand_in``) stay until what replaces them is kept; any other
    # version's go.
    versions = {"v": keep_version, "s": _superseded(keep_version)}
    files = [
        file
        for (file,) in con.execute(
            "SELECT file FROM marts WHERE data_version NOT IN ($v, $s) AND file IS NOT NULL", versions
        ).fetchall()
    ]
    con.execute("DELETE FROM marts WHERE data_version NOT IN ($v, $s)", versions)
    outdated = [
        (name, args, file)
        for name, args, file in con.execute(
            "SELECT name, args, file FROM marts WHERE data_version = $v", {"v": keep_version}
        ).fetchall()
        if str(args).partition("|")[0] != context(str(name))
    ]
    if outdated:
        con.executemany(
            "DELETE FROM marts WHERE name = $name AND args = $args AND data_version = $v",
            [{"name": name, "args": args, "v": keep_version} for name, args, _ in outdated],
        )
    files += [file for _, _, file in outdated if file is not None]
    where = folder(con)
    if where is not None:
        for name in files:
            (where / name).unlink(missing_ok=True)


def _stand_in_from_older(con: duckdb.DuckDBPyConnection, version: int, calls: Collection[Call]) -> None:
    """File the newest result of an earlier data version of each of ``calls`` that ``version``
    has neither kept nor standing in as its ``stand_in`` (``purge``)."""
    found = con.execute(
        """
        SELECT name, args, data_version, file FROM marts AS m
        WHERE data_version >= 0 AND data_version <> $v
          AND (name, args) IN (SELECT unnest($names) AS name, unnest($args) AS args)
          AND NOT EXISTS (
              SELECT 1 FROM marts AS c
              WHERE c.name = m.name AND c.args = m.args AND c.data_version IN ($v, $s)
          )
        QUALIFY row_number() OVER (PARTITION BY name, args ORDER BY data_version DESC) = 1
        """,
        {
            "v": version,
            "s": _superseded(version),
            "names": [call.fn for call in calls],
            "args": [call.key for call in calls],
        },
    ).fetchall()
    where = folder(con)
    for name, args, older, file in found:
        _move_aside(con, where, str(name), str(args), older, version, file)


def _move_aside(
    con: duckdb.DuckDBPyConnection,
    where: Path | None,
    name: str,
    args: str,
    older: int,
    version: int,
    file: Any,
) -> None:
    """File the result of ``name`` and ``args`` kept for ``older`` as ``version``'s stand-in, its
    payload file renamed (the result that replaces it is written under the old name); a result
    whose file is gone is deleted instead."""
    new_file = file
    if file is not None and where is not None:
        new_file = str(file).removesuffix(".payload") + ".aside.payload"
        try:
            (where / str(file)).replace(where / new_file)
        except FileNotFoundError:
            con.execute(
                "DELETE FROM marts WHERE name = $name AND args = $args AND data_version = $older",
                {"name": name, "args": args, "older": older},
            )
            return
    con.execute(
        "UPDATE marts SET data_version = $aside, file = $file "
        "WHERE name = $name AND args = $args AND data_version = $older",
        {"name": name, "args": args, "older": older, "aside": _superseded(version), "file": new_file},
    )


def _carry_unchanged(con: duckdb.DuckDBPyConnection, keep_version: int) -> None:
    """File under ``keep_version`` the kept results of other versions whose function is marked
    ``memo.carried_while`` and whose records read are what they are now (``read_inputs`` gives the
    same for their as-of day): the views of a month an import of later days left as it was. The
    newest of each call's such results, unless ``keep_version`` has it already."""
    try:
        pending = con.execute(
            "SELECT DISTINCT name, inputs_as_of FROM marts WHERE data_version <> $v "
            "AND data_version >= 0 AND inputs IS NOT NULL AND inputs_as_of IS NOT NULL "
            "ORDER BY inputs_as_of, name",
            {"v": keep_version},
        ).fetchall()
    except duckdb.BinderException:
        return  # a database whose marts table predates the column (read-only, not migrated)
    # What each reads now, all worked out before the first UPDATE: the records' digests are held
    # while the file is unchanged (``memo.held``), and every UPDATE changes it. With the earlier
    # months computed ahead, reading them between the UPDATEs cost a nightly refresh 8 s.
    memo.prime(con, sorted({as_of for _, as_of in pending}))
    now = {}
    for name, as_of in pending:
        inputs = memo.inputs_of(str(name))
        if inputs is not None:
            now[(name, as_of)] = inputs(con, as_of)
    if not now:
        return
    # One UPDATE for all of them: with every month's views kept, one per view and day (175 a night
    # at a million work orders) cost the nightly refresh seconds. A call's arguments name its day,
    # so each row matches one (name, day) at most, as it did one statement each.
    con.execute(
        """
        UPDATE marts SET data_version = $v
        FROM (SELECT unnest($names) AS name, unnest($days) AS as_of, unnest($inputs) AS inputs) AS now
        WHERE marts.name = now.name AND marts.inputs_as_of = now.as_of AND marts.inputs = now.inputs
          AND marts.data_version <> $v AND marts.data_version >= 0
          AND marts.data_version = (
              SELECT max(m.data_version) FROM marts AS m
              WHERE m.name = marts.name AND m.args = marts.args AND m.inputs = marts.inputs
                AND m.data_version <> $v
          )
          AND NOT EXISTS (
              SELECT 1 FROM marts AS c WHERE c.name = marts.name AND c.args = marts.args AND c.data_version = $v
          )
        """,
        {
            "v": keep_version,
            "names": [name for name, _ in now],
            "days": [as_of for _, as_of in now],
            "inputs": list(now.values()),
        },
    )


def drop_changed(con: duckdb.DuckDBPyConnection, aside: Collection[Call] = ()) -> int:
    """Delete the kept results of the current data version whose inputs (``read_inputs``) are no
    longer what they were when computed, rows and files; return how many. The data version does
    not change when ``views.refit`` keeps new models, but what the views they score read does.

    Those of the calls ``aside``, which the caller computes again next (the earlier months' views,
    ``views.keep_earlier``: eight minutes at a million work orders), are set aside instead: not
    read as this version's results again, each stays as the ``stand_in`` its page may show,
    saying so, until its result under the new models is kept (``store``) or the next data
    version drops it."""
    version = db.data_version(con)
    rows = con.execute(
        "SELECT name, args, inputs_as_of, inputs, file FROM marts "
        "WHERE data_version = $v AND inputs IS NOT NULL AND inputs_as_of IS NOT NULL "
        "ORDER BY inputs_as_of, name",  # one day's digests together, while they are held
        {"v": version},
    ).fetchall()
    memo.prime(con, sorted({row[2] for row in rows}))
    now: dict[tuple[str, Any], str] = {}
    stale = []
    for name, args, as_of, inputs, file in rows:
        reader = memo.inputs_of(str(name))
        if reader is None:
            continue
        if (name, as_of) not in now:
            now[(name, as_of)] = reader(con, as_of)
        if now[(name, as_of)] != inputs:
            stale.append((name, args, file))
    later = {(call.fn, call.key) for call in aside}
    _set_aside(con, version, [row for row in stale if (row[0], row[1]) in later])
    _delete(con, version, [row for row in stale if (row[0], row[1]) not in later])
    return len(stale)


def _superseded(version: int) -> int:
    """Return the version the stand-ins of ``version`` are filed under (never a data version,
    which is 0 or more)."""
    return -(version + 1)


def _set_aside(con: duckdb.DuckDBPyConnection, version: int, rows: Sequence[tuple[Any, Any, Any]]) -> None:
    """File the results ``rows`` (name, args, payload file) of ``version`` as its stand-ins,
    their payload files renamed (the result that replaces one is written under its old name),
    replacing stand-ins set aside before."""
    if not rows:
        return
    where = folder(con)
    _drop_stand_ins(con, version, [(str(name), str(args)) for name, args, _ in rows], where)
    for name, args, file in rows:
        _move_aside(con, where, str(name), str(args), version, version, file)


def stand_in(con: duckdb.DuckDBPyConnection, call: Call, version: int) -> tuple[bool, Any]:
    """Return ``(True, result)`` when ``call`` has no result kept for ``version`` but one as last
    computed: an earlier data version's (set aside by ``purge``) or the models' before the last
    refit (``drop_changed``); else ``(False, None)``.

    A page may show it, saying so, while its result for ``version`` is computed in the background:
    an earlier month's churn list or maintenance scores cost 7-11 s to score afresh at a million
    work orders."""
    if _bypass.get() or not has_marts(con) or is_kept(con, call, version):
        return False, None
    return fetch(con, call, _superseded(version))


def drop_results(con: duckdb.DuckDBPyConnection, prefix: str, keep: Sequence[str] = ()) -> int:
    """Delete the kept results of the current data version whose function's dotted name starts
    with ``prefix``, those of ``keep`` excepted, rows and files; return how many. ``views.refit``
    drops the themes' views this way when it keeps new theme models: the data version does not
    change, and their arguments do not name the models (the month's, not the models' month)."""
    version = db.data_version(con)
    found = con.execute(
        "SELECT name, args, file FROM marts WHERE data_version = $v AND starts_with(name, $prefix) "
        "AND NOT list_contains($keep::VARCHAR[], name)",
        {"v": version, "prefix": prefix, "keep": list(keep)},
    ).fetchall()
    return _delete(con, version, found)


def _delete(con: duckdb.DuckDBPyConnection, version: int, rows: Sequence[tuple[Any, Any, Any]]) -> int:
    """Delete the kept results ``rows`` (name, args, payload file) of ``version``, rows and files;
    return how many."""
    if rows:
        con.executemany(
            "DELETE FROM marts WHERE name = $name AND args = $args AND data_version = $v",
            [{"name": name, "args": args, "v": version} for name, args, _ in rows],
        )
    where = folder(con)
    if where is not None:
        for _, _, file in rows:
            if file is not None:
                (where / str(file)).unlink(missing_ok=True)
    return len(rows)


def cached(
    con: duckdb.DuckDBPyConnection,
    call: Call,
    *,
    version: int | None = None,
    keep: bool | None = None,
    as_is: bool = False,
) -> Any:
    """Return the call's result from the mart, computing and keeping it on a miss.

    By default the lookup and the computation run in one read transaction of their own, so the
    version a result is filed under is the version it was computed from. ``as_is=True`` uses
    ``con`` as it is: the caller already reads one snapshot (a page's ``snapshot()``, or an
    outer ``cached`` call) and passes its ``version``. ``keep=None`` keeps results that took at
    least ``MIN_SECONDS``; True always; False never. Keeping happens on a cursor of its own,
    outside the read transaction.
    """
    if _bypass.get() or _outside_fingerprint(call.fn):
        return call.run(con)
    if as_is:
        return _lookup_or_compute(con, call, version, keep)
    cur = con.cursor()
    _RUNNING.add(cur)
    try:
        cur.execute("BEGIN TRANSACTION")
        try:
            value = _lookup_or_compute(cur, call, version, keep)
        finally:
            cur.execute("ROLLBACK")  # a read: nothing to commit
    finally:
        _RUNNING.discard(cur)
        cur.close()
    return value


# The cursors computing a result right now, for Ctrl-C to interrupt (``interruptible``).
_RUNNING: set[duckdb.DuckDBPyConnection] = set()


@contextmanager
def interruptible(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Make Ctrl-C stop a DuckDB query inside the block at once.

    DuckDB notices SIGINT only now and then while a query runs (it was seen to miss it for a
    whole query). Python writes the signal to a wake-up socket the moment it arrives, even while
    the main thread is inside DuckDB; a watcher thread then interrupts the running queries, which
    raise, and the KeyboardInterrupt follows. Only in the main thread (signals arrive there).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reader, writer = socket.socketpair()
    reader.setblocking(True)
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)

    def watch() -> None:
        while True:
            try:
                data = reader.recv(64)
            except OSError:
                return
            if not data:
                return
            if signal.SIGINT in data:
                for cur in (con, *list(_RUNNING)):
                    with suppress(duckdb.Error):
                        cur.interrupt()

    watcher = threading.Thread(target=watch, name="ctrl-c-watcher", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        # End of file on the socket ends the watcher; wait for it, so no thread still holds the
        # connection when the program exits (DuckDB then reports leaked objects on stderr, seen
        # once in a loaded test run of ``import``).
        writer.close()
        watcher.join(timeout=5)
        reader.close()


def _lookup_or_compute(
    con: duckdb.DuckDBPyConnection, call: Call, version: int | None, keep: bool | None
) -> Any:
    current = db.data_version(con) if version is None else version
    found, value = fetch(con, call, current) if has_marts(con) else (False, None)
    if found:
        return value
    clock = time.perf_counter()
    value = call.run(con)
    seconds = time.perf_counter() - clock
    if keep or (keep is None and seconds >= MIN_SECONDS):
        _keep(con, [(call, value)], current, seconds, read_inputs(con, call))
    return value


def rebuild(
    con: duckdb.DuckDBPyConnection,
    calls: Iterable[Call],
    progress: Progress | None = None,
    prepare: Callable[[duckdb.DuckDBPyConnection], Any] | None = None,
    *,
    ahead: Sequence[Call] | Callable[[duckdb.DuckDBPyConnection], Sequence[Call]] = (),
    aside: Callable[[duckdb.DuckDBPyConnection], Sequence[Call]] | None = None,
) -> dict[str, Any]:
    """Compute ``calls`` for the current data version (after ``prepare``), drop older versions
    (but the stand-ins of the calls ``aside`` picks, see ``purge``); return timings.

    ``views.rebuild`` passes the pages' default views; a model that ``prepare`` cannot train
    is reported under ``failed`` and does not stop the views. ``ahead`` (some of ``calls``: the
    longest model fit; or a function of the connection that picks them once older versions'
    results are dropped and the carried ones filed under this version) are computed one after
    another on a thread of their own while this thread runs ``prepare`` and the other calls (see
    ``_Ahead``), which come last on this thread: it waits for the whole lane at the first of them.
    """
    token = _rebuilding.set(next(_rebuild_numbers))
    built_token = _built.set(_Built())
    try:
        with interruptible(con):
            return _rebuild(con, list(calls), progress, prepare, ahead, aside)
    finally:
        _built.reset(built_token)
        _rebuilding.reset(token)


class _Ahead:
    """Calls computed one after another on a thread of their own (a cursor of its own), kept as
    ``cached`` keeps them, while the rebuild runs ``prepare`` and its other calls.

    The refresh after an import at a million work orders spent 89 s on the maintenance model
    and its scores, 66 s on the churn model and list and 23 s on the themes' tables, one after
    the other, each on one core (their trees are fitted on one thread: ``maintenance.threads``).
    None of them reads what another writes. Two lanes on a two-core machine: this one takes the
    maintenance model, the rebuild's thread ``prepare`` and then every other call. (The three
    each on a thread of their own measured worse, 165.6 s: the maintenance model, the longest,
    took 141 s sharing two cores three ways.) What the thread computes is its call's result
    exactly (the same seeds, the same rows). A call that fails here is left to the rebuild's
    loop, which computes it again and reports why; only a full disk stops the rebuild, as it
    does there.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, calls: Sequence[Call], version: int) -> None:
        self.calls = list(calls)
        self.results: dict[tuple[str, str], Any] = {}
        self.seconds: dict[tuple[str, str], float] = {}
        self._errors: list[BaseException] = []
        # The cursor is made here, on the caller's thread; only the lane's thread uses it.
        self._cursor = con.cursor()
        self._thread = threading.Thread(
            target=copy_context().run, args=(self._run, version), name="marts-ahead", daemon=True
        )
        self._thread.start()

    def _run(self, version: int) -> None:
        _built.set(_Built())  # the lane's own (its context is a copy of the rebuild's)
        for call in self.calls:
            clock = time.perf_counter()
            try:
                value = _keep_and_hand_on(self._cursor, call, version)
            except DiskFull as exc:
                self._errors.append(exc)
                return
            except Exception:  # noqa: BLE001 - the rebuild's loop computes it again and reports why
                continue
            self.seconds[(call.fn, call.key)] = time.perf_counter() - clock
            self.results[(call.fn, call.key)] = value

    def covers(self, call: Call) -> bool:
        """Whether ``call`` must wait for the lane: one of its calls, or another of the same
        function (a store's maintenance scores are the group's rows, handed on)."""
        return any(call.fn == mine.fn for mine in self.calls)

    def join(self) -> None:
        """Wait for the lane's thread; raise a full disk it met."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)  # a short wait, so Ctrl-C reaches the main thread
        self._cursor.close()
        if self._errors:
            raise self._errors[0]

    def stop(self) -> None:
        """The rebuild stops (Ctrl-C, a full disk): interrupt the lane's query, without waiting for
        it (``interruptible`` interrupts the cursor ``cached`` opened on it too)."""
        with suppress(duckdb.Error):
            self._cursor.interrupt()


_MISSING = object()


def _view_name(call: Call) -> str:
    """Return how the rebuild's timings and failures name a call."""
    return f"{short_name(call.fn)} {call.key[:60]}"


def _build_one(
    con: duckdb.DuckDBPyConnection,
    call: Call,
    version: int,
    timings: dict[str, float],
    failed: dict[str, str],
    progress: Progress | None,
    fraction: float,
) -> None:
    """Compute and keep one of the rebuild's calls, recording its seconds or why it failed."""
    if progress is not None:
        progress(fraction, call.fn.rpartition(".")[2])
    clock = time.perf_counter()
    name = _view_name(call)
    try:
        _keep_and_hand_on(con, call, version)
    except Exception as exc:  # noqa: BLE001 - one view that cannot be computed must not stop the others
        if isinstance(exc, DiskFull):
            raise  # the other results would not fit either; never report success
        if db.is_interrupt(exc):
            # Ctrl-C reached DuckDB mid-query: stop now, as Python's own Ctrl-C would; what
            # was committed stays.
            raise KeyboardInterrupt from exc
        # Too little data for a model, say: the page says so itself when it is opened.
        failed[name] = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
        return
    timings[name] = round(time.perf_counter() - clock, 2)


def _rebuild(
    con: duckdb.DuckDBPyConnection,
    todo: list[Call],
    progress: Progress | None,
    prepare: Callable[[duckdb.DuckDBPyConnection], Any] | None,
    ahead: Sequence[Call] | Callable[[duckdb.DuckDBPyConnection], Sequence[Call]],
    aside: Callable[[duckdb.DuckDBPyConnection], Sequence[Call]] | None,
) -> dict[str, Any]:
    version = db.data_version(con)
    built = _built.get() or _Built()
    purge(con, version, () if aside is None else aside(con))
    timings: dict[str, float] = {}
    failed: dict[str, str] = {}
    started = time.perf_counter()
    wanted = [call for call in (ahead(con) if callable(ahead) else ahead) if call in todo]
    early = _Ahead(con, wanted, version) if wanted else None
    if early is not None:
        todo = [call for call in todo if not early.covers(call)] + [
            call for call in todo if early.covers(call)
        ]
    prepared: Any = None
    prepare_s = 0.0
    try:
        if prepare is not None:
            clock = time.perf_counter()
            try:
                prepared = prepare(con)
            except Exception as exc:  # noqa: BLE001 - issue 14: a model that cannot be trained must not stop the views
                failed["prepare"] = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
            prepare_s = round(time.perf_counter() - clock, 2)
        for i, call in enumerate(todo):
            if early is not None and early.covers(call):
                early.join()  # its result first, or this call would compute it again
                found = early.results.pop((call.fn, call.key), _MISSING)
                if found is not _MISSING:
                    # Computed and kept on the lane: handed on as the loop would hand it on.
                    built.last[:] = [(call.fn, call.key, version, found)]
                    timings[_view_name(call)] = round(early.seconds[(call.fn, call.key)], 2)
                    continue
            _build_one(con, call, version, timings, failed, progress, i / max(len(todo), 1))
    except BaseException:
        if early is not None:
            early.stop()
        raise
    if early is not None:
        early.join()
    built.last.clear()
    if progress is not None:
        progress(1.0, "done")
    return {
        "version": version,
        "calls": len(todo),
        "seconds": round(time.perf_counter() - started, 1),
        "each": timings,
        "failed": failed,
        # What ``prepare`` returned and its seconds (the ``ahead`` calls ran beside it).
        "prepared": prepared,
        "prepare_s": prepare_s,
    }


# The intermediate results analytics code asks ``memo.remembered`` for (the themes' fitted model
# and window, the churn model), held in this process by the SHA-256 of their kept payload: a
# page's calls share them instead of each reading the same payload back (the themes page of
# another month read the side's model five times, 0.4-0.7 s each at a million orders). The same
# bytes always decode to the same value, whatever database or version filed them, so a database
# replaced under the same name cannot be answered from here. A result a read-only handle computed
# (the dashboard's: it keeps nothing) is held by the file's identity instead (``_held_key``):
# another month's themes computed the month's window for each of the page's five calls, 0.5 s
# apiece at a million orders. A few only: a group's fitted window holds six months of comment
# vectors. The code that asks for them reads them, never changes them.
NESTED_KEPT = 6
_nested: OrderedDict[str, Any] = OrderedDict()
# Short strings (the record digests ``model_inputs`` holds, one per as-of day) are held apart, many
# more of them: with every month's views kept, the refresh checks 36 days' digests, and among the
# six held results above all but the last six were worked out again (0.19 s each at a million
# work orders), the one-pass primer's included.
SMALL_KEPT = 4096
SMALL_CHARS = 1024
_small: OrderedDict[str, str] = OrderedDict()
_nested_lock = threading.Lock()


def _kept_digest(con: duckdb.DuckDBPyConnection, call: Call, version: int) -> str | None:
    """Return the SHA-256 of the payload file kept for ``call`` at ``version``, or None."""
    if not has_marts(con):
        return None
    row = con.execute(
        "SELECT sha256 FROM marts WHERE name = $name AND args = $args AND data_version = $version "
        "AND file IS NOT NULL",
        {"name": call.fn, "args": call.key, "version": version},
    ).fetchone()
    return str(row[0]) if row and row[0] else None


def _file_identity(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...] | None:
    """Return what tells this database file apart from one put in its place: path, device, inode,
    size and modification time of the file and of its write-ahead log (None in memory)."""
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    if not row or not row[0]:
        return None
    found: list[Any] = [row[0]]
    for path in (Path(row[0]), Path(f"{row[0]}.wal")):
        try:
            st = path.stat()
        except OSError:
            found.append(None)
            continue
        found.append((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(found)


def _identity_key(con: duckdb.DuckDBPyConnection, call: Call, version: int) -> str | None:
    """Return the call's key by the database file's identity and ``version`` (None in memory)."""
    identity = _file_identity(con)
    if identity is None:
        return None
    return hashlib.sha256(repr((identity, version, call.fn, call.key)).encode()).hexdigest()


def _held_key(con: duckdb.DuckDBPyConnection, call: Call, version: int) -> str | None:
    """Return the key a result is held under in this process: its kept payload's SHA-256, else
    (a read-only handle keeps nothing: the dashboard's) the call, the data version and the file's
    identity, so a file replaced under the same name at the same version is not answered from here."""
    digest = _kept_digest(con, call, version)
    return digest if digest is not None else _identity_key(con, call, version)


def _held(key: str | None) -> tuple[bool, Any]:
    """Return ``(True, value)`` when this process holds ``key``, else ``(False, None)``."""
    if key is None:
        return False, None
    with _nested_lock:
        for held in (_small, _nested):
            if key in held:
                held.move_to_end(key)
                return True, held[key]
    return False, None


def forget_held() -> None:
    """Drop everything this process holds (``_hold_value``), as a fresh process starts."""
    with _nested_lock:
        _nested.clear()
        _small.clear()


def _hold_value(key: str | None, value: Any) -> None:
    """Hold ``value`` under ``key`` (nothing without a key), the oldest dropped beyond ``NESTED_KEPT``
    (``SMALL_KEPT`` for a string of fewer than ``SMALL_CHARS`` characters)."""
    if key is None:
        return
    small = isinstance(value, str) and len(value) < SMALL_CHARS
    held, limit = (_small, SMALL_KEPT) if small else (_nested, NESTED_KEPT)
    with _nested_lock:
        held[key] = value
        while len(held) > limit:
            held.popitem(last=False)


def _remember(con: duckdb.DuckDBPyConnection, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    # Inside the caller's read (a page snapshot or a mart computation): the same state.
    call = call_of(fn, *args)
    if _bypass.get() or _outside_fingerprint(call.fn):
        return cached(con, call, keep=True, as_is=True)
    version = db.data_version(con)
    found, value = _held(_held_key(con, call, version))
    if found:
        return value
    value = cached(con, call, version=version, keep=True, as_is=True)
    # Kept just now (a writable handle): held under its payload's digest, as a later ask finds it.
    _hold_value(_held_key(con, call, version), value)
    return value


def _hold_key(con: duckdb.DuckDBPyConnection, call: Call, version: int) -> str | None:
    """Return the key ``memo.held`` holds a result under: the file's identity (``_identity_key``);
    during a rebuild, for a function marked ``memo.of_records``, the rebuild and the data version.

    The rebuild writes each view it keeps, and every write changes the file's size and time: the
    records' digest (``model_inputs.digest``, 0.3 s at a million work orders) was worked out again
    for each of twenty views of the refresh after an import. The rebuild holds the database for
    writing, and its writes change no record."""
    rebuild = _rebuilding.get()
    if rebuild and call.fn in memo.of_records_names() and _file_identity(con) is not None:
        return hashlib.sha256(repr(("rebuild", rebuild, version, call.fn, call.key)).encode()).hexdigest()
    return _identity_key(con, call, version)


def _hold(con: duckdb.DuckDBPyConnection, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    # ``memo.held``: in this process only, by the file's identity (never kept in the marts).
    call = call_of(fn, *args)
    if _bypass.get():
        return call.run(con)
    key = _hold_key(con, call, db.data_version(con))
    found, value = _held(key)
    if found:
        return value
    value = call.run(con)
    _hold_value(key, value)
    return value


def _remember_many(
    con: duckdb.DuckDBPyConnection,
    fn: Callable[..., Any],
    calls: list[tuple[Any, ...]],
    compute: memo.Compute,
) -> list[Any]:
    return cached_many(
        con, [call_of(fn, *args) for args in calls], lambda missing: compute([c.args for c in missing])
    )


@dataclass
class _Built:
    """The result a thread of a rebuild computed last (function, key, data version, value), for
    ``_peek``, and how many times ``_peek`` has handed it on: one for the rebuild's thread and one
    for its lane (a store's maintenance scores are the group's rows, sliced on the thread that
    computed them)."""

    last: list[tuple[str, str, int, Any]] = field(default_factory=list)
    handed_on: int = 0


_built: ContextVar[_Built | None] = ContextVar("marts_built", default=None)


def _keep_and_hand_on(con: duckdb.DuckDBPyConnection, call: Call, version: int) -> Any:
    """Compute and keep ``call`` (``cached``); unless it was itself made from the last result (a
    store's slice of it), make it the result this thread hands on next."""
    built = _built.get()
    handed = built.handed_on if built is not None else 0
    value = cached(con, call, version=version, keep=True)
    if built is not None and built.handed_on == handed:
        built.last[:] = [(call.fn, call.key, version, value)]
    return value


def _peek(con: duckdb.DuckDBPyConnection, fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[bool, Any]:
    """Answer ``memo.kept``: during a rebuild, the result it computed last; otherwise the result
    kept for the version ``con`` reads, read without holding it in the process.

    A store's maintenance view of another month is the group's kept scores of that month filtered
    (``views.keep_earlier`` keeps them for every month): reading them back took 0.4-1.0 s at a
    million orders (17 MB compressed), against 1.4-2.8 s to score a store of 20,000 vehicles
    afresh. They are not held: a group's scores are 150 MB in memory, and the filtered view is
    what the page keeps.
    """
    call = call_of(fn, *args)
    if _bypass.get():
        return False, None
    built = _built.get()
    if _rebuilding.get() and built is not None:
        if not built.last:
            return False, None
        name, key, version, value = built.last[0]
        if (name, key, version) == (call.fn, call.key, db.data_version(con)):
            built.handed_on += 1
            return True, value
        return False, None
    if _outside_fingerprint(call.fn) or not has_marts(con):
        return False, None
    return fetch(con, call, db.data_version(con))


def _has(con: duckdb.DuckDBPyConnection, fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    """Answer ``memo.stored``: whether ``_remember`` finds the call kept for the version ``con`` reads
    (its row, and its payload file where the database keeps files), without reading the result."""
    call = call_of(fn, *args)
    if _bypass.get() or _outside_fingerprint(call.fn):
        return False
    return is_kept(con, call, db.data_version(con))


def is_kept(con: duckdb.DuckDBPyConnection, call: Call, version: int) -> bool:
    """Return whether ``call``'s result is kept for ``version``, its payload file present (without
    reading it)."""
    if not has_marts(con):
        return False
    row = con.execute(
        "SELECT file FROM marts WHERE name = $name AND args = $args AND data_version = $version",
        {"name": call.fn, "args": call.key, "version": version},
    ).fetchone()
    if row is None:
        return False
    where = folder(con)
    return row[0] is None or where is None or (where / str(row[0])).is_file()


def _newest(con: duckdb.DuckDBPyConnection, fn: Callable[..., Any]) -> tuple[Any, ...] | None:
    """Answer ``memo.newest_args``: the arguments of ``fn``'s newest result kept for the version
    ``con`` reads by the current code and settings, with its payload file where the database
    keeps files; None when there is none or its arguments are not plain values and dates."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    if _bypass.get() or _outside_fingerprint(name) or not has_marts(con):
        return None
    rows = con.execute(
        "SELECT args, file FROM marts WHERE name = $name AND data_version = $version "
        "AND starts_with(args, $context) ORDER BY built_at DESC",
        {"name": name, "version": db.data_version(con), "context": f"{context(name)}|"},
    ).fetchall()
    where = folder(con)
    for args, file in rows:
        if file is not None and where is not None and not (where / str(file)).is_file():
            continue
        parsed = _plain_value(str(args).partition("|")[2])
        if isinstance(parsed, tuple) and len(parsed) == 2 and isinstance(parsed[0], tuple):
            return parsed[0]
    return None


def _plain_value(text: str) -> Any:
    """Return the value ``Call.key`` wrote with ``repr`` when it holds only tuples, constants and
    ``datetime.date(y, m, d)``, else None (never evaluates code)."""

    def value(node: ast.expr) -> Any:
        if isinstance(node, ast.Tuple):
            return tuple(value(item) for item in node.elts)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Call) and ast.unparse(node.func) in {"datetime.date", "date"}:
            parts = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if len(parts) == len(node.args) == 3 and not node.keywords and all(type(p) is int for p in parts):
                return date(*(int(str(p)) for p in parts))
        raise ValueError("not a plain value")

    try:
        return value(ast.parse(text, mode="eval").body)
    except (SyntaxError, ValueError, TypeError):
        return None


def _put(con: duckdb.DuckDBPyConnection, fn: Callable[..., Any], args: tuple[Any, ...], value: Any) -> None:
    # ``memo.hold_given``: held as ``_hold`` would hold what it computed.
    if not _bypass.get():
        call = call_of(fn, *args)
        _hold_value(_hold_key(con, call, db.data_version(con)), value)


# Domain code asks ``memo`` for fitted models and monthly counts; from here on the marts answer.
memo.install(_remember, _remember_many, _peek, _hold, _has, _newest, _put)
