"""Kept page results and fitted models in a format that cannot run code when read: a JSON tree
with numeric arrays as ``.npy`` blobs (read with ``allow_pickle=False``), rebuilt into frames,
series, dataclasses of ``analytics`` and plain Python values.

- Columns of dates, strings, floats and of lists, tuples and dicts are written column-wise: the
  group's 195,000 scores are read back in a fraction of a second, not value by value. (The churn
  list's reasons and the scores' overdue items are strings now, one per vehicle: a server keeping
  them as lists held 400,000 objects the garbage collector walks; lists still read back whole.)
- Fitted scikit-learn estimators and SciPy sparse matrices go through skops (``skops.io``), made
  for this: it rebuilds only the types it is told to trust, and this module trusts only types of
  scikit-learn, SciPy's sparse matrices, NumPy, ``functools.partial`` and ``analytics`` itself.
- A compiled regular expression is kept as its pattern and flags.

``encode`` refuses what it cannot write exactly and checks that what it wrote reads back equal:
nothing is ever kept as a pickle (issue 20).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import gc
import importlib
import io
import json
import math
import re
import struct
from collections import deque
from collections.abc import Iterator
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa

MAGIC = b"ANSP1\n"


class Unsupported(TypeError):
    """A value this format cannot hold exactly."""


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector meanwhile (as it was before, afterwards)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def encode(value: Any) -> bytes:
    """Return ``value`` as safe-payload bytes; raise ``Unsupported`` unless it reads back equal."""
    with _gc_paused():
        return _encode(value)


def _encode(value: Any) -> bytes:
    _refuse_early(value)
    blobs: list[bytes] = []
    root = _enc(value, blobs)
    header = json.dumps({"root": root, "blobs": [len(b) for b in blobs]}, ensure_ascii=False).encode("utf-8")
    data = MAGIC + struct.pack("<Q", len(header)) + header + b"".join(blobs)
    try:
        back = decode(data)
    except ValueError as exc:  # a model holding a function or type this format does not trust
        raise Unsupported(str(exc)) from exc
    if not same(back, value):
        raise Unsupported(f"a {type(value).__name__} does not read back equal")
    return data


_SCALARS = (str, bool, int, float, dt.date, dt.timedelta, np.generic, pd.Timestamp, pd.Timedelta)
_LEAVES = (np.ndarray, pd.DataFrame, pd.Series)


def _refuse_early(value: Any) -> None:
    """Raise ``Unsupported`` at once when ``value`` holds an object of a type the format has no
    node for (a fitted model inside a result), breadth first, before any frame is encoded: a
    window of a hundred thousand comments took two seconds to encode before its model refused."""
    queue = deque([value])
    while queue:
        item = queue.popleft()
        if item is None or item is pd.NaT or item is pd.NA or isinstance(item, _SCALARS + _LEAVES):
            continue
        if type(item) is re.Pattern or _is_skops(item):
            continue
        if type(item) in (list, tuple, set, frozenset):
            queue.extend(v for v in item if not isinstance(v, str))
        elif type(item) is dict:
            queue.extend(item.keys())
            queue.extend(item.values())
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            queue.extend(getattr(item, f.name) for f in dataclasses.fields(item))
        else:
            raise Unsupported(type(item).__name__)


# Trusted by skops when read: types and functions under these prefixes, and these names.
SKOPS_TRUSTED_PREFIXES = ("sklearn.", "scipy.sparse.", "numpy.", "analytics.")
SKOPS_TRUSTED_NAMES = frozenset({"functools.partial"})


# Lists, tuples and dicts of at least this many items are written as columns (``_values``).
COLUMN_FROM = 256

# A payload of at least this many bytes is kept compressed by Zstandard (level 1, Arrow's codec):
# the group's maintenance scores of one month-end, 86 MB, become 17 MB in 0.2 s and read back in
# 0.05 s; a fitted maintenance model, 8.3 MB, becomes about a tenth of that.
COMPRESS_FROM = 1_000_000
ZSTD_MAGIC = b"ZSTD2\n"  # then the payload's length (8 bytes, little-endian), then the compressed payload


def pack(value: Any) -> bytes:
    """Return ``encode(value)``, compressed from ``COMPRESS_FROM`` bytes; raise ``Unsupported`` as
    ``encode`` does."""
    data = encode(value)
    if len(data) < COMPRESS_FROM:
        return data
    packed = pa.Codec("zstd", compression_level=1).compress(data, asbytes=True)
    return ZSTD_MAGIC + len(data).to_bytes(8, "little") + packed


def unpack(data: bytes) -> Any:
    """Return the value ``pack`` wrote (compressed or not); raise ValueError for anything else (a
    pickle is never unpickled)."""
    if data.startswith(ZSTD_MAGIC):
        size = int.from_bytes(data[len(ZSTD_MAGIC) : len(ZSTD_MAGIC) + 8], "little")
        data = pa.Codec("zstd").decompress(data[len(ZSTD_MAGIC) + 8 :], decompressed_size=size, asbytes=True)
    return decode(data)


def _is_skops(value: Any) -> bool:
    """Return whether ``value`` is written by skops: a scikit-learn object or a SciPy sparse matrix."""
    module = type(value).__module__
    return module.startswith("sklearn.") or module.startswith("scipy.sparse.")


def is_safe(data: bytes) -> bool:
    """Return whether ``data`` is in this format (not a pickle)."""
    return data.startswith(MAGIC)


def decode(data: bytes) -> Any:
    """Return the value held by safe-payload bytes; never runs code from them.

    The cyclic garbage collector is paused meanwhile: a column of 150,000 lists is as many new
    objects, and its passes over them took a third of the time."""
    if not is_safe(data):
        raise ValueError("not a safe payload")
    with _gc_paused():
        return _decode(data)


def _decode(data: bytes) -> Any:
    start = len(MAGIC) + 8
    (size,) = struct.unpack("<Q", data[len(MAGIC) : start])
    header = json.loads(data[start : start + size].decode("utf-8"))
    blobs, at = [], start + size
    for length in header["blobs"]:
        blobs.append(data[at : at + length])
        at += length
    return _dec(header["root"], blobs)


def _array_blob(array: np.ndarray, blobs: list[bytes]) -> dict[str, Any]:
    if array.dtype.kind not in "biufcmM":
        raise Unsupported(f"array of {array.dtype}")
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    blobs.append(buffer.getvalue())
    return {"$": "npy", "i": len(blobs) - 1}


def _arrow_blob(array: pa.Array | pa.ChunkedArray, blobs: list[bytes]) -> dict[str, Any]:
    """Return a node for an Arrow array of strings, written as an Arrow IPC stream (data only)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, pa.schema([("v", array.type)])) as writer:
        writer.write_table(pa.table({"v": array}))
    blobs.append(sink.getvalue().to_pybytes())
    return {"$": "arrow", "i": len(blobs) - 1}


