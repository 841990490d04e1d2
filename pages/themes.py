"""Customer themes: what satisfied customers praise and what the others complain of, by month."""

import pandas as pd
import streamlit as st

from analytics.core.config import settings
from analytics.domain import themes
from ui.auth import protect, protect_text
from ui.charts import export_name, show
from ui.data import load
from ui.formatting import plain
from ui.i18n import t
from ui.state import filters
from ui.themes_figures import bar_figure, hotspot_figure, pct, praise_figure, trend_figure
from ui.widgets import download_buttons, show_table

f = filters()
if f.month is None:
    st.title(t("nav.themes"))
    st.info(t("app.empty_db"))
    st.stop()

LABEL = "label_zh" if f.lang == "zh" else "label_en"
STORE = "-".join(f.stores) if f.stores else None


def listing(labels: list[str]) -> str:
    """Return labels joined the way the session's language lists them."""
    return t("themes.list_sep").join(labels)


def inline(label: str) -> str:
    """Return a theme label as it reads inside an English sentence (Price and… → price and…), as
    text for the Markdown of a caption (a discovered theme is named by customers' words)."""
    if f.lang == "en" and len(label) > 1 and label[0].isupper() and label[1].islower():
        label = label[0].lower() + label[1:]
    return plain(label)


def badge_text(label: str) -> str:
    """Return a theme label as text for a badge: a discovered theme is named by customers' words,
    and a badge draws Markdown (bold, a bare address as a link); it escapes its brackets itself."""
    return plain(label).replace("\\[", "[").replace("\\]", "]")


def counts_row(result: dict, side: str) -> None:
    """Show the month's comment counts, the contentless ones stated apart, and the new/rising badges."""
    themed = sum(theme["n"] for theme in result["themes"])
    months = len(result["months"])
    cols = st.columns(5 if side == "complaint" else 4)
    cols[0].metric(t("themes.comments", month=f.month), f"{result['n_comments']:,}", border=True)
    cols[1].metric(t("themes.themed"), f"{themed:,}", border=True)
    cols[2].metric(
        t("themes.contentless"),
        f"{result['n_contentless']:,}",
        help=t("themes.contentless_help"),
        border=True,
    )
    cols[3].metric(t("themes.other"), f"{result['n_other']:,}", help=t("themes.other_help"), border=True)
    if side == "complaint":
        cols[4].metric(
            t("themes.praise_only"),
            f"{result.get('n_praise_only', 0):,}",
            help=t("themes.praise_only_help"),
            border=True,
        )
    new = [theme[LABEL] for theme in result["themes"] if theme["new"]]
    rising = [theme[LABEL] for theme in result["themes"] if theme["rising"]]
    if not new and not rising:
        return
    good = side == "praise"
    with st.container(horizontal=True):
        if new:
            st.markdown(f"**{t('themes.new_badges')}**", help=t("themes.flag_help", months=months))
            for label in new:
                st.badge(badge_text(label), icon=":material/fiber_new:", color="green" if good else "red")
        if rising:
            st.markdown(f"**{t('themes.rising_badges')}**", help=t("themes.flag_help", months=months))
            for label in rising:
                st.badge(badge_text(label), icon=":material/trending_up:", color="blue" if good else "orange")


def bar_caption(bars: pd.DataFrame, result: dict, side: str) -> str:
    """Return one sentence saying the largest themes and what is new or rising."""
    named = bars[bars["id"] != themes.SMALL]
    if named.empty:
        return ""
    top = named.iloc[0]
    sentence = t(
        f"themes.{side}.lead",
        month=f.month,
        share=pct(top["share"]),
        total=f"{result['n_comments']:,}",
        label=inline(top[LABEL]),
        n=int(top["n"]),
    )
    rest = [
        t("themes.item_share", label=inline(r[LABEL]), share=pct(r["share"]))
        for _, r in named.iloc[1:3].iterrows()
    ]
    if rest:
        sentence += t("themes.then", rest=listing(rest))
    new = [inline(theme[LABEL]) for theme in result["themes"] if theme["new"]]
    rising = [inline(theme[LABEL]) for theme in result["themes"] if theme["rising"]]
    if new and rising:
        return sentence + t("themes.flags_both", new=listing(new), rising=listing(rising))
    if new:
        return sentence + t("themes.flags_new", labels=listing(new))
    if rising:
        return sentence + t("themes.flags_rising", labels=listing(rising))
    if not sum(result["months_n"]):
        return sentence + t("themes.flags_no_history")  # no month before it has comments
    return sentence + t("themes.flags_none", months=len(result["months"]))


