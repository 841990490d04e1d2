"""The charts a page drew, as an AppTest run sees them: each chart's Vega-Lite spec and its rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest


@dataclass
class Chart:
    """One chart on the page: its Vega-Lite spec and the rows it draws (one per point, per layer)."""

    spec: dict[str, Any]
    rows: pd.DataFrame

    @property
    def title(self) -> str:
        text = (self.spec.get("title") or {}).get("text") or ""
        # A long title is an expression breaking it on narrow screens; the description holds it whole.
        return str(self.spec.get("description", "") if isinstance(text, dict) else text)

    def marks(self) -> list[str]:
        """Each layer's mark ("line", "point", "bar", "rect", ...)."""
        return [layer["mark"]["type"] for layer in self.spec.get("layer") or self.spec["spec"]["layer"]]

    def encoding(self, layer: int = 0) -> dict[str, Any]:
        return (self.spec.get("layer") or self.spec["spec"]["layer"])[layer]["encoding"]

    def layer_rows(self, layer: int) -> pd.DataFrame:
        return self.rows[self.rows["layer"] == layer]

    def series(self) -> list[str]:
        """The legend's entries, in its order (none for a single series)."""
        for layer in self.spec.get("layer") or self.spec["spec"]["layer"]:
            colour = layer["encoding"].get("color", {})
            if colour.get("field") == "series":
                return list(colour["scale"]["domain"])
        return []

    def colours(self) -> list[str]:
        for layer in self.spec.get("layer") or self.spec["spec"]["layer"]:
            colour = layer["encoding"].get("color", {})
            if colour.get("field") == "series":
                return list(colour["scale"]["range"])
        return []


def charts(at: AppTest) -> list[Chart]:
    """Return every chart the last run drew, in page order."""
    out = []
    for element in at.get("vega_lite_chart"):
        proto = element.proto
        rows = (
            pa.ipc.open_stream(proto.data.data).read_all().to_pandas() if proto.data.data else pd.DataFrame()
        )
        out.append(Chart(json.loads(proto.spec), rows))
    return out