def _column(values: pd.Series | pd.Index, blobs: list[bytes]) -> dict[str, Any]:
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind != "O":
        return {"kind": "numpy", "v": _array_blob(values.to_numpy(), blobs)}
    if isinstance(dtype, np.dtype):
        return _values(values.tolist(), blobs)
    if isinstance(dtype, pd.CategoricalDtype):
        raise Unsupported("categorical column")
    missing = np.asarray(values.isna(), dtype=bool)
    if isinstance(values.array, _MASKED):
        # Int64, Float64, boolean: the numbers (0 where missing) and which are missing.
        numpy_dtype: np.dtype = cast(Any, dtype).numpy_dtype
        numbers = values.to_numpy(dtype=numpy_dtype, na_value=numpy_dtype.type(0))
        return {
            "kind": "masked",
            "dtype": str(dtype),
            "v": _array_blob(numbers, blobs),
            "na": _array_blob(missing, blobs),
        }
    if isinstance(dtype, pd.StringDtype):
        return {"kind": "strings", "dtype": str(dtype), "v": _arrow_blob(pa.array(values.array), blobs)}
    # Other extension dtypes (datetime with a time zone): values with None where missing.
    items = values.astype(object).tolist()
    for i in np.flatnonzero(missing).tolist():
        items[i] = None
    return {"kind": "extension", "dtype": str(dtype), "v": _values(items, blobs)}