def trend_caption(bars: pd.DataFrame, result: dict) -> str:
    """Return one sentence naming the top theme whose share moved most against the months before."""
    top = bars[bars["id"] != themes.SMALL].head(5)
    if top.empty or not sum(result["months_n"]):
        return ""
    row = top.loc[(top["share"] - top["prior_share"]).abs().idxmax()]
    return t(
        "themes.trend_caption",
        months=len(result["months"]),
        label=inline(row[LABEL]),
        now=pct(row["share"]),
        before=pct(row["prior_share"]),
        month=f.month,
        n=int(row["n"]),
        total=f"{result['n_comments']:,}",
    )


def quote_card(theme: dict, side: str) -> None:
    """Show one theme's label, size and three representative comments."""
    with st.container(border=True):
        head = t("themes.quote_head", label=theme[LABEL], n=theme["n"], share=pct(theme["share"]))
        if theme.get("hotspot"):
            head += " ★"
        st.markdown(f"**{plain(head)}**")
        good = side == "praise"
        if theme["new"]:
            st.badge(t("themes.new"), icon=":material/fiber_new:", color="green" if good else "red")
        elif theme["rising"]:
            st.badge(t("themes.rising"), icon=":material/trending_up:", color="blue" if good else "orange")
        # One block for the three comments (each its own quote): fewer elements for the browser to draw.
        said = [f"> {plain(protect_text(quote))}" for quote in theme["quotes"]]  # text, never a link
        if said:
            st.markdown("\n\n".join(said))


def quotes(bars: pd.DataFrame, result: dict, side: str) -> None:
    """Show three typical comments per theme, the smaller discovered themes folded in an expander."""
    st.subheader(t("themes.quotes_title"))
    by_id = {theme["id"]: theme for theme in result["themes"]}
    shown = [by_id[i] for i in bars["id"] if i != themes.SMALL]
    for start in range(0, len(shown), 3):
        for column, theme in zip(st.columns(3), shown[start : start + 3], strict=False):
            with column:
                quote_card(theme, side)
    small = [theme for theme in result["themes"] if theme["id"] not in set(bars["id"])]
    if small:
        with st.expander(t("themes.small_expander", k=len(small), n=sum(s["n"] for s in small))):
            for theme in small:
                quote_card(theme, side)


def drill_down(result: dict, side: str) -> None:
    """Let the user pick a theme and list the comments behind it, with CSV/XLSX download."""
    st.subheader(t("themes.drill_title"))
    options = {theme["id"]: (theme[LABEL], theme["n"]) for theme in result["themes"]}
    if result["n_other"]:
        options[themes.OTHER] = (t("themes.other"), result["n_other"])
    if result["n_contentless"]:
        options[themes.NONE] = (t("themes.contentless"), result["n_contentless"])
    if result.get("n_praise_only"):
        options[themes.PRAISE_ONLY] = (t("themes.praise_only"), result["n_praise_only"])
    if not options:
        return
    # Labels fixed now: AppTest calls format_func outside the run, where the language is unknown.
    shown_as = {i: t("themes.drill_option", label=label, n=n) for i, (label, n) in options.items()}
    choice = st.selectbox(
        t("themes.drill_choose"), list(options), format_func=shown_as.__getitem__, key=f"themes_drill_{side}"
    )
    frame = load("themes.comments", theme=choice, month=f.month, side=side, stores=f.stores)
    st.caption(t("themes.drill_caption", n=len(frame), month=f.month, label=plain(options[choice][0])))
    shown = ["callback_date", "store", "advisor", "overall_score", "comment"]
    if not f.stores or len(f.stores) < 2:
        shown.remove("store")
    headers = {
        "callback_id": t("themes.col_id"),
        "callback_date": t("themes.col_date"),
        "store": t("themes.col_store"),
        "advisor": t("themes.col_advisor"),
        "overall_score": t("themes.col_score"),
        "comment": t("themes.col_comment"),
    }
    show_table(
        protect(frame),
        key=f"themes_drill_table_{side}",
        column_order=shown,
        column_config={
            "callback_date": st.column_config.DatetimeColumn(
                headers["callback_date"], format="YYYY-MM-DD HH:mm"
            ),
            "store": st.column_config.TextColumn(headers["store"]),
            "advisor": st.column_config.TextColumn(headers["advisor"]),
            "overall_score": st.column_config.NumberColumn(headers["overall_score"], format="%.0f"),
            "comment": st.column_config.TextColumn(headers["comment"], width="large"),
        },
    )
    download_buttons(
        frame[list(headers)],
        export_name("themes", side, choice, f.month, STORE),
        key=f"themes_drill_dl_{side}",
        headers=headers,
    )


