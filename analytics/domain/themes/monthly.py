"""Themes of the callback comments of a month (praise or complaint), with trend, flags, quotes and impact."""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:
    # scikit-learn takes two seconds to import; every import of a file tokenises its comments
    # here but only fitting a model needs it, so it is imported where a model is fitted.
    pass
from analytics.core import memo, stats
from analytics.core import months as calendar_months
from analytics.core.config import settings
from analytics.core.errors import UserError
from analytics.core.months import month_ends, parse_month, shift_month
from analytics.domain import counts, facts, model_inputs
from analytics.domain.themes import polarity
from analytics.domain.themes.discovery import SPECIAL_LABELS, ThemeModel, _Detail, _detail, mine
from analytics.domain.themes.lexicon import (
    NONE,
    OTHER,
    PRAISE_ONLY,
    SIDES,
    Lexicon,
    _scan,
    lexicon_aspect,
    load_lexicon,
    name_pieces,
)
from analytics.domain.themes.segmentation import _WORD_CHAR, THEMES_DIR, closers, drop_entities_all, tokenize
from analytics.store import db, derived
from analytics.store.queries import load as sql

IMPACT_KEYS: tuple[str, ...] = ("rate", "rate_low", "rate_high", "nps", "nps_low", "nps_high")


# New/rising flags: one-sided two-proportion z-test of this month's share against the pooled
# previous months, at the 5% level, on at least MIN_FLAG_N comments; "new" when the theme also
# held at most NEW_PRIOR_RATIO of its current share before.
RISING_Z = 1.645


MIN_FLAG_N = 5


NEW_PRIOR_RATIO = 0.2


# The months a month's themes are fitted with and compared against (trend and flags).
MONTHS_BACK = 6


FLAG_TEST = (
    "rising: one-sided two-proportion z-test of this month's share against the pooled previous "
    f"months, z >= {RISING_Z} (p < 0.05), n >= {MIN_FLAG_N}; new: rising and its share over the "
    f"previous months at most {NEW_PRIOR_RATIO:g} of this month's"
)


# Quotes: two comments are near repeats when they share more than this share of the shorter
# one's character bigrams; only the most central QUOTE_CANDIDATES comments are considered.
QUOTE_OVERLAP = 0.6


QUOTE_CANDIDATES = 200


def _months(month: str, months_back: int) -> list[str]:
    """Return the months from ``months_back`` before ``month`` up to it, oldest first."""
    return calendar_months.months_back(month, months_back)


def _bounds(months: list[str]) -> dict[str, date]:
    return {"start": parse_month(months[0]), "end": shift_month(parse_month(months[-1]), 1)}


def _check_side(side: str) -> None:
    if side not in SIDES:
        raise UserError(f"side must be one of {', '.join(SIDES)}, not {side!r}.")


@dataclass
class _Window:
    # The month's own comments with their themes (``row``: their position in ``detail`` and ``tokens``).
    frame: pd.DataFrame
    # How many comments of each (month, theme) the whole window holds.
    counts: dict[tuple[str, str], int]
    model: ThemeModel
    detail: _Detail
    months: list[str]
    side: str
    tokens: list[list[str]]


def _window(
    con: duckdb.DuckDBPyConnection,
    month: str,
    side: str,
    stores: Sequence[str] | None,
    months_back: int,
    k: int,
    seed: int,
) -> _Window:
    """Return the fitted window of the month, from the mart when it was fitted for this data version."""
    store_key = tuple(sorted(stores)) if stores else None
    # Inside the caller's read (a page snapshot or a mart computation): the same state.
    return memo.remembered(con, fit_window, month, side, store_key, months_back, k, seed)


def _inputs(con: duckdb.DuckDBPyConnection, opened: str) -> str:
    """Return the fingerprint of the records up to the end of the model's month (``model_inputs.digest``)."""
    return model_inputs.digest(con, month_ends([opened])[0])


# The theme models (one per side) a view is assigned to: the month whose window they are fitted on
# and ``model_inputs.digest`` of the records up to its end, which names them among the kept ones.
ModelKey = tuple[str, str]


def _model(
    con: duckdb.DuckDBPyConnection, key: ModelKey, side: str, months_back: int, k: int, seed: int
) -> ThemeModel:
    """Return the side's theme model of ``key`` (kept; fitted here when it is not)."""
    model: ThemeModel = memo.remembered(con, fit_model, key[0], side, months_back, k, seed, key[1])
    return model


def model_month(con: duckdb.DuckDBPyConnection, month: str) -> str:
    """Return the month whose window the theme models that name ``month``'s themes are fitted on
    (``scoring_models``): the month the pages open on (``facts.model_as_of``), or ``month`` itself
    when it is later; until ``views.refit`` fits them after an import of a new month, the month
    of the models fitted before it.

    One model per data version and side, fitted on every store's comments, names the themes of
    every month and store choice: another month or one store is assigned to it, not fitted
    afresh, and the themes are the same words in every store, so stores compare like with like.
    """
    return scoring_models(con, month)[0]


def scoring_models(
    con: duckdb.DuckDBPyConnection, month: str, months_back: int = MONTHS_BACK, k: int = 8, seed: int = 0
) -> ModelKey:
    """Return the theme models that name ``month``'s themes: those fitted at ``facts.model_as_of``
    on the records there are now when they are kept (or ``month`` is later than the month the
    pages open on, whose models are fitted on first use as before); otherwise, the models every
    comment is assigned to now (``theme_assignments``), when both sides are kept and were fitted
    no later, as ``model_inputs.scoring_model`` chooses the churn and maintenance models.

    An import of a new month moves the month the pages open on. Fitting both sides' models and
    assigning every comment to them again took 27 s of the refresh after a month's import at a
    million work orders; the refresh now assigns the new comments to the models kept, and
    ``views.refit`` fits the new month's afterwards (the themes page says which month's models
    name the themes). With none kept (a first import, a change of the themes code), they are
    fitted at once.
    """
    day = facts.model_as_of(con, month_ends([month])[0])
    wanted = day.strftime("%Y-%m")
    exact = (wanted, _inputs(con, wanted))
    if day != facts.opened_month_end(con) or _models_kept(con, exact, months_back, k, seed):
        return exact
    assigned = _assigned_models(con, months_back, k, seed)
    if assigned is None or not _models_kept(con, assigned, months_back, k, seed):
        return exact
    chosen = model_inputs.scoring_model((day, exact[1]), False, (month_ends([assigned[0]])[0], assigned[1]))
    return (chosen[0].strftime("%Y-%m"), chosen[1])


def _models_kept(con: duckdb.DuckDBPyConnection, key: ModelKey, months_back: int, k: int, seed: int) -> bool:
    """Return whether both sides' theme models of ``key`` are kept for the data version ``con`` reads."""
    return all(memo.stored(con, fit_model, key[0], side, months_back, k, seed, key[1]) for side in SIDES)


def _assigned_models(con: duckdb.DuckDBPyConnection, months_back: int, k: int, seed: int) -> ModelKey | None:
    """Return the models ``theme_assignments`` was written with (any data version), when its
    arguments, satisfied threshold and themes code are today's; else None."""
    stored = _stored_identity(con)
    if stored is None:
        return None
    month, inputs = stored.pop("model_month", None), stored.pop("inputs", None)
    if not isinstance(month, str) or not isinstance(inputs, str):
        return None
    if stored != _identity_settings(months_back, k, seed):
        return None
    return (month, inputs)


