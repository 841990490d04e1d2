"""Kept page results in a format that cannot run code when read: a JSON tree with numeric arrays
as ``.npy`` blobs (read with ``allow_pickle=False``), rebuilt into frames, series, dataclasses of
``analytics`` and plain Python values.

``encode`` refuses what it cannot write exactly (a fitted scikit-learn model, a compiled regular
expression) and checks that what it wrote reads back equal, so the caller keeps only those
results as checksummed pickles.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import io
import json
import math
import struct
from collections import deque
from typing import Any

import numpy as np
import pandas as pd

MAGIC = b"ANSP1\n"


class Unsupported(TypeError):
    """A value this format cannot hold exactly."""


def encode(value: Any) -> bytes:
    """Return ``value`` as safe-payload bytes; raise ``Unsupported`` unless it reads back equal."""
    _refuse_early(value)
    blobs: list[bytes] = []
    root = _enc(value, blobs)
    header = json.dumps({"root": root, "blobs": [len(b) for b in blobs]}, ensure_ascii=False).encode("utf-8")
    data = MAGIC + struct.pack("<Q", len(header)) + header + b"".join(blobs)
    if not same(decode(data), value):
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
        if type(item) is pd.DataFrame:
            _refuse_nested_columns(item)
        if item is None or item is pd.NaT or item is pd.NA or isinstance(item, _SCALARS + _LEAVES):
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


_CONTAINERS = (list, tuple, dict, set, frozenset)


# From this many rows, a frame with a column of lists, tuples, dicts or sets is refused at once.
NESTED_ROWS = 10_000


def _refuse_nested_columns(frame: pd.DataFrame) -> None:
    """Raise ``Unsupported`` for a frame of ``NESTED_ROWS`` rows or more with a column of lists,
    tuples, dicts or sets (read from its first hundred values).

    This format writes such a column value by value (about 50 microseconds a row), reads it back
    and compares, value by value again. The group's maintenance scores (195,000 rows, each with a
    list of overdue items) took 11 s to encode and were then refused all the same (a float NaN
    inside a tuple does not compare equal), and each store's 0.9 s, one after another in the
    refresh after an import. Such results are kept as checksummed pickles (0.2 s for the group's),
    as they were after the refusal; smaller frames keep the safe format."""
    if len(frame) < NESTED_ROWS:
        return
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        if column.dtype == object and any(isinstance(v, _CONTAINERS) for v in column.head(100).tolist()):
            raise Unsupported(f"a column of {type(column.dropna().iloc[0]).__name__}s ({frame.columns[i]!r})")


def is_safe(data: bytes) -> bool:
    """Return whether ``data`` is in this format (not a pickle)."""
    return data.startswith(MAGIC)


def decode(data: bytes) -> Any:
    """Return the value held by safe-payload bytes; never runs code from them."""
    if not is_safe(data):
        raise ValueError("not a safe payload")
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


def _column(values: pd.Series | pd.Index, blobs: list[bytes]) -> dict[str, Any]:
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind != "O":
        return {"kind": "numpy", "v": _array_blob(values.to_numpy(), blobs)}
    if isinstance(dtype, np.dtype):
        return {"kind": "object", "v": [_enc(v, blobs) for v in values.tolist()]}
    if isinstance(dtype, pd.CategoricalDtype):
        raise Unsupported("categorical column")
    # Extension dtypes (Int64, boolean, str, datetime with a time zone): values with NA as None.
    items = [None if _is_na(v) else _enc(v, blobs) for v in values.astype(object).tolist()]
    return {"kind": "ext", "dtype": str(dtype), "v": items}


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
    if node["kind"] == "object":
        items = [_dec(v, blobs) for v in node["v"]]
        out = np.empty(len(items), dtype=object)
        out[:] = items
        return out
    items = [None if v is None else _dec(v, blobs) for v in node["v"]]
    dtype: Any = pd.api.types.pandas_dtype(node["dtype"])
    return pd.array(items, dtype=dtype)


def _dec_index(node: dict[str, Any], blobs: list[bytes]) -> pd.Index:
    name = _dec(node["name"], blobs)
    if node["$"] == "range":
        start, stop, step = node["a"]
        return pd.RangeIndex(start, stop, step, name=name)
    return pd.Index(_dec_column(node["c"], blobs), name=name, tupleize_cols=False)


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
    if tag == "objarr":
        out = np.empty(len(node["v"]), dtype=object)
        out[:] = [_dec(v, blobs) for v in node["v"]]
        return out.reshape(node["shape"])
    if tag == "frame":
        columns = _dec_index(node["columns"], blobs)
        index = _dec_index(node["index"], blobs)
        data = {i: _dec_column(c, blobs) for i, c in enumerate(node["data"])}
        frame = pd.DataFrame(data, index=index)
        frame.columns = columns
        return frame
    if tag == "series":
        return pd.Series(
            _dec_column(node["c"], blobs),
            index=_dec_index(node["index"], blobs),
            name=_dec(node["name"], blobs),
        )
    if tag == "dc":
        cls = _dataclass(node["m"], node["q"])
        obj: Any = object.__new__(cls)
        for name, value in node["f"].items():
            object.__setattr__(obj, name, _dec(value, blobs))
        return obj
    raise ValueError(f"unknown payload tag {tag!r}")


def same(a: Any, b: Any) -> bool:
    """Return whether two results are equal in value and type (frames: values, dtypes, labels)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, pd.DataFrame):
        return (
            list(a.dtypes) == list(b.dtypes)
            and a.columns.equals(b.columns)
            and type(a.columns) is type(b.columns)
            and a.index.equals(b.index)
            and type(a.index) is type(b.index)
            and a.index.dtype == b.index.dtype
            and a.equals(b)
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
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if dataclasses.is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if a is pd.NaT or a is pd.NA:
        return a is b
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