def praise_board() -> None:
    """Show the praise board (表扬榜): advisors by praised theme, for the morning meeting."""
    board = load("themes.by_advisor", month=f.month, stores=f.stores)
    if board.empty:
        st.info(t("themes.praise.board_empty", month=f.month))
        return
    grid = themes.praise_grid(board, f.lang)
    rows = [f"{advisor} ({n})" for advisor, n in grid.advisor_n.items()]
    fig = praise_figure(grid, rows)
    show(
        fig,
        export_name("themes", "praise-board", f.month, STORE),
        title=t("themes.praise.board_title", month=f.month),
    )
    top_advisor = str(grid.advisor_n.index[0])
    top_counts = grid.counts.loc[top_advisor]
    st.caption(
        t(
            "themes.praise.board_caption",
            advisor=plain(protect_text(top_advisor)),
            month=f.month,
            n=int(grid.advisor_n.iloc[0]),
            label=inline(str(top_counts.idxmax())),
            k=int(top_counts.max()),
        )
    )
    download_buttons(
        board[["advisor", "advisor_n", LABEL, "n", "share"]],
        export_name("themes", "praise-board", f.month, STORE),
        key="themes_board_dl",
        aggregate=True,
        headers={
            "advisor": t("themes.col_advisor"),
            "advisor_n": t("themes.col_advisor_n"),
            LABEL: t("themes.col_theme"),
            "n": t("themes.col_n"),
            "share": t("themes.col_share"),
        },
    )


def hotspots(result: dict) -> None:
    """Show the seeds' complaint hotspots against the month's complaint comments and categories."""
    table = themes.hotspot_table(result)
    labels = [
        f"{label} ★" if hot else str(label) for label, hot in zip(table[LABEL], table["hotspot"], strict=True)
    ]
    fig = hotspot_figure(table, labels)
    show(
        fig,
        export_name("themes", "complaint-hotspots", f.month, STORE),
        title=t("themes.complaint.hotspots_title", month=f.month),
    )
    hot = table[table["hotspot"]]
    total_flagged = sum(int(c["n"]) for c in result.get("categories", []))
    if int(hot["comments"].sum()) == 0:
        st.caption(t("themes.complaint.hotspots_none", month=f.month, tf=total_flagged))
        return
    largest = hot.loc[hot["comments"].idxmax()]
    st.caption(
        t(
            "themes.complaint.hotspots_caption",
            hc=int(hot["comments"].sum()),
            tc=result["n_comments"],
            share=pct(hot["comments"].sum() / result["n_comments"]),
            hf=int(hot["complaints"].sum()),
            tf=total_flagged,
            month=f.month,
            label=inline(largest[LABEL]),
            n=int(largest["comments"]),
        )
    )