def _facts(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any]) -> pd.DataFrame:
    """Run a query over ``callback_facts`` (its mart while current: a callback's linked order read
    once, not resolved again at every read) with the settings that query binds."""
    return derived.run(con, name, {**counts.sql_params(None), **params})


def _side_params(months: list[str] | None, side: str, stores: Sequence[str] | None) -> dict[str, Any]:
    """Return the bound parameters of ``side_comments.sql``: the months' dates (every date when
    ``months`` is None), the side, the satisfied threshold and the stores."""
    bounds = _bounds(months) if months else {"start": date(1, 1, 1), "end": date(9999, 12, 31)}
    return {
        **bounds,
        "side": side,
        "threshold": settings().kpi.satisfied_threshold,
        "stores": list(stores) if stores else None,
    }


def _tokens(
    con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, side: str | None = None
) -> tuple[list[list[str]], list[list[str]]]:
    """Return the comments' tokens (stored ones, else segmented here) and those tokens without the
    store's own names (models, advisors, agents, stores: never themes).

    On the complaint side a comment that praises beside its complaint is the tokens of what it
    complains of (:func:`complaint_quote`): 水果饮料随便拿，就是节温器换一下要2458元 is about the
    price, not the refreshments it praises. On the praise side a comment that complains beside
    its praise is the tokens of what it praises (``_praise_tokens``): 陈静服务态度很好，但是客休室的
    沙发太旧了 praises the advisor, not the lounge it complains of."""
    stored = frame["tokens"].tolist()
    missing = [i for i, t in enumerate(stored) if not isinstance(t, str)]
    fresh = tokenize(frame["comment"].iloc[missing].tolist()) if missing else []
    tokens: list[list[str]] = [t.split() if isinstance(t, str) else [] for t in stored]
    for i, toks in zip(missing, fresh, strict=True):
        tokens[i] = toks
    if side == "complaint":
        for i, complained in enumerate(_complaint_tokens(con, frame["comment"])):
            if complained is not None:
                tokens[i] = complained
    elif side == "praise":
        for i, praised in enumerate(_praise_tokens(con, frame["comment"])):
            if praised is not None:
                tokens[i] = praised
    names = name_pieces(str(row[0]) for row in con.execute(sql("theme_entity_names")).fetchall())
    mined = drop_entities_all(tokens, names) if names else tokens
    closing = closers()
    return tokens, [[t for t in toks if t not in closing] for toks in mined]


@lru_cache(maxsize=65536)
def _complaint_part(comment: str) -> str | None:
    """Return what a complaint-side comment complains of when it also praises (its
    :func:`complaint_quote`), else None: the comment is what it complains of."""
    quote = complaint_quote(comment)
    return quote if quote != comment else None


# What ``_stored_tokens`` reads: each stored text's tokens (joined by spaces, or NULL).
_PRAISE_TOKENS = (
    "SELECT k.comment, k.praise_tokens FROM comment_clauses AS k "
    "SEMI JOIN _tokens_wanted AS w ON w.comment = k.comment"
)
_COMPLAINT_TOKENS = (
    "SELECT k.comment, k.tokens FROM comment_complaint_parts AS k "
    "SEMI JOIN _tokens_wanted AS w ON w.comment = k.comment"
)


def _stored_rows(con: duckdb.DuckDBPyConnection, texts: Iterable[str], query: str) -> list[tuple[Any, ...]]:
    """Return the rows ``query`` (``_PRAISE_TOKENS``, ``_COMPLAINT_TOKENS``, ``_PRAISE_ONLY``) reads
    for those of ``texts`` its table holds: each text and what is stored for it."""
    # An Arrow table joined, not a list bound as a parameter: 0.1 s for a group's window of
    # 40,000 texts against 0.3 s.
    wanted = pa.table({"comment": pa.array([str(t) for t in texts], type=pa.large_string())})
    con.register("_tokens_wanted", wanted)
    try:
        return con.execute(query).fetchall()
    finally:
        con.unregister("_tokens_wanted")


def _stored_tokens(
    con: duckdb.DuckDBPyConnection, texts: Iterable[str], query: str
) -> dict[str, list[str] | None]:
    """Return the tokens ``query`` (``_PRAISE_TOKENS``, ``_COMPLAINT_TOKENS``) reads for those of
    ``texts`` its table holds: a list, or None where the table holds NULL."""
    rows = _stored_rows(con, texts, query)
    return {str(comment): (None if joined is None else str(joined).split()) for comment, joined in rows}


def _part_tokens(
    con: duckdb.DuckDBPyConnection,
    comments: pd.Series,
    query: str,
    current: bool,
    part_of: Callable[[str], str | None],
) -> list[list[str] | None]:
    """Return, for each comment, the tokens of the part of it that speaks for the side where that
    is not the whole comment (``part_of``: that part, or None), else None. The texts the side's
    table holds (``query``, read while ``current``) are looked up there; only the others are read
    here, clause by clause."""
    texts = comments.astype(str)
    distinct = pd.unique(texts)
    stored = _stored_tokens(con, distinct, query) if len(distinct) and current else {}
    unread = [text for text in distinct if text not in stored]
    parts = [part_of(text) for text in unread]
    mixed = [(text, part) for text, part in zip(unread, parts, strict=True) if part is not None]
    found: dict[str, list[str] | None] = {}
    for (text, _), toks in zip(mixed, tokenize([part for _, part in mixed]) if mixed else [], strict=True):
        found[text] = toks
    return [stored[t] if t in stored else found.get(t) for t in texts]


def _complaint_tokens(con: duckdb.DuckDBPyConnection, comments: pd.Series) -> list[list[str] | None]:
    """Return the tokens of what each unsatisfied customer's comment complains of when it also
    praises (:func:`complaint_quote`), else None: the comment is what it complains of. Looked up
    in ``comment_complaint_parts`` (read after each import) where it holds the text."""
    return _part_tokens(con, comments, _COMPLAINT_TOKENS, complaint_parts_current(con), _complaint_part)


def _praise_part(text: str) -> str | None:
    """Return what a satisfied customer's comment praises when it also complains (its praise text,
    empty when nothing but complaints is left), else None."""
    part = _praise_of(text, _clauses(text))
    return part if part != text else None


def _praise_tokens(con: duckdb.DuckDBPyConnection, comments: pd.Series) -> list[list[str] | None]:
    """Return the tokens of what each satisfied customer's comment praises when it also complains
    (its praise text, :func:`read_clauses`; none when nothing but complaints is left), else None.
    Looked up in ``comment_clauses`` (read after each import, with their praise text's tokens)
    where it holds the text."""
    return _part_tokens(con, comments, _PRAISE_TOKENS, clauses_current(con), _praise_part)


def _side_comments(
    con: duckdb.DuckDBPyConnection, months: list[str], side: str, stores: Sequence[str] | None
) -> tuple[pd.DataFrame, list[list[str]], list[list[str]]]:
    """Return the side's comments of the months with their tokens, as ``_tokens`` gives them."""
    frame = _facts(con, "side_comments", _side_params(months, side, stores))
    tokens, mined = _tokens(con, frame, side)
    return frame, tokens, mined