_MASKED = (pd.arrays.IntegerArray, pd.arrays.FloatingArray, pd.arrays.BooleanArray)


def _values(items: list[Any], blobs: list[bytes]) -> dict[str, Any]:
    """Return a node for a list of Python values: column-wise when they are all strings, all
    floats, all dates (or None), or all lists, tuples and dicts (or None); else value by value."""
    kinds = {type(v) for v in items}
    if kinds and kinds <= {str, type(None)}:
        return {"kind": "str", "v": _arrow_blob(pa.array(items, type=pa.large_string()), blobs)}
    if kinds and kinds <= {float, np.float64}:
        node = {"kind": "float", "v": _array_blob(np.array(items, dtype=np.float64), blobs)}
        if np.float64 in kinds:  # NumPy floats among Python ones (an overdue item's days): which
            node["np"] = _array_blob(np.array([type(v) is np.float64 for v in items]), blobs)
        return node
    if kinds == {int} and _int64(items):
        return {"kind": "int", "v": _array_blob(np.array(items, dtype=np.int64), blobs)}
    if len(kinds) == 1 and issubclass(next(iter(kinds)), np.generic) and items[0].dtype.kind in "biuf":
        # NumPy scalars of one type (a fitted vectorizer's vocabulary: word → np.int64 column).
        return {"kind": "npscalar", "v": _array_blob(np.array(items, dtype=items[0].dtype), blobs)}
    if len(kinds) > 1 and kinds <= set(_SCALAR_CODES) and (int not in kinds or _int64(items)):
        # Scalars of several types (a reason's details: a code, a day count, a score as text).
        codes = [_SCALAR_CODES[type(v)] for v in items]
        parts = [[v for v, c in zip(items, codes, strict=True) if c == code] for code in range(1, 5)]
        return {
            "kind": "mixed",
            "codes": _array_blob(np.array(codes, dtype=np.int8), blobs),
            "parts": [_values(part, blobs) if part else None for part in parts],
        }
    if kinds and kinds <= {dt.date, type(None)} and dt.date in kinds:
        ordinals = np.array([0 if v is None else v.toordinal() for v in items], dtype=np.int32)
        return {"kind": "date", "v": _array_blob(ordinals, blobs)}
    if kinds and kinds <= {list, tuple, dict, type(None)} and kinds != {type(None)}:
        return _nested(items, kinds, blobs)
    return {"kind": "object", "v": [_enc(v, blobs) for v in items]}


_NESTED_CODES = {type(None): 0, list: 1, tuple: 2, dict: 3}
_SCALAR_CODES = {type(None): 0, str: 1, float: 2, int: 3, bool: 4}


def _int64(items: list[int]) -> bool:
    """Return whether Python ints fit in 64 bits."""
    ints = [v for v in items if type(v) is int]
    return not ints or (-(2**63) <= min(ints) and max(ints) < 2**63)


def _nested(items: list[Any], kinds: set[type], blobs: list[bytes]) -> dict[str, Any]:
    """Return a node for a list of lists, tuples and dicts (or None): each value's kind and length,
    then their items (and the dicts' keys) as value lists of their own. Tuples all of one length
    (an overdue item: code, days, km) keep one value list per position."""
    codes = np.array([_NESTED_CODES[type(v)] for v in items], dtype=np.int8)
    lengths = np.array([0 if v is None else len(v) for v in items], dtype=np.int64)
    node: dict[str, Any] = {
        "kind": "nested",
        "codes": _array_blob(codes, blobs),
        "lengths": _array_blob(lengths, blobs),
    }
    width = {len(v) for v in items if v is not None}
    if kinds <= {tuple, type(None)} and len(width) == 1:
        (size,) = width
        rows = [v for v in items if v is not None]
        node["positions"] = [_values([row[j] for row in rows], blobs) for j in range(size)]
        return node
    flat: list[Any] = []
    keys: list[Any] = []
    for v in items:
        if type(v) is dict:
            keys.extend(v)
            flat.extend(v.values())
        elif v is not None:
            flat.extend(v)
    node["items"] = _values(flat, blobs)
    node["keys"] = _values(keys, blobs)
    return node


