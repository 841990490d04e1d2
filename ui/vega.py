"""The dashboard's plotly figures drawn on screen with Vega-Lite.

Plotly stays the one definition of every chart, and it draws the chart images (``ui.charts``,
kaleido). On screen the same figure is drawn with Vega-Lite, which Streamlit ships too: in
headless Chromium on a 2-core machine the first plotly chart of a page costs about 0.8 s of
the browser's time (its 4.7 MB library is evaluated for every new tab) and each further one
0.2-0.3 s; the first Vega-Lite chart about 0.3 s and each further one under 0.1 s.

``from_plotly`` translates the parts of plotly the dashboard uses: scatter traces (lines,
markers, a band filled to the trace before, steps, dashes, error bars), bars (horizontal or
vertical, grouped, with text outside), heatmaps with their counts written in, a vertical line
with its label, side-by-side panels (plotly express ``facet_col``), category orders, reversed
axes, ranges, d3 tick formats and the month ticks ``ui.charts.localise_dates`` sets. Hover
texts are written on the server from each trace's ``hovertemplate``, so the tooltip says on
screen what plotly's hover said. Data text is plain text here (Vega-Lite never reads it as
HTML), so the figure is translated as it is; ``chart_export.for_export`` escapes it for plotly.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

RIGHT_PAD = 24  # px; half of "2026-10" at the axis font, and a margin
SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
DEFAULT_HEIGHT = 450  # plotly's default figure height
FACET_WIDTH = 300  # one panel of a chart split into panels side by side
LEGEND_COLUMNS = 4  # legend entries a row when the figure does not say
LABEL_LIMIT = 300  # pixels of an axis label before it is cut with an ellipsis
LABEL_LINE_PX = 13  # a line of an axis label of several lines
TITLE_SIZE = 17  # pixels of a chart title's font
MIN_TITLE_WIDTH = 300  # a title this wide fits any screen on one line
LEGEND_ROW_PX = 340  # a legend row fits a phone (390 px less the page's margins)
LEGEND_SYMBOL_PX = 30  # a legend entry's symbol and the gap after it
MAX_TEMPORAL_LABELS = 6  # month labels on a time axis: more would touch on a half-width chart
AXIS_LABEL_SIZE = 11  # px, Vega-Lite's axis labels
LABEL_GAP_PX = 8  # px between two level category labels
NARROW_PX = 480  # below this plot width, category labels under (or over) the x axis are slanted
DASHES = {"dot": [2, 3], "dash": [6, 4], "dashdot": [6, 3, 2, 3], "longdash": [10, 4]}
SYMBOLS = {"circle": "circle", "diamond": "diamond", "square": "square", "cross": "cross", "x": "cross"}
SYMBOLS.update({"triangle-up": "triangle-up", "triangle-down": "triangle-down"})
_DATE_TEXT = re.compile(r"^\d{4}-\d{2}(-\d{2})?([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
_PLACEHOLDER = re.compile(r"%\{([^}|:]+)(?:([|:])([^}]*))?\}")
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


# --- values -------------------------------------------------------------------------------


def _plain(value: Any) -> list[Any]:
    """Return a trace attribute as a list of plain Python values (NaN as None)."""
    if value is None:
        return []
    if isinstance(value, Mapping) and "bdata" in value:
        # Plotly's typed array (a figure read back from JSON): base64 bytes of a numpy dtype.
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if value.get("shape"):
            array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
        value = array
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, pd.Series | pd.Index):
        value = value.tolist()
    out = []
    for item in value:
        if isinstance(item, np.generic):
            item = item.item()
        if isinstance(item, float) and math.isnan(item):
            item = None
        out.append(item)
    return out


def _timestamp(value: Any) -> pd.Timestamp | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}", value):
        value += "-01"
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(stamp) else stamp


def _is_date(value: Any) -> bool:
    if isinstance(value, datetime | date | pd.Timestamp | np.datetime64):
        return True
    return isinstance(value, str) and bool(_DATE_TEXT.match(value))


def _epoch_ms(value: Any) -> float | None:
    # Dates travel as milliseconds since 1970 UTC and are drawn on a UTC scale: a browser in any
    # time zone shows the day the data says.
    stamp = _timestamp(value)
    if stamp is None:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return float((stamp - pd.Timestamp(0)) / pd.Timedelta(milliseconds=1))


def _datetime(value: Any) -> dict[str, Any] | None:
    """A date as Vega-Lite's DateTime object in UTC (what a temporal scale's domain and an axis's
    tick values take)."""
    stamp = _timestamp(value)
    if stamp is None:
        return None
    out: dict[str, Any] = {"year": stamp.year, "month": stamp.month, "date": stamp.day, "utc": True}
    if stamp.hour or stamp.minute:
        out.update(hours=stamp.hour, minutes=stamp.minute)
    return out


def _label(value: Any) -> Any:
    # Category labels break lines as plotly's do (``<br>``); Vega-Lite splits them on "\n".
    return _BREAK.sub("\n", value) if isinstance(value, str) else value


def _text_width(text: str, size: float = 12) -> int:
    # Pixels a label takes: a Chinese character about a font size, a Latin letter about half.
    return int(sum(size if ord(c) >= 0x2E80 else size * 0.55 for c in str(text)))


def _title_text(part: Mapping[str, Any] | None) -> str | None:
    if not part:
        return None
    text = part.get("text") if isinstance(part, Mapping) else part
    return _TAG.sub("", _BREAK.sub(" ", str(text))) if text else None


# --- hover texts --------------------------------------------------------------------------


def _format_number(value: Any, spec: str) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "" if value is None else str(value)
    if spec.endswith("d"):  # d3 rounds to an integer for "d"; Python refuses floats
        return format(round(value), spec)
    try:
        return format(value, spec)
    except ValueError:
        return str(value)


def _format_date(value: Any, spec: str) -> str:
    stamp = _timestamp(value)
    return stamp.strftime(spec) if stamp is not None else ("" if value is None else str(value))


def _default_text(value: Any, axis_format: str | None, is_date: bool) -> str:
    if value is None:
        return ""
    if is_date and axis_format:
        return _format_date(value, axis_format)
    if isinstance(value, float):
        return _format_number(value, axis_format) if axis_format else f"{value:.4g}"
    return str(value)


def hover_text(template: str, point: Mapping[str, Any]) -> str:
    """Return a plotly ``hovertemplate`` filled in for one point (``%{y:.1%}``, ``%{x|%Y-%m}``,
    ``%{customdata[0]}``, ``%{fullData.name}``), with line breaks as " · " and tags removed."""

    def fill(match: re.Match[str]) -> str:
        name, kind, spec = match.groups()
        value = point.get(name.strip())
        if kind == "|":
            return _format_date(value, spec)
        if kind == ":":
            return _format_number(value, spec)
        if isinstance(value, float):
            return f"{value:.4g}"
        return "" if value is None else str(value)

    text = re.sub(r"<extra>.*?</extra>", "", template, flags=re.DOTALL)
    text = _PLACEHOLDER.sub(fill, text)
    return _TAG.sub("", _BREAK.sub(" · ", text)).strip()


# --- axes ---------------------------------------------------------------------------------


def _axis_kind(axis: Mapping[str, Any], values: Sequence[Any]) -> str:
    kind = axis.get("type")
    present = [v for v in values if v is not None]
    if kind == "category":
        return "nominal"
    if kind == "date":
        return "temporal"
    if kind in ("linear", "log"):
        return "quantitative"
    if present and all(_is_date(v) for v in present):
        return "temporal"
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "quantitative"
    return "nominal"


def _categories(axis: Mapping[str, Any], seen: list[Any]) -> list[Any]:
    order = axis.get("categoryarray") if axis.get("categoryorder") == "array" else None
    chosen = _plain(order) if order is not None else []
    known = set(chosen)
    return [*chosen, *(v for v in dict.fromkeys(seen) if v not in known and v is not None)]


def _channel(
    letter: str, axis: Mapping[str, Any], kind: str, seen: list[Any], *, bars: bool
) -> dict[str, Any]:
    """Return the Vega-Lite encoding of one position channel from a plotly axis."""
    encoding: dict[str, Any] = {"field": letter, "type": kind}
    spec: dict[str, Any] = {"title": _title_text(axis.get("title"))}
    scale: dict[str, Any] = {}
    reversed_axis = axis.get("autorange") == "reversed"
    if kind == "nominal":
        order = [_label(v) for v in _categories(axis, seen)]
        # Plotly puts a vertical axis's first category at the bottom unless reversed; Vega-Lite at the top.
        if letter == "y" and not reversed_axis:
            order = order[::-1]
        scale["domain"] = order
        if any(isinstance(v, str) and "\n" in v for v in order):
            spec["labelExpr"] = "split(datum.label, '\\n')"
    else:
        if kind == "temporal":
            scale["type"] = "utc"
            if axis.get("tickvals") is not None:
                ticks = list(_plain(axis.get("tickvals")))
                # Vega-Lite drops every other label once they would touch (2026年11月 is wide),
                # the last month's among them: keep at most six, counted back from the last.
                step = -(-len(ticks) // MAX_TEMPORAL_LABELS)
                spec["values"] = [_datetime(v) for v in ticks[::-1][::step][::-1]]
            # On a UTC scale the format is applied in UTC.
            fmt = axis.get("hoverformat") if axis.get("tickvals") is not None else axis.get("tickformat")
            if fmt:
                spec["format"] = fmt
        elif axis.get("tickformat"):
            spec["format"] = axis["tickformat"]
        bounds = _plain(axis.get("range")) if axis.get("range") is not None else []
        if len(bounds) == 2:
            ends = [_datetime(v) if kind == "temporal" else v for v in bounds]
            if all(v is not None for v in ends):
                scale["domain"] = ends
            elif ends[0] is not None:
                scale["domainMin"] = ends[0]
            elif ends[1] is not None:
                scale["domainMax"] = ends[1]
        if kind == "quantitative":
            scale["zero"] = bool(bars or axis.get("rangemode") == "tozero")
        if reversed_axis:
            scale["reverse"] = True
    if kind == "quantitative":
        spec["tickCount"] = 8 if letter == "x" else 6  # about as many ticks as plotly draws
    if axis.get("side") == "top":
        spec["orient"] = "top"
    if letter == "x" and kind == "nominal":
        # Level, as plotly draws them, while each category's share of the plot holds its label;
        # slanted when they would run into each other (three short labels such as "30 days" stay
        # level in half a desktop page; ten advisors' names slant). Labels of several lines slant
        # only on a phone's width, where they are joined into one (below).
        level = axis.get("tickangle") or 0
        lines = max((str(v).count("\n") + 1 for v in scale.get("domain", [])), default=1)
        labels = [str(v) for v in scale.get("domain", [])]
        widest = max(
            (_text_width(part, AXIS_LABEL_SIZE) for v in labels for part in v.split("\n")), default=0
        )
        # Labels over the plot (a heatmap's columns) keep the phone's rule: each sits over its own
        # cell, which is sized for it, and slanting them there was seen to crowd the title.
        top = spec.get("orient") == "top"
        slant_below = NARROW_PX if lines > 1 or not labels or top else len(labels) * (widest + LABEL_GAP_PX)
        spec["labelAngle"] = {"expr": f"width < {slant_below} ? -45 : {level}"}
        if top and not level:
            # Centred over their cells while level (Vega-Lite set them from the tick rightwards
            # above the plot, over the next cell), starting at the tick when slanted upwards.
            spec["labelAlign"] = {"expr": f"width < {slant_below} ? 'left' : 'center'"}
        if spec.get("orient") == "top" and lines > 1:
            # Vega sets a label's first line on the baseline and the others below it, into the
            # cells: above the plot every label gets as many lines (blank ones first), lifted by
            # all but one of them.
            blanks = "\\n" * (lines - 1)
            # Slanted on a phone, a label is one line (lines of neighbouring slanted labels cross).
            spec["labelExpr"] = (
                f"width < {NARROW_PX} ? join(split(datum.label, '\\n'), ' ') : "
                f"split(slice('{blanks}', 0, {lines} - length(split(datum.label, '\\n'))) + datum.label, '\\n')"
            )
            spec["labelLineHeight"] = LABEL_LINE_PX
            spec["labelPadding"] = {"expr": f"width < {NARROW_PX} ? 2 : {LABEL_LINE_PX * (lines - 1) + 2}"}
    elif axis.get("tickangle") is not None:
        spec["labelAngle"] = axis["tickangle"]
    if axis.get("showticklabels") is False:
        spec["labels"] = False
    encoding["scale"] = scale
    encoding["axis"] = spec
    return encoding


# --- traces -------------------------------------------------------------------------------


class _Figure:
    """What the traces share while they are translated: colours, legend, axes, rows."""

    def __init__(self, fig: go.Figure) -> None:
        self.src = fig.to_plotly_json()
        self.layout: dict[str, Any] = self.src.get("layout", {})
        self.traces: list[dict[str, Any]] = list(self.src.get("data", []))
        template = fig.layout.template
        colorway = list(self.layout.get("colorway") or (template.layout.colorway if template else None) or [])
        self.colorway = colorway or ["#1f77b4"]
        self.rows: list[dict[str, Any]] = []
        self.layers: list[dict[str, Any]] = []
        self.bars = any(t.get("type") == "bar" for t in self.traces)
        self.legend = self._legend()
        # The x axes of a chart split into panels side by side (plotly express ``facet_col``).
        self.panels = list(
            dict.fromkeys(t.get("xaxis") or "x" for t in self.traces if t.get("type") != "heatmap")
        )

    def axis(self, letter: str, trace: Mapping[str, Any]) -> dict[str, Any]:
        # Panels side by side share the first panel's y axis (plotly express ``matches``).
        ref = "y" if letter == "y" and len(self.panels) > 1 else (trace.get(f"{letter}axis") or letter)
        return dict(self.layout.get(f"{letter}axis{ref[1:]}", {}))

    def color(self, index: int, trace: Mapping[str, Any]) -> str:
        for path in (("marker", "color"), ("line", "color")):
            part = trace.get(path[0]) or {}
            if isinstance(part.get(path[1]), str):
                return str(part[path[1]])
        if trace.get("fill") in ("tonexty", "tozeroy") and trace.get("fillcolor"):
            return str(trace["fillcolor"])
        return str(self.colorway[index % len(self.colorway)])

    def _legend(self) -> dict[str, str]:
        named: dict[str, str] = {}
        for index, trace in enumerate(self.traces):
            if trace.get("type") == "heatmap" or trace.get("showlegend") is False or not trace.get("name"):
                continue
            color = (
                str(trace["fillcolor"])
                if trace.get("fill") and trace.get("fillcolor")
                else self.color(index, trace)
            )
            named.setdefault(str(trace["name"]), color)
        shown = self.layout.get("showlegend")
        return named if (shown is True or (shown is None and len(named) > 1)) else {}

    def colour(self, index: int, trace: Mapping[str, Any]) -> dict[str, Any]:
        """The colour encoding of a trace: the legend's scale when it is in the legend, else its own."""
        name = trace.get("name")
        if self.legend and name in self.legend and trace.get("type") != "heatmap":
            legend = self.layout.get("legend") or {}
            top = (legend.get("y") if legend.get("y") is not None else -0.18) > 0.5
            # Entries wrap as plotly's do (``per_row`` a row when the figure says so), and never more
            # a row than fit a phone's width.
            width = legend.get("entrywidth") if legend.get("entrywidthmode") == "fraction" else None
            wanted = round(1 / width) if width else LEGEND_COLUMNS
            widest = max(_text_width(name) for name in self.legend) + LEGEND_SYMBOL_PX
            columns = max(1, min(len(self.legend), wanted, LEGEND_ROW_PX // widest))
            return {
                "field": "series",
                "type": "nominal",
                "scale": {"domain": list(self.legend), "range": list(self.legend.values())},
                "legend": {
                    "orient": "top" if top else "bottom",
                    "title": _title_text(legend.get("title")),
                    "direction": "horizontal",
                    "columns": columns,
                    "labelLimit": 320,
                },
            }
        return {"value": self.color(index, trace)}

    def add(self, layer_rows: list[dict[str, Any]], layer: dict[str, Any]) -> None:
        """Add a layer drawing ``layer_rows`` (none: no layer, so no scale is asked to span nothing)."""
        if not layer_rows:
            return
        number = len(self.layers)
        for row in layer_rows:
            row["layer"] = number
        self.rows.extend(layer_rows)
        layer["transform"] = [{"filter": {"field": "layer", "equal": number}}]
        self.layers.append(layer)


def _points(fig: _Figure, trace: Mapping[str, Any], index: int) -> list[dict[str, Any]]:
    """One row per point of a scatter or bar trace: position, hover text, panel, series."""
    xs, ys = _plain(trace.get("x")), _plain(trace.get("y"))
    n = max(len(xs), len(ys))
    xs = xs or list(range(n))
    ys = ys or list(range(n))
    x_axis, y_axis = fig.axis("x", trace), fig.axis("y", trace)
    x_kind, y_kind = _axis_kind(x_axis, xs), _axis_kind(y_axis, ys)
    texts = trace.get("text")
    texts = _plain(texts) if isinstance(texts, list | tuple | np.ndarray) else [texts] * n
    custom = _plain(trace.get("customdata")) if trace.get("customdata") is not None else [None] * n
    template = trace.get("hovertemplate")
    skip = trace.get("hoverinfo") in ("skip", "none")
    name = trace.get("name") or ""
    rows = []
    for i in range(n):
        x, y = xs[i] if i < len(xs) else None, ys[i] if i < len(ys) else None
        data = custom[i] if i < len(custom) else None
        point: dict[str, Any] = {"x": x, "y": y, "text": texts[i] if i < len(texts) else None}
        point["customdata"] = data[0] if isinstance(data, list) and len(data) == 1 else data
        if isinstance(data, list):
            point.update({f"customdata[{j}]": v for j, v in enumerate(data)})
        point["fullData.name"] = name
        if skip:
            tip = None
        elif isinstance(template, str):
            tip = hover_text(template, point)
        else:
            parts = [
                name,
                _default_text(x, x_axis.get("hoverformat") or x_axis.get("tickformat"), x_kind == "temporal"),
                _default_text(y, y_axis.get("hoverformat") or y_axis.get("tickformat"), y_kind == "temporal"),
            ]
            tip = " · ".join(p for p in parts if p)
        rows.append(
            {
                "x": _epoch_ms(x) if x_kind == "temporal" else _label(x),
                "y": _epoch_ms(y) if y_kind == "temporal" else _label(y),
                "series": name,
                "tip": tip,
                "text": None if point["text"] is None else str(point["text"]),
                "panel": trace.get("xaxis") or "x",
            }
        )
    return rows


def _position(fig: _Figure, trace: Mapping[str, Any], *, bars: bool = False) -> dict[str, Any]:
    """The x and y encodings of a trace; a category axis lists the categories of every trace on it."""
    out = {}
    for letter in ("x", "y"):
        axis = fig.axis(letter, trace)
        ref = trace.get(f"{letter}axis") or letter
        on_axis = [
            v for t in fig.traces if (t.get(f"{letter}axis") or letter) == ref for v in _plain(t.get(letter))
        ]
        # The kind from every trace on the axis: a first trace without a value (a share of no
        # customers) made a percent axis a category axis with one raw number as its only label.
        kind = _axis_kind(axis, [*_plain(trace.get(letter)), *on_axis])
        seen = [_label(v) for v in on_axis] if kind == "nominal" else []
        out[letter] = _channel(letter, axis, kind, seen, bars=bars or fig.bars)
    return out


def _tooltip(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    return {"field": "tip", "type": "nominal"} if any(r["tip"] for r in rows) else None


def _scatter(fig: _Figure, trace: dict[str, Any], index: int, follows_band: bool) -> None:
    rows = _points(fig, trace, index)
    if not rows:
        return
    mode = str(trace.get("mode") or ("lines+markers" if len(rows) < 20 else "lines"))
    line = trace.get("line") or {}
    marker = trace.get("marker") or {}
    encoding = {**_position(fig, trace), "color": fig.colour(index, trace)}
    tooltip = _tooltip(rows)
    if tooltip:
        encoding["tooltip"] = tooltip
    if trace.get("fill") == "tonexty" and index > 0:
        edge = _points(fig, fig.traces[index - 1], index - 1)
        for row, other in zip(rows, edge, strict=False):
            row["y2"] = other["y"]
        area = {**encoding, "y2": {"field": "y2"}}
        area.pop("tooltip", None)
        fig.add(rows, {"mark": {"type": "area", "opacity": 1, "line": False}, "encoding": area})
        if "markers" not in mode and line.get("width", 1) == 0:
            return
        rows = _points(fig, trace, index)
    if follows_band:
        return  # the upper edge of the band the next trace fills to: drawn by that band
    if "lines" in mode and line.get("width", 1) != 0:
        mark: dict[str, Any] = {"type": "line", "strokeWidth": line.get("width", 2)}
        if line.get("dash") in DASHES:
            mark["strokeDash"] = DASHES[line["dash"]]
        if line.get("shape") in ("hv", "vh", "hvh", "vhv"):
            mark["interpolate"] = {"hv": "step-after", "vh": "step-before"}.get(line["shape"], "step")
        fig.add([dict(r) for r in rows], {"mark": mark, "encoding": dict(encoding)})
    if "markers" in mode:
        symbol = str(marker.get("symbol") or "circle")
        size = marker.get("size", 6)
        point: dict[str, Any] = {
            "type": "point",
            "shape": SYMBOLS.get(symbol.replace("-open", ""), "circle"),
            "filled": not symbol.endswith("-open"),
            "opacity": 1,
        }
        point_encoding = dict(encoding)
        point_rows = [dict(r) for r in rows]
        if not isinstance(size, int | float):
            for row, s in zip(point_rows, _plain(size), strict=False):
                row["size"] = (s or 6) ** 2
            point_encoding["size"] = {"field": "size", "type": "quantitative", "scale": None, "legend": None}
        else:
            point["size"] = float(size) ** 2
        edge = marker.get("line") or {}
        if edge.get("width"):
            point["strokeWidth"] = edge["width"]
            if isinstance(edge.get("color"), str) and not symbol.endswith("-open"):
                point["stroke"] = edge["color"]
        fig.add(point_rows, {"mark": point, "encoding": point_encoding})
    _errors(fig, trace, index, rows, encoding)


def _errors(
    fig: _Figure, trace: Mapping[str, Any], index: int, rows: list[dict[str, Any]], encoding: dict[str, Any]
) -> None:
    for letter in ("x", "y"):
        error = trace.get(f"error_{letter}") or {}
        if error.get("type") != "data" or error.get("array") is None or error.get("visible") is False:
            continue
        plus = _plain(error.get("array"))
        minus = plus if error.get("symmetric", True) is not False else _plain(error.get("arrayminus"))
        bars = []
        for row, up, down in zip(rows, plus, minus or plus, strict=False):
            if row[letter] is None or up is None:
                continue
            bars.append({**row, letter: row[letter] - (down or 0), f"{letter}2": row[letter] + up})
        colour = {"value": error["color"]} if isinstance(error.get("color"), str) else encoding["color"]
        rule = {**encoding, "color": colour, f"{letter}2": {"field": f"{letter}2"}}
        rule.pop("tooltip", None)
        fig.add(
            bars, {"mark": {"type": "rule", "strokeWidth": error.get("thickness", 1.5)}, "encoding": rule}
        )


def _bars(fig: _Figure, group: list[tuple[int, dict[str, Any]]]) -> None:
    """All bar traces of the figure as one layer (side by side when barmode is group), their text
    outside the bar's end and their error bars."""
    rows: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []
    per_trace = []
    for index, trace in group:
        trace_rows = _points(fig, trace, index)
        per_trace.append((index, trace, trace_rows))
        rows += trace_rows
        if trace.get("textposition") == "outside":
            labels += [dict(r) for r in trace_rows if r.get("text") not in (None, "")]
    first_index, first = group[0]
    horizontal = first.get("orientation") == "h"
    category = "y" if horizontal else "x"
    encoding = _position(fig, first, bars=True)
    if encoding[category]["type"] == "temporal":
        # Bars on a date axis (one a week) each get their own slot, as plotly gives them, labelled
        # with their dates.
        axis = encoding[category]["axis"]
        encoding[category] = {
            "field": category,
            "type": "ordinal",
            "timeUnit": "utcyearmonthdate",
            "axis": {"title": axis.get("title"), "format": axis.get("format") or "%Y-%m-%d"},
        }
    names = [str(t.get("name") or "") for _, t in group]
    if len(group) > 1:
        encoding["color"] = {
            "field": "series",
            "type": "nominal",
            "scale": {"domain": names, "range": [fig.color(i, t) for i, t in group]},
            "legend": fig.colour(first_index, first).get("legend") if fig.legend else None,
        }
        if fig.layout.get("barmode", "group") == "group":
            encoding[f"{category}Offset"] = {"field": "series", "sort": names}
    else:
        encoding["color"] = fig.colour(first_index, first)
    tooltip = _tooltip(rows)
    fig.add(
        [dict(r) for r in rows],
        {"mark": {"type": "bar"}, "encoding": {**encoding, **({"tooltip": tooltip} if tooltip else {})}},
    )
    if labels:
        mark = (
            {"type": "text", "align": "left", "baseline": "middle", "dx": 3}
            if horizontal
            else {"type": "text", "align": "center", "baseline": "bottom", "dy": -3}
        )
        text = {**encoding, "text": {"field": "text", "type": "nominal"}, "color": {"value": "#444"}}
        fig.add(labels, {"mark": {**mark, "fontSize": 11}, "encoding": text})
    for index, trace, trace_rows in per_trace:
        _errors(fig, trace, index, trace_rows, {**encoding, "color": {"value": "#555"}})


def _heatmap(fig: _Figure, trace: dict[str, Any]) -> None:
    xs, ys = _plain(trace.get("x")), _plain(trace.get("y"))
    z = [_plain(row) for row in _plain(trace.get("z"))]
    text = [_plain(row) for row in _plain(trace.get("text"))] if trace.get("text") is not None else []
    custom = (
        [_plain(row) for row in _plain(trace.get("customdata"))]
        if trace.get("customdata") is not None
        else []
    )
    template = trace.get("hovertemplate")
    rows = []
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            value = z[i][j] if i < len(z) and j < len(z[i]) else None
            label = text[i][j] if i < len(text) and j < len(text[i]) else None
            point = {
                "x": _BREAK.sub(" ", x) if isinstance(x, str) else x,  # a wrapped label reads as one line
                "y": _BREAK.sub(" ", y) if isinstance(y, str) else y,
                "z": value,
                "text": label,
                "customdata": custom[i][j] if custom else None,
            }
            tip = (
                hover_text(template, point)
                if isinstance(template, str)
                else f"{point['y']} · {point['x']}: {value}"
            )
            text_out = "" if label is None else str(label)
            rows.append({"x": _label(x), "y": _label(y), "z": value, "text": text_out, "tip": tip})
    scale = _plain(trace.get("colorscale")) or [[0, "#f4f7fb"], [1, "#1f5fa8"]]
    x_axis, y_axis = dict(fig.layout.get("xaxis", {})), dict(fig.layout.get("yaxis", {}))
    y_axis.setdefault("autorange", True)
    encoding = {
        "x": _channel("x", {**x_axis, "type": "category"}, "nominal", [_label(v) for v in xs], bars=False),
        "y": _channel("y", {**y_axis, "type": "category"}, "nominal", [_label(v) for v in ys], bars=False),
    }
    colour = {
        "field": "z",
        "type": "quantitative",
        "scale": {"range": [scale[0][1], scale[-1][1]]},
        "legend": None,
    }
    gap = trace.get("xgap") or 0
    rect = {"type": "rect", "stroke": "white", "strokeWidth": gap} if gap else {"type": "rect"}
    fig.add(
        [dict(r) for r in rows],
        {
            "mark": rect,
            "encoding": {**encoding, "color": colour, "tooltip": {"field": "tip", "type": "nominal"}},
        },
    )
    if text:
        # Dark counts on pale cells, white on dark ones, as plotly picks them.
        top = max([v for row in z for v in row if v is not None] or [1])
        ink = {"condition": {"test": f"datum.z > {0.55 * top}", "value": "white"}, "value": "#222"}
        fig.add(
            [dict(r) for r in rows if r["text"]],
            {
                "mark": {"type": "text", "fontSize": 12},
                "encoding": {
                    **encoding,
                    "text": {"field": "text", "type": "nominal"},
                    "color": ink,
                    "tooltip": {"field": "tip", "type": "nominal"},
                },
            },
        )


def _shapes(fig: _Figure) -> None:
    for shape in fig.layout.get("shapes") or []:
        if shape.get("type") != "line" or shape.get("x0") != shape.get("x1"):
            continue
        if (
            shape.get("xref", "x") != "x"
            or "domain" not in str(shape.get("yref", ""))
            and shape.get("yref") != "paper"
        ):
            continue
        line = shape.get("line") or {}
        mark: dict[str, Any] = {
            "type": "rule",
            "color": line.get("color", "#7a828c"),
            "strokeWidth": line.get("width", 1),
        }
        if line.get("dash") in DASHES:
            mark["strokeDash"] = DASHES[line["dash"]]
        axis = dict(fig.layout.get("xaxis", {}))
        kind = "quantitative" if isinstance(shape["x0"], int | float) else "temporal"
        x = shape["x0"] if kind == "quantitative" else _epoch_ms(shape["x0"])
        fig.add([{"x": x}], {"mark": mark, "encoding": {"x": _channel("x", axis, kind, [], bars=fig.bars)}})


def _annotations(fig: _Figure) -> None:
    """A label tied to a value on the x axis (the overall line's "整体 89.5%"), under the plot."""
    for note in fig.layout.get("annotations") or []:
        if note.get("name") == "source" or note.get("xref", "x") != "x" or note.get("yref") != "paper":
            continue
        below = (note.get("y") or 0) <= 0.5
        font = note.get("font") or {}
        mark = {
            "type": "text",
            "fontSize": font.get("size", 11),
            "color": font.get("color", "#555"),
            "y": "height" if below else 0,
            "dy": abs(note.get("yshift") or 0) + 6 if below else -6,
            "baseline": "top" if below else "bottom",
        }
        axis = dict(fig.layout.get("xaxis", {}))
        fig.add(
            [{"x": note.get("x"), "text": _TAG.sub("", str(note.get("text") or ""))}],
            {
                "mark": mark,
                "encoding": {
                    "x": _channel("x", axis, "quantitative", [], bars=fig.bars),
                    "text": {"field": "text", "type": "nominal"},
                },
            },
        )


def _panel_titles(fig: _Figure) -> dict[str, str]:
    """Each x axis of a chart split into panels, and the title plotly express wrote above it."""
    titles: dict[str, str] = {}
    notes = [
        a for a in fig.layout.get("annotations") or [] if a.get("xref") == "paper" and (a.get("y") or 0) >= 1
    ]
    for axis_id in fig.panels:
        domain = (fig.layout.get(f"xaxis{axis_id[1:]}") or {}).get("domain") or [0, 1]
        for note in notes:
            if domain[0] <= (note.get("x") or 0) <= domain[1]:
                titles[axis_id] = _TAG.sub("", str(note.get("text") or ""))
    return titles


def from_plotly(fig: go.Figure, *, subtitle: str | None = None, font: str | None = None) -> dict[str, Any]:
    """Return a Vega-Lite spec that draws ``fig`` on screen: same data, colours, orders, formats
    and hover texts; the title on top with ``subtitle`` (the source line) under it."""
    state = _Figure(fig)
    bands = {i - 1 for i, t in enumerate(state.traces) if t.get("fill") == "tonexty" and i > 0}
    bar_group: list[tuple[int, dict[str, Any]]] = []
    for index, trace in enumerate(state.traces):
        kind = trace.get("type") or "scatter"
        if trace.get("visible") is False:
            continue
        if kind == "bar":
            bar_group.append((index, trace))
        elif kind == "heatmap":
            _heatmap(state, trace)
        elif kind == "scatter":
            edge_only = index in bands and (trace.get("line") or {}).get("width", 1) == 0
            _scatter(state, trace, index, follows_band=edge_only)
    if bar_group:
        _bars(state, bar_group)
    _shapes(state)
    _annotations(state)
    layout = state.layout
    height = int(layout.get("height") or DEFAULT_HEIGHT)
    # Room on the right for the last x label: a month's label centred on its tick near the end
    # of a date axis would otherwise be cut off at the chart's edge ("2026-1").
    spec: dict[str, Any] = {
        "$schema": SCHEMA,
        "padding": {"left": 5, "top": 5, "bottom": 5, "right": RIGHT_PAD},
    }
    title = _title_text(layout.get("title"))
    if title or subtitle:
        text: str | dict[str, str] = title or ""
        if title and len(state.panels) <= 1:  # a faceted chart has no width of its own to test
            text = _fitted_title(title)
        spec["title"] = {"text": text, "anchor": "start", "subtitle": subtitle or ""}
        spec["description"] = title or ""  # the title as one text, for screen readers
    config: dict[str, Any] = {
        "view": {"stroke": None},
        "axis": {
            "gridColor": "#eceff3",
            "domainColor": "#bbb",
            "tickColor": "#bbb",
            "labelColor": "#444",
            "labelLimit": LABEL_LIMIT,
            "titleFontWeight": "normal",
            "titleColor": "#444",
        },
        "axisX": {"grid": False},
        "title": {
            "fontSize": TITLE_SIZE,
            "fontWeight": "normal",
            "subtitleFontSize": 10,
            "subtitleColor": "#888",
        },
        "legend": {"labelFontSize": 12, "symbolSize": 80},
    }
    if font:
        config["font"] = font
    spec["config"] = config
    spec["data"] = {"values": state.rows}
    if len(state.panels) > 1:
        titles = _panel_titles(state)
        spec["facet"] = {
            "column": {
                "field": "panel",
                "type": "nominal",
                "sort": state.panels,
                "title": None,
                "header": {"labelExpr": _panel_expr(titles), "labelFontSize": 13},
            }
        }
        spec["spec"] = {"layer": state.layers, "width": FACET_WIDTH, "height": max(120, height - 160)}
        spec["resolve"] = {"axis": {"x": "independent"}}
    else:
        spec["layer"] = state.layers
        spec["height"] = height
    return spec


def _fitted_title(title: str) -> str | dict[str, str]:
    """The title on one line where it fits the chart's width, else on two (a phone's width cuts a
    long title off with "…"): broken before its period in brackets, or at the space or character
    nearest its middle."""
    needed = _text_width(title, TITLE_SIZE)
    if needed <= MIN_TITLE_WIDTH:
        return title
    cut = next((i for i, c in enumerate(title) if c in "（(" and i > 0), None)
    if cut is None:
        spaces = [i for i, c in enumerate(title) if c == " "]
        middle = len(title) // 2
        cut = min(spaces, key=lambda i: abs(i - middle)) if spaces else middle
    first, second = title[:cut].rstrip(), title[cut:].lstrip()
    lines = f"['{_quote(first)}', '{_quote(second)}']"
    return {"expr": f"width < {needed} ? {lines} : '{_quote(title)}'"}


def _panel_expr(titles: Mapping[str, str]) -> str:
    # The panel field holds plotly's axis names (x, x2, ...); the header shows their titles.
    parts = [f"datum.value === '{axis}' ? '{_quote(text)}'" for axis, text in titles.items()]
    return " : ".join([*parts, "''"]) if parts else "datum.value"


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")