def conceded(found: Sequence[polarity.Clause]) -> bool:
    """Return whether praise is followed by a turn (但是, 不过, 就是) opening a clause that neither
    praises nor complains in the lexicon's words. From an unsatisfied customer what follows the
    "but" is the complaint (技师很专业，就是交车时间一拖再拖; 服务很好，但是休息区没有充电的地方).

    Read so only where the score says the customer was not satisfied: on public reviews, most of
    them praising, a turn after praise as a complaint lost (see README, clause-level polarity)."""
    praised = False
    for clause in found:
        if clause.polarity > 0:
            praised = True
        elif praised and clause.turn and clause.polarity == 0:
            return True
    return False


@lru_cache(maxsize=65536)
def _clauses(comment: str) -> tuple[polarity.Clause, ...]:
    """Return ``polarity.clauses`` of a comment, read once per process: the complaint side reads
    each unsatisfied comment twice when every comment's theme is written (what it complains of,
    and whether it only praises), 6-7 s each time at a million work orders."""
    return tuple(polarity.clauses(comment, tokenize))


def praise_only(comments: Sequence[str]) -> np.ndarray:
    """Return, for each unsatisfied customer's comment, whether it praises and complains of nothing:
    some clause praises, none complains, no turn after the praise (师傅很热情). Read clause by
    clause once per distinct text."""
    codes, distinct = pd.factorize(pd.Series(list(comments), dtype=object))
    read = np.zeros(len(distinct), dtype=bool)
    for i, text in enumerate(distinct):
        found = _clauses(str(text))
        read[i] = (
            any(c.polarity > 0 for c in found)
            and not any(c.polarity < 0 for c in found)
            and not conceded(found)
        )
    return read[codes] if len(codes) else np.zeros(0, dtype=bool)


# What ``_stored_praise_only`` reads: whether each stored unsatisfied comment only praises.
_PRAISE_ONLY = (
    "SELECT k.comment, k.praise_only FROM comment_complaint_parts AS k "
    "SEMI JOIN _tokens_wanted AS w ON w.comment = k.comment"
)


def _praise_only_of(con: duckdb.DuckDBPyConnection, comments: Sequence[str]) -> np.ndarray:
    """Return ``praise_only`` of each unsatisfied customer's comment, looked up in
    ``comment_complaint_parts`` (read after each import) where it holds the text, read clause by
    clause here for the others (a month's refresh assigned every comment of the group again and
    read each of 46,000 clause by clause for this: 20 s of its 30 s at a million work orders)."""
    texts = [str(c) for c in comments]
    stored: dict[str, bool] = {}
    if texts and complaint_parts_current(con):
        distinct = pd.unique(pd.Series(texts, dtype=object))
        stored = {str(text): bool(flag) for text, flag in _stored_rows(con, distinct, _PRAISE_ONLY)}
    unread = [t for t in texts if t not in stored]
    read = dict(zip(unread, praise_only(unread).tolist(), strict=True)) if unread else {}
    return np.asarray([stored[t] if t in stored else read[t] for t in texts], dtype=bool)


def _side_themes(
    con: duckdb.DuckDBPyConnection, side: str, comments: Sequence[str], themes: Sequence[str]
) -> np.ndarray:
    """Return the comments' themes as the side counts them: on the complaint side a comment that
    only praises is ``PRAISE_ONLY`` (the reason for the customer's score is not in it), not a
    complaint about what it praises; comments without content stay ``NONE``."""
    out = np.asarray(list(themes), dtype=object)
    if side == "complaint" and len(out):
        out[_praise_only_of(con, comments) & (out != NONE)] = PRAISE_ONLY
    return out


@memo.carried
def fit_model(
    con: duckdb.DuckDBPyConnection,
    month: str,
    side: str,
    months_back: int,
    k: int,
    seed: int,
    inputs: str | None = None,
) -> ThemeModel:
    """Fit the side's theme model on every store's comments of the window ending with ``month``.

    ``inputs`` (only part of the key): ``model_inputs.digest`` of the records up to the month's
    end, of which the window's comments are a part; the kept model is carried to the next data
    version while they are the same (an import of later days fits no theme model again)."""
    _check_side(side)
    _, _, mined = _side_comments(con, _months(month, max(0, months_back)), side, None)
    return mine(mined, k=k, seed=seed, side=side)


def fit_window(
    con: duckdb.DuckDBPyConnection,
    month: str,
    side: str,
    stores: Sequence[str] | None,
    months_back: int,
    k: int,
    seed: int,
) -> _Window:
    """Assign every comment of the month's window (the store choice's) to the data version's model.

    The themes come from ``theme_assignments`` while it holds this data version's model, else
    every comment of the window is assigned here; either way only the month's own comments are
    vectorised, for the quotes and the drill-down; the earlier months are counted per theme.
    """
    _check_side(side)
    months = _months(month, max(0, months_back))
    key = scoring_models(con, month, months_back, k, seed)
    model = _model(con, key, side, months_back, k, seed)
    if assignments_current(con, key, months_back, k, seed):
        # The window's counts in SQL; only the month's own comments come to Python.
        # (The kept rows are already the side's: the satisfied threshold is in the table's key.)
        window = {k: v for k, v in _side_params(months, side, stores).items() if k != "threshold"}
        found = con.execute(sql("side_theme_counts"), window).fetchall()
        counts = {(str(m), str(t)): int(n) for m, t, n in found}
        own = {k: v for k, v in _side_params([month], side, stores).items() if k != "threshold"}
        frame = con.execute(sql("side_comments_assigned"), {**own, "month": month}).df()
        tokens, mined = _tokens(con, frame, side)
        detail = _detail(model, mined, side)
        frame = frame.drop(columns=["tokens"]).assign(row=np.arange(len(frame)))
    else:
        every, tokens, mined = _side_comments(con, months, side, stores)
        detail = _detail(model, mined, side)
        every = every.drop(columns=["tokens"]).assign(
            theme=_side_themes(con, side, every["comment"].astype(str).tolist(), detail.themes),
            row=np.arange(len(every)),
        )
        pairs = zip(every["month"].astype(str), every["theme"].astype(str), strict=True)
        counts = dict(Counter(pairs))
        frame = every[every["month"] == month].reset_index(drop=True)
    return _Window(
        frame=frame, counts=counts, model=model, detail=detail, months=months, side=side, tokens=tokens
    )


# ---------------------------------------------------------------------------------------------
# Every comment's theme, kept per data version (issue 20).

# One row per (side, callback with a comment on that side): its theme under the data version's
# model. Written after an import (``store_assignments``, from ``services.views.prepare``) and read
# only while ``meta`` holds the key it was written under: the data version, the model's month and
# arguments, the satisfied threshold and a digest of the themes code and data files.
ASSIGNMENTS_META = "theme_assignments_key"
_THEMES_CODE = Path(__file__).resolve().parent


# What a comment's clause reading depends on: the clause splitting and polarity, segmentation,
# the lexicon, and this module (``read_clauses``), with their data files.
_CLAUSE_FILES: tuple[str, ...] = (
    "polarity.py",
    "segmentation.py",
    "lexicon.py",
    "monthly.py",
    "sentiment.toml",
    "aspects.toml",
    "domain_dict.txt",
    "entities.txt",
    "stopwords.txt",
)


@cache
def _files_digest(names: tuple[str, ...] | None = None) -> str:
    """Return a digest of the themes code and data files (only ``names`` when given)."""
    digest = hashlib.sha256()
    for path in sorted([*_THEMES_CODE.glob("*.py"), *THEMES_DIR.glob("*")]):
        if path.is_file() and (names is None or path.name in names):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _identity_settings(months_back: int, k: int, seed: int) -> dict[str, Any]:
    """Return what names the themes a comment gets besides the models' month and records: the
    models' arguments, the satisfied threshold and the themes code and data files."""
    return {
        "months_back": months_back,
        "k": k,
        "seed": seed,
        "threshold": settings().kpi.satisfied_threshold,
        "files": _files_digest(),
    }