def _dec_values(node: dict[str, Any], blobs: list[bytes]) -> list[Any]:
    """Return the list of Python values a ``_values`` node holds."""
    kind = node["kind"]
    if kind == "str":
        return _dec(node["v"], blobs).to_pylist()
    if kind == "float":
        numbers = _dec(node["v"], blobs)
        floats = numbers.tolist()
        if "np" in node:
            for i in np.flatnonzero(_dec(node["np"], blobs)).tolist():
                floats[i] = numbers[i]
        return floats
    if kind == "date":
        ordinal = dt.date.fromordinal
        return [None if o == 0 else ordinal(o) for o in _dec(node["v"], blobs).tolist()]
    if kind == "int":
        return _dec(node["v"], blobs).tolist()
    if kind == "npscalar":
        return list(_dec(node["v"], blobs))
    if kind == "mixed":
        parts = [iter(()), *(iter(_dec_values(p, blobs) if p else ()) for p in node["parts"])]
        return [None if code == 0 else next(parts[code]) for code in _dec(node["codes"], blobs).tolist()]
    if kind == "nested":
        return _dec_nested(node, blobs)
    return [_dec(v, blobs) for v in node["v"]]


def _dec_nested(node: dict[str, Any], blobs: list[bytes]) -> list[Any]:
    codes = _dec(node["codes"], blobs).tolist()
    lengths = _dec(node["lengths"], blobs).tolist()
    if "positions" in node:
        rows = list(zip(*(_dec_values(p, blobs) for p in node["positions"]), strict=True))
        if len(rows) == len(codes):
            return rows
        out: list[Any] = [None] * len(codes)
        for i, row in zip(np.flatnonzero(codes).tolist(), rows, strict=True):
            out[i] = row
        return out
    flat = _dec_values(node["items"], blobs)
    keys = _dec_values(node["keys"], blobs)
    if set(codes) == {1}:  # lists only (an overdue-items column): cut the items at once
        ends = np.cumsum(lengths).tolist()
        return [flat[end - size : end] for end, size in zip(ends, lengths, strict=True)]
    out = [None] * len(codes)
    at = key_at = 0
    for i, (code, size) in enumerate(zip(codes, lengths, strict=True)):
        if code == 1:
            out[i] = flat[at : at + size]
        elif code == 2:
            out[i] = tuple(flat[at : at + size])
        elif code == 3:
            out[i] = dict(zip(keys[key_at : key_at + size], flat[at : at + size], strict=True))
            key_at += size
        at += size
    return out


def _is_na(value: Any) -> bool:
    try:
        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict, set)) else False
    except (TypeError, ValueError):
        return False


def _index(index: pd.Index, blobs: list[bytes]) -> dict[str, Any]:
    if isinstance(index, pd.MultiIndex):
        raise Unsupported("MultiIndex")
    name = _enc(index.name, blobs)
    if isinstance(index, pd.RangeIndex):
        return {"$": "range", "a": [index.start, index.stop, index.step], "name": name}
    return {"$": "index", "c": _column(index, blobs), "name": name}


