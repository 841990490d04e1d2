"""A fifth attacker round: each test makes an attack on a promise of the README through the code
path every caller goes through (the mask, the layout of every saved chart image). Each one that
broke the promise is named in its docstring, with what leaked."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from analytics.core import auth
from analytics.reports import chart_export

# --------------------------------------------------------------------------- masking in text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("座机0571-8888-6666，白天打", "座机057*****6666，白天打"),  # the number in two groups
        ("电话 (0571) 8888 6666", "电话 057*****6666"),
        ("北京010-6666-8888找王经理", "北京010****8888找王经理"),
        ("门店电话0571 888 6666", "门店电话057****6666"),  # a seven-digit number, 3-4
        ("家里+86 571 8888 6666", "家里057*****6666"),  # the country code, the area code's 0 left out
        ("家里0086-10-66668888", "家里010****8888"),
        ("身份证330106 1990 0101 123X", "身份证330***********123X"),  # an ID card in 6-4-4-4
        ("身份证330106-1990-0101-1234。", "身份证330***********1234。"),
    ],
)
def test_landlines_and_id_cards_written_in_groups_are_masked(text, masked):
    """The README promises landlines with their area code and resident ID card numbers masked for
    the roles that do not see phones. A landline was found only with its number in one run
    (0571-88886666): a customer who wrote it as people say it, 0571-8888-6666 or (0571) 8888 6666,
    or after +86, showed it in full to the manager in the theme quotes, the audit log and the
    deck. An ID card written 6-4-4-4 (330106 1990 0101 123X) was not seen as one, and the
    mobile pattern masked its middle instead, leaving the area, the birth year and the sequence."""
    assert auth.mask_text(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("电话0571.8888.6666找王经理", "电话057*****6666找王经理"),  # dots between the groups
        ("座机0571.88886666", "座机057*****6666"),
        ("座机０５７１．８８８８．６６６６", "座机057*****6666"),  # full-width, as an input method types
        ("座机0571·8888·6666", "座机057*****6666"),
        ("0571/88886666", "057*****6666"),
        ("0571_8888_6666", "057*****6666"),
        ("0571，8888，6666", "057*****6666"),
        ("0571*8888*6666", "057*****6666"),
        ("家里86 571 88886666", "家里057*****6666"),  # the country code without + or 00
        ("家里86-10-66668888", "家里010****8888"),
        # Not numbers of a person: dates, amounts, a mileage.
        ("2024.05.12 保养", "2024.05.12 保养"),
        ("收费 1,280.50 元，里程 12,345 公里", "收费 1,280.50 元，里程 12,345 公里"),
    ],
)
def test_landlines_set_apart_by_dots_slashes_or_a_bare_country_code_are_masked(text, masked):
    """Session 26's attack on the same promise: mobile numbers were masked with their groups set
    apart by dots, slashes, underscores, commas or asterisks (138.1234.5678), landlines only with
    spaces and dashes. 0571.8888.6666, 0571/88886666 and 86 571 88886666 reached the manager whole."""
    assert auth.mask_text(text) == masked


# --------------------------------------------------------------------------- saved chart images


HOSTILE = '<a href="https://evil.example/x">途观L</a>'


def _drawn_text(fig) -> str:
    """Return every piece of text plotly would draw for the figure: traces, axes, titles, notes."""
    return json.dumps(json.loads(fig.to_json()), ensure_ascii=False)


def test_the_decks_chart_images_mask_phones_and_draw_names_as_text(tmp_path: Path, monkeypatch):
    """`deck --images charts/` wrote every chart of the deck as PNG and SVG with the car models,
    advisors and stores as the data had them: a model typed `王先生13812345678` showed the number
    in full (the deck's own charts mask it) and a model written `<a href="https://…">途观L</a>`
    became a live link in the SVG. The footer naming the stores went in as it was too."""
    from analytics.reports.deck.images import write_chart_images
    from analytics.reports.deck.slides import Chart, Series, Slide

    drawn: list = []
    monkeypatch.setattr(chart_export, "render", lambda jobs: [drawn.append(fig) or b"" for fig, _ in jobs])
    chart = Chart(
        "due-by-model",
        "column",
        "下月到期车辆",
        ["王先生13812345678", HOSTILE, "A&B"],
        [Series("车辆 139-1234-5678", [3.0, 4.0, 1.0])],
        "#,##0",
    )
    slides = [Slide("title", "月度汇报", ""), Slide("maintenance", "保养", "", charts=[chart])]
    deck = SimpleNamespace(month="2026-10", stores=["西湖店13712345678"])

    write_chart_images(slides, deck, "zh", tmp_path)

    assert drawn
    for fig in drawn:
        shown = _drawn_text(fig)
        assert "13812345678" not in shown and "1234-5678" not in shown and "13712345678" not in shown
        assert "138****5678" in shown and "139****5678" in shown and "137****5678" in shown
        assert "<a " not in shown and "&lt;a href" in shown
        assert "A&amp;B" in shown  # escaped once: plotly shows "A&B"


def test_a_saved_page_chart_masks_and_escapes_the_stores_under_its_title():
    """A page's PNG/SVG carries the stores and the as-of date under its title (``scope_note``):
    a store typed `西湖店13812345678` was masked on the chart and in the file's name but came
    back whole in that line, and a store named `<a href=…>` became a link there. The figure's own
    data is escaped once, not twice, now that the layout escapes it (a page passes it as read)."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(y=["王工", HOSTILE], x=[3, 4], name="A&B", orientation="h"))
    laid_out = chart_export.for_export(
        fig, "满意率", "数据来源：DMS", f"西湖店13812345678、{HOSTILE} · 数据截至 2026-10-31"
    )
    shown = _drawn_text(laid_out)
    assert "13812345678" not in shown and "西湖店138****5678" in shown
    assert "<a " not in shown
    assert laid_out.layout.title.subtitle.text.startswith("西湖店138****5678、&lt;a href=")
    assert list(laid_out.data[0].y) == ["王工", '&lt;a href="https://evil.example/x"&gt;途观L&lt;/a&gt;']
    assert laid_out.data[0].name == "A&amp;B"


# --------------------------------------------------------------------------- names on the pages

STORE = "[领奖](https://evil.example/x) 西湖店13812345678"


@pytest.fixture
def roles_copy(demo_copy):
    return demo_copy


def _rename_stores(database: Path, where: str) -> None:
    from analytics.store import db

    con = db.connect(database)
    for table in ("service_orders", "callbacks", "vehicles"):
        con.execute(f"UPDATE {table} SET store = $store WHERE {where}", {"store": STORE})  # noqa: S608
    db.bump_data_version(con)
    con.close()


def test_a_single_stores_name_in_the_sidebar_is_text_and_masked_for_the_manager(roles_copy, with_accounts):
    """A dealer with one store sees its name in the sidebar ("Store: …"), drawn as Markdown as it
    came from the DMS: a store named `[领奖](https://evil.example/x)` became a link on every page,
    and a number typed into it showed in full to the manager, who sees no phone numbers."""
    from tests.signing_in import sign_in

    _rename_stores(roles_copy, "true")
    at = sign_in("wangqiang", page="pages/about.py")
    (line,) = [c.value for c in at.sidebar.caption if "西湖店" in c.value]
    assert "13812345678" not in line and "西湖店138\\*\\*\\*\\*5678" in line
    assert line.startswith("Store: \\[领奖\\](https\\://"), line  # escaped: Markdown draws no link


def test_store_names_chosen_in_the_sidebar_are_masked_for_the_manager(roles_copy, with_accounts):
    """With several stores the sidebar offers them by name, and the satisfaction page repeats the
    chosen ones in its first line: both showed a number typed into a store's name in full to the
    manager."""
    from tests.signing_in import sign_in

    _rename_stores(roles_copy, "hash(coalesce(vin, '')) % 2 = 0")
    at = sign_in("wangqiang", page="pages/satisfaction.py")
    stores = at.multiselect(key="_w_stores")
    assert any("西湖店138****5678" in option for option in stores.options), stores.options
    assert not [option for option in stores.options if "13812345678" in option]
    stores.select(STORE).run()
    assert not at.exception, [e.message for e in at.exception]
    shown = [c.value for c in at.caption if "西湖店" in c.value]
    assert shown and all("13812345678" not in s and "西湖店138\\*\\*\\*\\*5678" in s for s in shown), shown


# --------------------------------------------------------------------------- the drop folder


def test_a_dropped_file_swapped_for_a_link_after_the_listing_is_refused_not_read(tmp_path: Path):
    """The pass listed regular files only, then imported by path: a file swapped for a link between
    the listing and the read (round 5 left it open) imported whatever the link pointed to, here
    another store's export kept outside the drop folder. Now the file is read through a handle that
    follows no link, and the link is refused with its reason."""
    import shutil

    from analytics.services import watch
    from analytics.store import db

    drop = tmp_path / "drop"
    drop.mkdir()
    outside = tmp_path / "private" / "service.csv"
    outside.parent.mkdir()
    shutil.copy(Path(__file__).parent / "data" / "service_orders_gbk.csv", outside)
    (drop / "x.csv").symlink_to(outside)  # what the listing saw was a file; this is the swap
    con = db.connect(tmp_path / "w.duckdb")
    try:
        outcome = watch.process_file(con, drop / "x.csv", drop, lang="en")
        orders = con.execute("SELECT count(*) FROM service_orders").fetchone()[0]
    finally:
        con.close()
    assert outcome.status == watch.REFUSED and "link" in outcome.reason, outcome.reason
    assert orders == 0
    assert outside.is_file()  # the target stays where it was; the link went to refused/