def _model_identity(key: ModelKey, months_back: int, k: int, seed: int) -> dict[str, Any]:
    """Return what names the themes a comment gets: the models' month and records (``key``) and
    ``_identity_settings`` (not the data version)."""
    return {"model_month": key[0], "inputs": key[1], **_identity_settings(months_back, k, seed)}


def assignments_key(
    con: duckdb.DuckDBPyConnection, key: ModelKey, months_back: int, k: int, seed: int
) -> str:
    """Return the key theme assignments to the models of ``key`` are kept under: the models'
    identity and the data version (read while every comment of this version is assigned)."""
    return json.dumps(
        {"data_version": db.data_version(con), **_model_identity(key, months_back, k, seed)}, sort_keys=True
    )


def _stored_identity(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """Return the identity ``theme_assignments`` was written under without its data version, when
    the table holds each comment's text digest; else None."""
    try:
        row = con.execute("SELECT value FROM meta WHERE key = $k", {"k": ASSIGNMENTS_META}).fetchone()
        columns = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = 'theme_assignments' "
                "AND database_name = current_database()"
            ).fetchall()
        }
    except duckdb.CatalogException:
        return None
    if row is None or "comment_hash" not in columns:
        return None
    try:
        stored = json.loads(str(row[0]))
    except ValueError:
        return None
    if not isinstance(stored, dict):
        return None
    stored.pop("data_version", None)
    return stored


def assignments_current(
    con: duckdb.DuckDBPyConnection, key: ModelKey, months_back: int, k: int, seed: int
) -> bool:
    """Return whether ``theme_assignments`` holds this data version's comments assigned to the models of ``key``."""
    try:
        row = con.execute("SELECT value FROM meta WHERE key = $k", {"k": ASSIGNMENTS_META}).fetchone()
    except duckdb.CatalogException:
        return False  # a database without the meta table (a Parquet export): assign afresh
    return row is not None and row[0] == assignments_key(con, key, months_back, k, seed)


@dataclass(frozen=True)
class Assignments:
    """Every comment's theme on both sides under the models of ``key`` (``assign_comments``),
    read at ``data_version``: what ``keep_assignments`` writes."""

    key: ModelKey
    data_version: int
    rows: pd.DataFrame
    months_back: int = MONTHS_BACK
    k: int = 8
    seed: int = 0


def assign_comments(
    con: duckdb.DuckDBPyConnection,
    key: ModelKey,
    models: Mapping[str, ThemeModel] | None = None,
    months_back: int = MONTHS_BACK,
    k: int = 8,
    seed: int = 0,
) -> Assignments:
    """Return every comment's theme on both sides under the models of ``key`` (``models`` by side
    when the caller fitted them; else the kept ones, fitted here when they are not). Reads only:
    ``views.refit`` assigns on a read-only handle while the dashboard reads.

    The rows ``theme_assignments`` holds for the same models (any data version) are kept: a
    comment's theme depends on its text and the models alone, so only the texts not assigned yet
    are (a night's import assigned every comment of the group again, about 40 s at a million
    work orders).
    """
    version = db.data_version(con)
    kept = _stored_identity(con) == _model_identity(key, months_back, k, seed)
    parts = []
    for side in SIDES:
        model = models[side] if models is not None else _model(con, key, side, months_back, k, seed)
        frame = _facts(con, "side_comments", _side_params(None, side, None))
        hashes = pd.util.hash_pandas_object(frame["comment"].astype(str), index=False).to_numpy()
        theme = np.full(len(frame), None, dtype=object)
        if kept:
            known = con.execute(
                "SELECT comment_hash, any_value(theme) AS theme FROM theme_assignments WHERE side = $side "
                "GROUP BY comment_hash",
                {"side": side},
            ).df()
            found = pd.Index(known["comment_hash"].astype("uint64")).get_indexer(
                pd.Index(hashes.astype("uint64"))
            )
            theme[found >= 0] = known["theme"].to_numpy(dtype=object)[found[found >= 0]]
        todo = np.flatnonzero(pd.isna(theme))
        if len(todo):
            # Each distinct text is assigned once.
            codes, _ = pd.factorize(frame["comment"].iloc[todo])
            first = pd.Series(np.arange(len(codes))).groupby(codes).first().to_numpy()
            _, mined = _tokens(con, frame.iloc[todo[first]], side)
            texts = frame["comment"].iloc[todo[first]].astype(str).tolist()
            theme[todo] = _side_themes(con, side, texts, _detail(model, mined, side).themes)[codes]
        parts.append(
            pd.DataFrame(
                {
                    "side": side,
                    "callback_id": frame["callback_id"].astype(str),
                    "callback_date": frame["callback_date"],
                    "store": frame["store"],
                    "advisor": frame["advisor"],
                    "theme": theme,
                    "comment_hash": hashes,
                }
            )
        )
    rows = pd.concat(parts, ignore_index=True)
    return Assignments(key, version, rows, months_back, k, seed)


def keep_assignments(con: duckdb.DuckDBPyConnection, assigned: Assignments) -> int:
    """Write ``assigned`` as ``theme_assignments`` with its key; return the rows.

    Run inside the caller's write transaction, on the data version the rows were read at (the
    caller checks). The table is written in one statement (a table created empty and filled in
    the same transaction reads as empty on the process's other connections with DuckDB 2.0.0),
    so a reader sees the old rows and key or the new ones.
    """
    if db.data_version(con) != assigned.data_version:
        raise UserError("the comments changed since they were assigned to their themes; assign them again.")
    con.register("_theme_assignments_new", assigned.rows)
    try:
        # Grain: one row per (side, callback with a comment on that side). With the callback's date,
        # store and advisor, so a window's counts are read from this table alone.
        con.execute(
            "CREATE OR REPLACE TABLE theme_assignments AS SELECT CAST(side AS VARCHAR) AS side, "
            "CAST(callback_id AS VARCHAR) AS callback_id, CAST(callback_date AS DATE) AS callback_date, "
            "CAST(store AS VARCHAR) AS store, CAST(advisor AS VARCHAR) AS advisor, "
            "CAST(theme AS VARCHAR) AS theme, CAST(comment_hash AS UBIGINT) AS comment_hash "
            "FROM _theme_assignments_new ORDER BY side, callback_date"
        )
    finally:
        con.unregister("_theme_assignments_new")
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ($k, $v)",
        {
            "k": ASSIGNMENTS_META,
            "v": assignments_key(con, assigned.key, assigned.months_back, assigned.k, assigned.seed),
        },
    )
    return len(assigned.rows)


def store_assignments(
    con: duckdb.DuckDBPyConnection, months_back: int = MONTHS_BACK, k: int = 8, seed: int = 0
) -> int:
    """Write every comment's theme on both sides under the models that name the themes of the
    month the pages open on (``scoring_models``); return the rows. Run inside the caller's write
    transaction (``assign_comments``, then ``keep_assignments``)."""
    months = facts.available_months(con)
    if not months:
        con.execute("DROP TABLE IF EXISTS theme_assignments")
        con.execute("DELETE FROM meta WHERE key = $k", {"k": ASSIGNMENTS_META})
        return 0
    key = scoring_models(con, min(months), months_back, k, seed)  # the month the pages open on
    return keep_assignments(con, assign_comments(con, key, None, months_back, k, seed))