def _enc(value: Any, blobs: list[bytes]) -> Any:
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int) and type(value) is int:
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
    if type(value) in (list, tuple) and len(value) >= COLUMN_FROM:
        # A window's tokens, 100,000 lists of words: one value list, not a JSON node per word.
        return {"$": "col", "t": type(value).__name__, "c": _values(list(value), blobs)}
    if type(value) is dict and len(value) >= COLUMN_FROM:
        return {"$": "coldict", "k": _values(list(value), blobs), "v": _values(list(value.values()), blobs)}
    if isinstance(value, (list, tuple, set, frozenset)) and type(value) in (list, tuple, set, frozenset):
        return {"$": type(value).__name__, "v": [_enc(v, blobs) for v in value]}
    if type(value) is dict:
        return {
            "$": "dict",
            "k": [_enc(k, blobs) for k in value],
            "v": [_enc(v, blobs) for v in value.values()],
        }
    if value is pd.NaT:
        return {"$": "nat"}
    if value is pd.NA:
        return {"$": "na"}
    if type(value) is pd.Timestamp:
        return {"$": "ts", "v": value.isoformat(), "unit": value.unit}
    if type(value) is pd.Timedelta:
        return {"$": "td", "v": value.value}
    if type(value) is dt.datetime:
        return {"$": "datetime", "v": value.isoformat()}
    if type(value) is dt.date:
        return {"$": "date", "v": value.isoformat()}
    if type(value) is dt.timedelta:
        return {"$": "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return {"$": "np", "dtype": value.dtype.str, "v": repr(value.item())}
    if type(value) is np.ndarray:
        if value.dtype.kind == "O":
            return {
                "$": "objarr",
                "shape": list(value.shape),
                "v": [_enc(v, blobs) for v in value.ravel().tolist()],
            }
        return _array_blob(value, blobs)
    if type(value) is pd.DataFrame:
        if not value.columns.is_unique or value.attrs:
            raise Unsupported("frame with repeated column names or attrs")
        return {
            "$": "frame",
            "columns": _index(value.columns, blobs),
            "index": _index(value.index, blobs),
            "data": [_column(value.iloc[:, i], blobs) for i in range(value.shape[1])],
        }
    if type(value) is pd.Series:
        return {
            "$": "series",
            "index": _index(value.index, blobs),
            "name": _enc(value.name, blobs),
            "c": _column(value, blobs),
        }
    if type(value) is re.Pattern:
        return {"$": "re", "p": value.pattern, "f": value.flags}
    if _is_skops(value):
        import skops.io  # only for a fitted model: a page reading a kept list does not load it

        # skops writes a dict entry by entry into its JSON schema: a vectorizer's 40,000-word
        # vocabulary took 2.4 s to write and 0.9 s to read. Such attributes are written here,
        # column-wise, and set on the object skops rebuilds.
        state = getattr(value, "__dict__", {})
        large = {k: v for k, v in state.items() if type(v) is dict and len(v) >= COLUMN_FROM}
        shell = value
        if large:
            shell = object.__new__(type(value))
            shell.__dict__.update({k: (None if k in large else v) for k, v in state.items()})
        blobs.append(skops.io.dumps(shell))
        node = {"$": "skops", "i": len(blobs) - 1}
        if large:
            node["a"] = {k: _enc(v, blobs) for k, v in large.items()}
        return node
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        if not cls.__module__.startswith("analytics.") or "<locals>" in cls.__qualname__:
            raise Unsupported(f"dataclass {cls.__qualname__} outside analytics")
        fields = {f.name: _enc(getattr(value, f.name), blobs) for f in dataclasses.fields(value)}
        return {"$": "dc", "m": cls.__module__, "q": cls.__qualname__, "f": fields}
    raise Unsupported(type(value).__name__)


def _dec_column(node: dict[str, Any], blobs: list[bytes]) -> Any:
    if node["kind"] == "numpy":
        return _dec(node["v"], blobs)
    if node["kind"] not in ("masked", "strings", "extension"):
        items = _dec_values(node, blobs)
        out = np.empty(len(items), dtype=object)
        for i, item in enumerate(items):
            out[i] = item
        return out
    dtype: Any = pd.api.types.pandas_dtype(node["dtype"])
    if node["kind"] == "strings":
        return pd.array(_dec(node["v"], blobs), dtype=dtype)
    if node["kind"] == "masked":
        values = pd.array(_dec(node["v"], blobs), dtype=dtype)
        values[_dec(node["na"], blobs)] = pd.NA
        return values
    return pd.array(_dec_values(node["v"], blobs), dtype=dtype)


def _dec_index(node: dict[str, Any], blobs: list[bytes]) -> pd.Index:
    name = _dec(node["name"], blobs)
    if node["$"] == "range":
        start, stop, step = node["a"]
        return pd.RangeIndex(start, stop, step, name=name)
    return pd.Index(_dec_column(node["c"], blobs), name=name, tupleize_cols=False)


def _series(values: Any, index: pd.Index, name: Any = None) -> pd.Series:
    """Return a column over ``index``; an object array stays object (pandas would read a column of
    strings as its ``str`` dtype)."""
    if isinstance(values, np.ndarray) and values.dtype == object:
        return pd.Series(values, index=index, name=name, dtype=object, copy=False)
    return pd.Series(values, index=index, name=name)


def _dataclass(module: str, qualname: str) -> type:
    if not module.startswith("analytics."):
        raise ValueError(f"refusing to rebuild a class from {module}")
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    if not (isinstance(target, type) and dataclasses.is_dataclass(target)):
        raise ValueError(f"{module}.{qualname} is not a dataclass")
    return target


def _dec(node: Any, blobs: list[bytes]) -> Any:
    if not isinstance(node, dict):
        return node
    tag = node["$"]
    if tag == "float":
        return float(node["v"])
    if tag in ("list", "tuple", "set", "frozenset"):
        items = [_dec(v, blobs) for v in node["v"]]
        return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[tag](items)
    if tag == "dict":
        return {_dec(k, blobs): _dec(v, blobs) for k, v in zip(node["k"], node["v"], strict=True)}
    if tag == "nat":
        return pd.NaT
    if tag == "na":
        return pd.NA
    if tag == "ts":
        return pd.Timestamp(node["v"]).as_unit(node["unit"])
    if tag == "td":
        return pd.Timedelta(node["v"])
    if tag == "datetime":
        return dt.datetime.fromisoformat(node["v"])
    if tag == "date":
        return dt.date.fromisoformat(node["v"])
    if tag == "timedelta":
        days, seconds, micro = node["v"]
        return dt.timedelta(days=days, seconds=seconds, microseconds=micro)
    if tag == "np":
        return np.dtype(node["dtype"]).type(
            json.loads(node["v"]) if node["v"] not in ("nan", "inf", "-inf") else float(node["v"])
        )
    if tag == "npy":
        return np.load(io.BytesIO(blobs[node["i"]]), allow_pickle=False)
    if tag == "arrow":
        table = pa.ipc.open_stream(blobs[node["i"]]).read_all()
        if (
            table.num_columns != 1
            or not pa.types.is_string(table.column(0).type)
            and not pa.types.is_large_string(table.column(0).type)
        ):
            raise ValueError("an Arrow blob that is not one column of strings")
        return table.column(0)
    if tag == "re":
        return re.compile(node["p"], node["f"])
    if tag == "skops":
        model = _skops_load(blobs[node["i"]])
        for name, attribute in node.get("a", {}).items():
            setattr(model, name, _dec(attribute, blobs))
        return model
    if tag == "col":
        items = _dec_values(node["c"], blobs)
        return items if node["t"] == "list" else tuple(items)
    if tag == "coldict":
        return dict(zip(_dec_values(node["k"], blobs), _dec_values(node["v"], blobs), strict=True))
    if tag == "objarr":
        out = np.empty(len(node["v"]), dtype=object)
        out[:] = [_dec(v, blobs) for v in node["v"]]
        return out.reshape(node["shape"])
    if tag == "frame":
        columns = _dec_index(node["columns"], blobs)
        index = _dec_index(node["index"], blobs)
        data = {i: _series(_dec_column(c, blobs), index) for i, c in enumerate(node["data"])}
        frame = pd.DataFrame(data, index=index)
        frame.columns = columns
        return frame
    if tag == "series":
        return _series(
            _dec_column(node["c"], blobs), _dec_index(node["index"], blobs), _dec(node["name"], blobs)
        )
    if tag == "dc":
        cls = _dataclass(node["m"], node["q"])
        obj: Any = object.__new__(cls)
        for name, value in node["f"].items():
            object.__setattr__(obj, name, _dec(value, blobs))
        return obj
    raise ValueError(f"unknown payload tag {tag!r}")


def _skops_load(data: bytes) -> Any:
    """Return the object skops wrote, refusing any type outside the trusted ones."""
    import skops.io

    untrusted = skops.io.get_untrusted_types(data=data)
    foreign = [t for t in untrusted if not (t.startswith(SKOPS_TRUSTED_PREFIXES) or t in SKOPS_TRUSTED_NAMES)]
    if foreign:
        raise ValueError(f"refusing to rebuild {', '.join(sorted(foreign))} from a kept model")
    return skops.io.loads(data, trusted=untrusted)


def _same_state(a: Any, b: Any) -> bool:
    """Return whether two scikit-learn, SciPy or ``functools`` objects hold the same state."""
    if hasattr(a, "toarray") and hasattr(a, "nnz"):  # a SciPy sparse matrix
        # Compared by its compressed rows, never made dense: a window's 100,000 comments by
        # 34,000 words would be 25 GB.
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        a, b = a.tocsr(), b.tocsr()
        return same(a.indptr, b.indptr) and same(a.indices, b.indices) and same(a.data, b.data)
    return same(a.__reduce_ex__(4), b.__reduce_ex__(4))


_PLAIN = frozenset({str, int, bool, type(None), bytes, dt.date})


def same(a: Any, b: Any) -> bool:
    """Return whether two results are equal in value and type (frames: values, dtypes, labels)."""
    if type(a) is not type(b):
        return False
    if type(a) in _PLAIN:  # first: a window's tokens are a million words
        return bool(a == b)
    if isinstance(a, pd.DataFrame):
        return (
            list(a.dtypes) == list(b.dtypes)
            and a.columns.equals(b.columns)
            and type(a.columns) is type(b.columns)
            and a.index.equals(b.index)
            and type(a.index) is type(b.index)
            and a.index.dtype == b.index.dtype
            and all(_same_column(a.iloc[:, i], b.iloc[:, i]) for i in range(a.shape[1]))
        )
    if isinstance(a, pd.Series):
        return a.dtype == b.dtype and a.name == b.name and a.index.equals(b.index) and a.equals(b)
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.kind == "O":
            return all(same(x, y) for x, y in zip(a.ravel().tolist(), b.ravel().tolist(), strict=True))
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if type(a) in (list, tuple) and all(type(x) is str for x in a) and all(type(y) is str for y in b):
        return a == b
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if dataclasses.is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if a is pd.NaT or a is pd.NA:
        return a is b
    if isinstance(a, np.random.Generator):
        return same(a.bit_generator.state, b.bit_generator.state)
    if isinstance(a, np.random.RandomState):
        return same(a.get_state(legacy=False), b.get_state(legacy=False))
    if type(a).__module__.startswith(("sklearn.", "scipy.sparse.")) or type(a) is functools.partial:
        return _same_state(a, b)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _same_column(a: pd.Series, b: pd.Series) -> bool:
    """Return whether two columns of equal labels hold equal values: a column of tuples holding a
    NaN (an overdue item with no mileage) is compared value by value, where ``equals`` says no."""
    if a.equals(b):
        return True
    if a.dtype != object or len(a) != len(b):
        return False
    left, right = a.tolist(), b.tolist()
    # Compared in C first; then as text, where a NaN inside a tuple is equal (and a float's text is
    # exact); value by value only when the texts differ.
    return (
        left == right
        or repr(left) == repr(right)
        or all(same(x, y) for x, y in zip(left, right, strict=True) if x != y)
    )
