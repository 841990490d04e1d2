"""Themes of any column of Chinese texts in a CSV or Excel file (``themes --file``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    # scikit-learn takes two seconds to import; every import of a file tokenises its comments
    # here but only fitting a model needs it, so it is imported where a model is fitted.
    pass
from analytics.core.errors import UserError
from analytics.domain.themes.discovery import ThemeModel, assign, mine
from analytics.domain.themes.segmentation import tokenize


def read_frame(path: str | Path) -> pd.DataFrame:
    """Return a CSV (UTF-8 with or without BOM, else GB18030: what Excel saves in China) or XLSX
    table as strings, blanks as ''; raise UserError with one sentence when it cannot be read."""
    file = Path(path)
    if not file.is_file():
        raise UserError(f"The file {file} does not exist.")
    suffix = file.suffix.lower()
    if suffix == ".csv":
        frame = None
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                frame = pd.read_csv(file, dtype=str, keep_default_na=False, encoding=encoding)
                break
            except UnicodeDecodeError:
                continue
            except pd.errors.EmptyDataError as exc:
                raise UserError(f"The file {file.name} is empty.") from exc
            except pd.errors.ParserError as exc:
                raise UserError(f"The file {file.name} is not a readable CSV table: {exc}") from exc
        if frame is None:
            raise UserError(f"The file {file.name} is neither UTF-8 nor GB18030 text; save it as UTF-8 CSV.")
    elif suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(file, dtype=str, keep_default_na=False, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
            raise UserError(f"The file {file.name} cannot be read as an Excel workbook: {exc}") from exc
    else:
        raise UserError(f"The file {file.name} is not a .csv or .xlsx file.")
    return frame


def read_texts(path: str | Path, column: str) -> list[str]:
    """Return one text per data row of a CSV or XLSX file's column, in file order ('' for blanks)."""
    file = Path(path)
    frame = read_frame(file)
    names = [str(c) for c in frame.columns]
    if column not in names:
        raise UserError(
            f"The file {file.name} has no column {column!r}; its columns are: {', '.join(names)}."
        )
    series = frame.iloc[:, names.index(column)]
    return ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in series]


def themes_of_texts(texts: Sequence[str], k: int = 8, seed: int = 0) -> tuple[ThemeModel, pd.DataFrame]:
    """Return the model and one row per text (``row`` from 1, ``theme``, ``label``) in input order."""
    tokens = tokenize(texts)
    model = mine(tokens, k=k, seed=seed)
    ids = assign(model, tokens)
    frame = pd.DataFrame(
        {
            "row": np.arange(1, len(texts) + 1),
            "theme": ids,
            "label": [model.label(t, "zh") for t in ids],
        }
    )
    return model, frame