def _centrality(window: _Window, rows: np.ndarray) -> np.ndarray:
    """Return each row's cosine similarity to the centroid of the given rows' vectors."""
    vectors = window.detail.vectors
    if vectors is None or len(rows) == 0:
        return np.zeros(len(rows))
    sub = vectors[rows]
    centroid = np.asarray(sub.mean(axis=0)).ravel()
    norm = float(np.linalg.norm(centroid))
    if norm == 0:
        return np.zeros(len(rows))
    return np.asarray(sub @ (centroid / norm)).ravel()


def _bigrams(text: str) -> frozenset[str]:
    chars = [c for c in text if _WORD_CHAR.match(c)]
    return frozenset(a + b for a, b in zip(chars, chars[1:], strict=False))


def _other_side_cue(lex: Lexicon, tokens: Sequence[str], side: str) -> bool:
    """Return whether a comment carries a cue of the other side (a grumble in praise, praise in a complaint)."""
    for _, word, negated in _scan(lex, tokens):
        for _, kind in lex.entries[word]:
            if kind in SIDES and (kind == side) == negated:
                return True
    return False


def _distinct(
    texts: Iterable[str], count: int, chosen: list[tuple[str, frozenset[str]]]
) -> tuple[list[tuple[str, frozenset[str]]], list[str]]:
    """Add texts to ``chosen`` up to ``count``, skipping near repeats; return it and the repeats skipped."""
    repeats: list[str] = []
    for text in texts:
        if len(chosen) == count:
            break
        grams = _bigrams(text)
        if any(text == c for c, _ in chosen) or text in repeats:
            continue
        if any(len(grams & g) > QUOTE_OVERLAP * max(1, min(len(grams), len(g))) for _, g in chosen):
            repeats.append(text)
            continue
        chosen.append((text, grams))
    return chosen, repeats


def _quotes(
    window: _Window, month_rows: pd.DataFrame, count: int = 3, known: Mapping[str, Reading] | None = None
) -> list[str]:
    """Return up to ``count`` distinct comments closest to the centre of the given comments.

    Comments that speak only for the side come first (a satisfied customer's grumble is a poor
    quote of what was praised); among them a comment that mostly repeats one already chosen
    (more than ``QUOTE_OVERLAP`` of the shorter one's character bigrams shared) waits until
    no other remains, so the quotes show different ways customers put the theme.
    """
    rows = month_rows["row"].to_numpy()
    ranked = month_rows.assign(centrality=_centrality(window, rows)).sort_values(
        ["centrality", "callback_id"], ascending=[False, True]
    )
    lex = window.model.lexicon
    single: list[str] = []
    mixed: list[str] = []
    for row, comment in zip(ranked["row"].head(QUOTE_CANDIDATES), ranked["comment"], strict=False):
        text = str(comment).strip()
        if window.side == "praise":
            # The praise side quotes only what praises: complaining clauses are cut out
            # (they are hidden complaints, shown on the complaint side).
            reading = known.get(text) if known else None
            text = reading.praise if reading is not None else praise_quote(text)
            if not text:
                continue
        else:
            # The complaint side quotes what complains: a praising clause beside a complaint is
            # cut out (师傅很热情，但是等了三个小时 → 但是等了三个小时).
            text = complaint_quote(text)
        mixed_side = _other_side_cue(lex, window.tokens[int(row)], window.side)
        (mixed if mixed_side else single).append(text)
    chosen: list[tuple[str, frozenset[str]]] = []
    for group in (single, mixed):
        chosen, repeats = _distinct(group, count, chosen)
        # Near repeats are acceptable once nothing else of the group is left.
        for text in repeats:
            if len(chosen) == count:
                break
            if all(text != c for c, _ in chosen):
                chosen.append((text, _bigrams(text)))
    return [c for c, _ in chosen]


@dataclass(frozen=True)
class Reading:
    """A comment read clause by clause: the text a praise quote shows (its complaining clauses cut
    out), and its complaining clauses with the complaint aspect each speaks of (``other`` if none)."""

    praise: str
    complaints: tuple[str, ...]
    aspects: tuple[str, ...]


def read_clauses(comment: str, lexicon: Lexicon | None = None) -> Reading:
    """Return ``comment`` read clause by clause (``praise_quote`` and the hidden complaints)."""
    lex = lexicon or load_lexicon()
    found = polarity.clauses(comment, tokenize)
    complaining = _complaining(found)
    complaints = tuple(c.text for c, worse in zip(found, complaining, strict=True) if worse)
    praise = _praise_of(comment, found, complaining)
    aspects = tuple(lexicon_aspect(tokenize([c])[0], "complaint", lex) or OTHER for c in complaints)
    return Reading(praise, complaints, aspects)


@dataclass(frozen=True)
class _ReadingsTable:
    """A table of comment texts read after an import (one row per distinct text of one side), kept
    while ``meta`` holds the digest of the themes code and data files it was read with: the side,
    the meta key, and its statements (constants, on the table ``_readings_new`` registered)."""

    name: str
    side: str
    meta: str
    pending: str  # the query of the side's texts the table has not read yet
    insert: str
    create: str  # a new table is created with its rows in one statement (see ``store_assignments``)
    drop: str


# One row per distinct text of a satisfied customer's comment, read clause by clause (issue 20: the
# hidden complaints of a month took seconds to read at group size). Filled after an import for the
# texts not read yet (``store_clauses``) and read only while ``meta`` holds the digest of the themes
# code and data files it was read with.
CLAUSES_META = "comment_clauses_key"
_CLAUSES = _ReadingsTable(
    name="comment_clauses",
    side="praise",
    meta=CLAUSES_META,
    pending="comment_clauses_pending",
    insert="INSERT INTO comment_clauses SELECT * FROM _readings_new",
    create=(
        "CREATE TABLE comment_clauses AS SELECT CAST(comment AS VARCHAR) AS comment, "
        "CAST(praise AS VARCHAR) AS praise, CAST(complaints AS VARCHAR[]) AS complaints, "
        "CAST(aspects AS VARCHAR[]) AS aspects, CAST(praise_tokens AS VARCHAR) AS praise_tokens "
        "FROM _readings_new"
    ),
    drop="DROP TABLE comment_clauses",
)
# One row per distinct text of an unsatisfied customer's comment (the complaint side): the tokens of
# what it complains of when it also praises (its ``complaint_quote``), NULL when the comment is
# what it complains of, and whether it only praises (``praise_only``). Filled and read as ``comment_clauses`` is (issue 20: another month's
# complaint side read each of its comments clause by clause).
COMPLAINT_PARTS_META = "comment_complaint_parts_key"
_COMPLAINT_PARTS = _ReadingsTable(
    name="comment_complaint_parts",
    side="complaint",
    meta=COMPLAINT_PARTS_META,
    pending="comment_complaint_parts_pending",
    insert="INSERT INTO comment_complaint_parts SELECT * FROM _readings_new",
    create=(
        "CREATE TABLE comment_complaint_parts AS SELECT CAST(comment AS VARCHAR) AS comment, "
        "CAST(tokens AS VARCHAR) AS tokens, CAST(praise_only AS BOOLEAN) AS praise_only FROM _readings_new"
    ),
    drop="DROP TABLE comment_complaint_parts",
)