def hidden(result: dict) -> None:
    """Show satisfied customers' complaining clauses (hidden complaints) by aspect, as plain text."""
    found = result.get("hidden") or []
    st.subheader(t("themes.hidden.title", month=f.month))
    if not found:
        st.caption(t("themes.hidden.none", month=f.month))
        return
    st.caption(t("themes.hidden.caption", n=sum(h["n"] for h in found)))
    for start in range(0, len(found), 3):
        for column, entry in zip(st.columns(3), found[start : start + 3], strict=False):
            with column, st.container(border=True):
                st.text(t("themes.hidden.head", label=entry[LABEL], n=entry["n"]))
                for quote in entry["quotes"]:
                    st.text(f"“{protect_text(quote)}”")


def worth(result: dict, side: str) -> None:
    """Show what each theme is worth in satisfaction-rate and NPS points, ranked by gain or cost."""
    table = themes.impact_table(result, f.lang)
    if table.empty:
        return
    st.subheader(t(f"themes.impact.{side}_title", month=f.month))
    st.caption(t(f"themes.impact.{side}_caption"))
    show_table(
        table,
        key=f"themes_impact_{side}",
        column_order=["label", "n", "rate", "rate_low", "rate_high", "nps", "nps_low", "nps_high"],
        column_config={
            "label": st.column_config.TextColumn(t("themes.impact.col_theme")),
            "n": st.column_config.NumberColumn(t("themes.impact.col_n"), format="%d"),
            "rate": st.column_config.NumberColumn(t("themes.impact.col_rate"), format="%+.2f"),
            "rate_low": st.column_config.NumberColumn(t("themes.impact.col_low"), format="%+.2f"),
            "rate_high": st.column_config.NumberColumn(t("themes.impact.col_high"), format="%+.2f"),
            "nps": st.column_config.NumberColumn(t("themes.impact.col_nps"), format="%+.2f"),
            "nps_low": st.column_config.NumberColumn(t("themes.impact.col_low"), format="%+.2f"),
            "nps_high": st.column_config.NumberColumn(t("themes.impact.col_high"), format="%+.2f"),
        },
    )


def side_tab(side: str) -> None:
    """Draw one side (praise or complaint) of the month: counts, themes, trend, quotes, drill-down."""
    result = load("themes.monthly", month=f.month, side=side, stores=f.stores)
    if not result["n_comments"]:
        st.info(t(f"themes.{side}.empty", month=f.month))
        return
    counts_row(result, side)
    model_month = result.get("model_month") or f.month
    if model_month < f.month:  # the new month's themes are fitted after its import (``views.refit``)
        st.caption(t("themes.older_model", model_month=model_month, month=f.month))
    elif model_month != f.month or f.stores:
        st.caption(t("themes.model_note", model_month=model_month))
    bars = themes.theme_bars(result)
    if not bars.empty:
        show(
            bar_figure(bars, result, side, LABEL),
            export_name("themes", side, f.month, STORE),
            title=t(f"themes.{side}.bar_title", month=f.month),
        )
        caption = bar_caption(bars, result, side)
        if side == "complaint":
            caption += " " + t("themes.hotspot_mark")
        st.caption(caption)
        trend = themes.theme_trend(result)
        if not trend.empty and result["months"]:
            show(
                trend_figure(trend, LABEL),
                export_name("themes", side, "trend", f.month, STORE),
                title=t("themes.trend_title", start=trend["month"].min(), month=f.month),
            )
            if said := trend_caption(bars, result):
                st.caption(said)
    if side == "praise":
        praise_board()
    else:
        hotspots(result)
        hidden(result)
    worth(result, side)
    quotes(bars, result, side)
    drill_down(result, side)


st.title(t("themes.title", month=f.month))
st.caption(t("themes.intro", threshold=f"{settings().kpi.satisfied_threshold:g}", months=themes.MONTHS_BACK))
tab_praise, tab_complaint = st.tabs(
    [t("themes.tab_praise"), t("themes.tab_complaint")], key="themes_tab", on_change="rerun"
)
if tab_praise.open:
    with tab_praise:
        side_tab("praise")
if tab_complaint.open:
    with tab_complaint:
        side_tab("complaint")