def _readings_current(con: duckdb.DuckDBPyConnection, table: _ReadingsTable) -> bool:
    try:
        # fetchall, not fetchone: a result left unread blocks registering a frame on ``con`` next.
        rows = con.execute("SELECT value FROM meta WHERE key = $k", {"k": table.meta}).fetchall()
    except duckdb.CatalogException:
        return False
    return bool(rows) and rows[0][0] == _files_digest(_CLAUSE_FILES)


def clauses_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Return whether ``comment_clauses`` was read with the current themes code and data files."""
    return _readings_current(con, _CLAUSES)


def complaint_parts_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Return whether ``comment_complaint_parts`` was read with the current themes code and data files."""
    return _readings_current(con, _COMPLAINT_PARTS)


def _unread_texts(con: duckdb.DuckDBPyConnection, table: _ReadingsTable) -> tuple[bool, list[str]]:
    """Return whether ``table`` is kept (it is dropped when read with other themes files) and the
    side's texts it has not read (all of them when it is not kept)."""
    exists = bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = $name AND NOT temporary",
            {"name": table.name},
        ).fetchall()[0][0]
    )
    if exists and not _readings_current(con, table):
        con.execute(table.drop)
        exists = False
    query = table.pending if exists else "comment_clauses_texts"
    found = _facts(con, query, _side_params(None, table.side, None))
    return exists, [str(text) for (text,) in found.itertuples(index=False, name=None)]


def _write_readings(
    con: duckdb.DuckDBPyConnection, table: _ReadingsTable, exists: bool, frame: pd.DataFrame
) -> None:
    """Add ``frame``'s rows to ``table`` (created when not kept) and record what it was read with."""
    con.register("_readings_new", frame)
    try:
        con.execute(table.insert if exists else table.create)
    finally:
        con.unregister("_readings_new")
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ($k, $v)", {"k": table.meta, "v": _files_digest(_CLAUSE_FILES)}
    )


def _joined_tokens(texts: Sequence[str], parts: Sequence[str | None]) -> list[str | None]:
    """Return each part's tokens joined by spaces where a text has a part of its own, else None."""
    mixed = [i for i, part in enumerate(parts) if part is not None]
    joined: list[str | None] = [None] * len(texts)
    for i, toks in zip(mixed, tokenize([str(parts[i]) for i in mixed]) if mixed else [], strict=True):
        joined[i] = " ".join(toks)
    return joined


def store_clauses(con: duckdb.DuckDBPyConnection) -> int:
    """Read the satisfied customers' comment texts not read yet; return how many. Run inside the
    caller's write transaction; texts read with other themes files are read again."""
    exists, texts = _unread_texts(con, _CLAUSES)
    lex = load_lexicon()
    readings = [read_clauses(text, lex) for text in texts]
    # The tokens of the praise text where it is not the whole comment (the praise side's theme).
    praised = [r.praise if r.praise != text else None for text, r in zip(texts, readings, strict=True)]
    frame = pd.DataFrame(
        {
            "comment": pd.Series(texts, dtype="str"),
            "praise": pd.Series([r.praise for r in readings], dtype="str"),
            "complaints": pd.Series([list(r.complaints) for r in readings], dtype=object),
            "aspects": pd.Series([list(r.aspects) for r in readings], dtype=object),
            "praise_tokens": pd.Series(_joined_tokens(texts, praised), dtype=object),
        }
    )
    _write_readings(con, _CLAUSES, exists, frame)
    return len(readings)


def store_complaint_parts(con: duckdb.DuckDBPyConnection) -> int:
    """Read the unsatisfied customers' comment texts not read yet (what each complains of beside
    its praise); return how many. Run inside the caller's write transaction; texts read with other
    themes files are read again."""
    exists, texts = _unread_texts(con, _COMPLAINT_PARTS)
    parts = [_complaint_part(text) for text in texts]
    frame = pd.DataFrame(
        {
            "comment": pd.Series(texts, dtype="str"),
            "tokens": pd.Series(_joined_tokens(texts, parts), dtype=object),
            "praise_only": praise_only(texts),
        }
    )
    _write_readings(con, _COMPLAINT_PARTS, exists, frame)
    return len(texts)


def known_readings(
    con: duckdb.DuckDBPyConnection, month: str, stores: Sequence[str] | None
) -> dict[str, Reading]:
    """Return the stored readings of the month's satisfied comments (none while they are stale).

    Both sides of a page ask for them: held in the process while the file is unchanged (a read,
    0.1-0.2 s at a million orders), never kept, since they follow ``comment_clauses``, which is
    rewritten without a new data version."""
    if not clauses_current(con):
        return {}
    return memo.held(con, stored_readings, month, tuple(sorted(stores)) if stores else None)


def stored_readings(
    con: duckdb.DuckDBPyConnection, month: str, stores: Sequence[str] | None
) -> dict[str, Reading]:
    """Return the readings ``comment_clauses`` holds for the month's satisfied comments."""
    rows = _facts(con, "comment_clauses_month", _side_params([month], "praise", stores)).itertuples(
        index=False, name=None
    )
    return {str(c): Reading(str(p), tuple(k), tuple(a)) for c, p, k, a in rows}


def praise_quote(comment: str) -> str:
    """Return a comment as a praise quote: whole when no clause complains, else its other clauses."""
    return _praise_of(comment, polarity.clauses(comment, tokenize))


def complaint_quote(comment: str) -> str:
    """Return a comment as a complaint quote: whole when nothing in it complains (no complaining
    clause, no turn after praise, :func:`conceded`); else its complaining and neutral clauses from
    the turn (但是, 就是, 可惜) that opens the complaint, the praise and the concession before it
    cut out (接待很热情，但是休息室太吵了 → 但是休息室太吵了; 技师很专业，还给我讲了减震器怎么保养，
    就是顾问没有主动说明情况 → 就是顾问没有主动说明情况)."""
    found = _clauses(comment)
    if not (any(c.polarity < 0 for c in found) or conceded(found)):
        return comment
    start = _complaint_start(found)
    kept = [c.text for c in found[start:] if c.polarity <= 0]
    if start == 0 and len(kept) == len(found):
        return comment
    return "，".join(kept)


def _complaint_start(found: Sequence[polarity.Clause]) -> int:
    """Return the clause a complaint starts at: the first turn (after the first clause) that neither
    praises nor is followed only by praise, where a complaint follows or praise came before; else 0."""
    for i, clause in enumerate(found):
        if i and clause.turn and clause.polarity <= 0:
            if any(c.polarity < 0 for c in found[i:]) or any(c.polarity > 0 for c in found[:i]):
                return i
    return 0


def _complaining(found: Sequence[polarity.Clause]) -> list[bool]:
    """Return, for each clause, whether it complains: it reads as a complaint, or it is a
    reservation after praise, the clause a turn opens (就是, 但是, 只是, 可惜) that neither praises
    nor complains in the lexicon's words, and the neutral clauses after it until praise resumes
    (技师手艺好，就是收费不透明; 挺满意的，只是取车的时候车里有烟味).

    Only clause by clause: the comment's overall polarity stays what ``polarity.polarity`` says
    (a satisfied customer's 服务很好，就是收费不透明 praises overall, with a hidden complaint)."""
    out = [c.polarity < 0 for c in found]
    praised = reserving = False
    for i, clause in enumerate(found):
        if clause.polarity > 0:
            praised, reserving = True, False
        elif clause.polarity == 0:
            reserving = reserving or (praised and clause.turn)
            out[i] = reserving
    return out


def _praise_of(
    comment: str, found: Sequence[polarity.Clause], complaining: Sequence[bool] | None = None
) -> str:
    """Return what a comment praises: the whole comment when no clause complains
    (``_complaining``, read here unless the caller has it), else its other clauses; empty when only
    complaining clauses remain."""
    complaining = _complaining(found) if complaining is None else complaining
    if not any(complaining):
        return comment
    kept: list[str] = []
    telling = False
    for clause, worse in zip(found, complaining, strict=True):
        # A clause that neither praises nor complains after a complaint goes on telling it until
        # praise resumes (洗车没洗干净，轮毂上还有泥): no praise to quote.
        telling = worse or (telling and clause.polarity <= 0)
        if not telling:
            kept.append(clause.text)
    return "，".join(kept)


def hidden_complaints(
    comments: Sequence[str],
    lexicon: Lexicon | None = None,
    count: int = 3,
    known: Mapping[str, Reading] | None = None,
) -> list[dict[str, Any]]:
    """Return satisfied customers' complaining clauses grouped by complaint aspect: id, labels, n, quotes.

    ``known`` holds comments already read (``comment_clauses``); the others are read here.
    """
    lex = lexicon or load_lexicon()
    groups: dict[str, list[str]] = {}
    # Comments repeat (a customer's words, 挺好的就是等太久): each distinct text is read once.
    for comment, times in Counter(comments).items():
        reading = known.get(comment) if known else None
        if reading is None:
            reading = read_clauses(comment, lex)
        for clause, aspect in zip(reading.complaints, reading.aspects, strict=True):
            groups.setdefault(aspect, []).extend([clause] * times)
    out: list[dict[str, Any]] = []
    for aspect_id, clauses in groups.items():
        found = lex.aspect(aspect_id)
        en, zh = (found.label_en, found.label_zh) if found else SPECIAL_LABELS[OTHER]
        quotes, _ = _distinct(list(dict.fromkeys(clauses)), count, [])
        out.append(
            {
                "id": aspect_id,
                "label_en": en,
                "label_zh": zh,
                "n": len(clauses),
                "quotes": [q for q, _ in quotes],
            }
        )
    out.sort(key=lambda h: (h["id"] == OTHER, -h["n"], h["id"]))
    return out


def _z(n: int, total: int, prior_n: int, prior_total: int) -> float:
    """Return the two-proportion z statistic of n/total against prior_n/prior_total (the one test of
    ``analytics.core.stats``); 0.0, no evidence of a change, where the test is undefined."""
    z = stats.two_proportion_z(n, total, prior_n, prior_total)
    return 0.0 if z is None else z


def monthly_themes(
    con: duckdb.DuckDBPyConnection,
    month: str,
    side: str = "praise",
    stores: Sequence[str] | None = None,
    months_back: int = MONTHS_BACK,
    k: int = 8,
    seed: int = 0,
) -> dict[str, Any]:
    """Return the month's themes on one side with n, share, trend, flags and quotes, and the counts."""
    window = _window(con, month, side, stores, months_back, k, seed)
    current, model, counts = window.frame, window.model, window.counts
    previous = window.months[:-1]
    totals: dict[str, int] = {}
    for (m, _), n in counts.items():
        totals[m] = totals.get(m, 0) + n
    n_comments = len(current)
    prior_total = sum(int(totals.get(m, 0)) for m in previous)
    hotspots = set(model.lexicon.hotspots)
    # The satisfied comments of the month read clause by clause, as stored after the import.
    known = known_readings(con, month, stores)
    themes: list[dict[str, Any]] = []
    for theme_id, n in current["theme"].value_counts().items():
        if theme_id in (NONE, OTHER, PRAISE_ONLY):
            continue
        n = int(n)
        theme_id = str(theme_id)
        theme = model.themes[theme_id]
        share = n / n_comments
        prior_n = sum(int(counts.get((m, theme_id), 0)) for m in previous)
        z = _z(n, n_comments, prior_n, prior_total)
        rising = n >= MIN_FLAG_N and prior_total > 0 and z >= RISING_Z
        new = rising and prior_n / prior_total <= NEW_PRIOR_RATIO * share
        entry = {
            "id": theme.id,
            "label_en": theme.label_en,
            "label_zh": theme.label_zh,
            "source": theme.source,
            "words": list(theme.words),
            "n": n,
            "share": share,
            "trend": [
                (int(counts.get((m, theme_id), 0)) / int(totals[m])) if totals.get(m) else None
                for m in previous
            ],
            "trend_n": [int(counts.get((m, theme_id), 0)) for m in previous],
            "z": round(z, 3),
            "new": bool(new),
            "rising": bool(rising and not new),
            "quotes": _quotes(window, current[current["theme"] == theme_id], known=known),
        }
        if side == "complaint":
            entry["hotspot"] = theme.id in hotspots
        themes.append(entry)
    # What each theme is worth: the month's satisfaction rate and NPS with and without its comments.
    base = _impact_base(con, month, stores)
    for entry in themes:
        ids = set(current.loc[current["theme"] == entry["id"], "callback_id"].astype(str))
        entry["impact"] = impact(
            base["callback_id"].isin(ids).to_numpy(),
            base["satisfied"].to_numpy(),
            base["nps_points"].to_numpy(),
        )
    themes.sort(key=lambda t: (-t["n"], t["id"]))
    result: dict[str, Any] = {
        "month": month,
        "side": side,
        "stores": list(stores) if stores else None,
        "months": previous,
        # The themes are those of the data version's model (``model_month``), for every store.
        "model_month": model_month(con, month),
        "months_n": [int(totals.get(m, 0)) for m in previous],
        "n_comments": n_comments,
        "n_contentless": int((current["theme"] == NONE).sum()),
        "n_other": int((current["theme"] == OTHER).sum()),
        "n_praise_only": int((current["theme"] == PRAISE_ONLY).sum()),
        "themes": themes,
        "flag_test": FLAG_TEST,
    }
    if side == "complaint":
        result["categories"] = complaint_categories(con, month, stores, model.lexicon)
        # Satisfied customers' grumbles (服务不错就是等太久): complaints hidden in praise.
        praise = _facts(con, "side_comments", {**params_of_month(month, stores), "side": "praise"})
        result["hidden"] = hidden_complaints(
            praise["comment"].astype(str).tolist(), model.lexicon, known=known
        )
    return result


def impact(in_theme: np.ndarray, satisfied: np.ndarray, nps_points: np.ndarray) -> dict[str, float | None]:
    """Return the satisfaction-rate and NPS points a theme's callbacks are worth, with 95% intervals.

    ``in_theme`` marks the theme's callbacks among the month's base, ``satisfied`` whether each was
    satisfied, ``nps_points`` +1 promoter / 0 passive / -1 detractor (NaN without a recommend score).
    The worth is the figure with the theme's comments minus the figure without them: positive when
    the theme lifts it (praise), negative when it costs (complaint). Intervals by the delta method
    on the difference between the theme's callbacks and the others', with half a success added to
    a group whose rate is 0 or 1.
    """
    out: dict[str, float | None] = {}
    for name, values, scale in (("rate", satisfied.astype(float), 100.0), ("nps", nps_points, 100.0)):
        known = ~np.isnan(values)
        total = int(known.sum())
        theme = known & in_theme
        n_t, n_r = int(theme.sum()), total - int(theme.sum())
        if total == 0 or n_t == 0 or n_r == 0:
            out[name] = out[f"{name}_low"] = out[f"{name}_high"] = None
            continue
        mean_t, mean_r = float(values[theme].mean()), float(values[known & ~in_theme].mean())
        worth = (n_t / total) * (mean_t - mean_r)
        if name == "rate":
            p_t = (values[theme].sum() + 0.5) / (n_t + 1) if mean_t in (0.0, 1.0) else mean_t
            p_r = (values[known & ~in_theme].sum() + 0.5) / (n_r + 1) if mean_r in (0.0, 1.0) else mean_r
            var_t, var_r = p_t * (1 - p_t), p_r * (1 - p_r)
        else:
            var_t = max(float(values[theme].var()), 1.0 / (n_t + 1))
            var_r = max(float(values[known & ~in_theme].var()), 1.0 / (n_r + 1))
        se = (n_t / total) * math.sqrt(var_t / n_t + var_r / n_r)
        out[name] = round(scale * worth, 2)
        out[f"{name}_low"] = round(scale * (worth - 1.96 * se), 2)
        out[f"{name}_high"] = round(scale * (worth + 1.96 * se), 2)
    return out


def _impact_base(con: duckdb.DuckDBPyConnection, month: str, stores: Sequence[str] | None) -> pd.DataFrame:
    """Return the month's reached survey callbacks (the satisfaction rate's base) with satisfied (bool)
    and NPS points (+1/0/-1/NaN)."""
    kpi = settings().kpi
    frame = _facts(con, "theme_impact_base", {**_bounds([month]), "stores": list(stores) if stores else None})
    recommend = pd.to_numeric(frame["recommend_score"], errors="coerce").to_numpy(dtype=float)
    points = np.where(
        recommend >= kpi.nps_promoter_min,
        1.0,
        np.where(recommend <= kpi.nps_detractor_max, -1.0, 0.0),
    )
    points[np.isnan(recommend)] = np.nan
    return pd.DataFrame(
        {
            "callback_id": frame["callback_id"].astype(str),
            "satisfied": frame["overall_score"].astype(float) >= kpi.satisfied_threshold,
            "nps_points": points,
        }
    )


def impact_table(result: dict[str, Any], language: str = "zh") -> pd.DataFrame:
    """Return the month's themes ranked by worth: praise by points earned, complaints by points cost."""
    rows = [
        {
            "id": t["id"],
            "label": t["label_zh"] if language == "zh" else t["label_en"],
            "n": t["n"],
            **{key: (t.get("impact") or {}).get(key) for key in IMPACT_KEYS},
        }
        for t in result["themes"]
    ]
    frame = pd.DataFrame(rows, columns=["id", "label", "n", *IMPACT_KEYS])
    if frame.empty:
        return frame
    # Complaints: most costly (most negative) first; praise: biggest gain first.
    ascending = result["side"] == "complaint"
    return frame.sort_values(
        ["rate", "n", "id"], ascending=[ascending, False, True], na_position="last"
    ).reset_index(drop=True)


def params_of_month(month: str, stores: Sequence[str] | None) -> dict[str, Any]:
    """Return the bound parameters of one month's comments (dates, satisfied threshold, stores)."""
    return {
        **_bounds([month]),
        "threshold": settings().kpi.satisfied_threshold,
        "stores": list(stores) if stores else None,
    }


def complaint_categories(
    con: duckdb.DuckDBPyConnection,
    month: str,
    stores: Sequence[str] | None = None,
    lexicon: Lexicon | None = None,
) -> list[dict[str, Any]]:
    """Return the month's complaint categories with n, share and the lexicon aspect each maps to."""
    lex = lexicon or load_lexicon()
    params = {**_bounds(_months(month, 0)), "stores": list(stores) if stores else None}
    found = _facts(con, "complaint_categories", params)
    rows = list(zip(found["category"].astype(str), found["n"].astype(int), strict=True))
    total = sum(int(n) for _, n in rows)
    hotspots = set(lex.hotspots)
    out: list[dict[str, Any]] = []
    for (category, n), toks in zip(rows, tokenize([c for c, _ in rows]), strict=True):
        aspect = lexicon_aspect(toks, "complaint", lex) if category else None
        out.append(
            {
                "category": category,
                "n": int(n),
                "share": int(n) / total,
                "aspect": aspect,
                "hotspot": aspect in hotspots,
            }
        )
    return out


def themes_by_advisor(
    con: duckdb.DuckDBPyConnection,
    month: str,
    stores: Sequence[str] | None = None,
    months_back: int = MONTHS_BACK,
    k: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """Return the praise board: one row per advisor and praised theme in the month, most praised first."""
    columns = ["advisor", "advisor_n", "theme", "label_en", "label_zh", "n", "share"]
    window = _window(con, month, "praise", stores, months_back, k, seed)
    current = window.frame[window.frame["advisor"].notna()]
    if current.empty:
        return pd.DataFrame(columns=columns)
    advisor_n = current.groupby("advisor").size().rename("advisor_n")
    themed = current[~current["theme"].isin([NONE, OTHER, PRAISE_ONLY])]
    board = themed.groupby(["advisor", "theme"]).size().rename("n").reset_index()
    board = board.join(advisor_n, on="advisor")
    board = board.assign(
        label_en=[window.model.label(t, "en") for t in board["theme"]],
        label_zh=[window.model.label(t, "zh") for t in board["theme"]],
        share=board["n"] / board["advisor_n"],
    )
    board = board.sort_values(["advisor_n", "advisor", "n", "theme"], ascending=[False, True, False, True])
    return board[columns].reset_index(drop=True)


_COMMENT_COLUMNS: tuple[str, ...] = (
    "callback_id",
    "callback_date",
    "store",
    "advisor",
    "overall_score",
    "comment",
    "theme",
    "centrality",
)


def theme_comments(
    con: duckdb.DuckDBPyConnection,
    theme_id: str,
    month: str,
    side: str = "praise",
    stores: Sequence[str] | None = None,
    months_back: int = MONTHS_BACK,
    k: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """Return the month's comments behind one theme (``none``/``other`` too), most central first."""
    # From the month's drill-down rows (kept in the marts), not from the fitted window: the
    # window holds six months of comments and their vectors, a second to read back at group size.
    store_key = tuple(sorted(stores)) if stores else None
    every = memo.remembered(con, month_comments, month, side, store_key, months_back, k, seed)
    rows = every[every["theme"] == theme_id]
    rows = rows.sort_values(["centrality", "callback_date", "callback_id"], ascending=[False, True, True])
    return rows.reset_index(drop=True)


def month_comments(
    con: duckdb.DuckDBPyConnection,
    month: str,
    side: str,
    stores: Sequence[str] | None,
    months_back: int = MONTHS_BACK,
    k: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """Return every comment of the month on one side with its theme and its centrality: the
    cosine similarity of its vector to the centroid of its theme's comments of the month."""
    window = _window(con, month, side, stores, months_back, k, seed)
    rows = window.frame
    centrality = np.zeros(len(rows))
    positions = rows["row"].to_numpy()
    for idx in rows.groupby("theme", sort=False).indices.values():
        centrality[idx] = _centrality(window, positions[idx])
    return rows.assign(centrality=centrality)[list(_COMMENT_COLUMNS)]
