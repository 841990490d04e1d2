"""The customer themes page: its view helpers on hand-made results, and the page through the entrypoint."""

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.domain import themes
from analytics.store import db
from tests.screen_charts import Chart, charts

APP = Path(__file__).resolve().parents[1] / "app.py"


def _theme(theme_id, n, share, trend_n, source="lexicon", new=False, rising=False, hotspot=None):
    entry = {
        "id": theme_id,
        "label_en": theme_id.title(),
        "label_zh": f"{theme_id}_zh",
        "source": source,
        "words": [],
        "n": n,
        "share": share,
        "trend": [],
        "trend_n": trend_n,
        "z": 0.0,
        "new": new,
        "rising": rising,
        "quotes": [],
    }
    if hotspot is not None:
        entry["hotspot"] = hotspot
    return entry


@pytest.fixture
def praise_result():
    """A praise month of 20 comments after two months of 10 and 0 comments."""
    return {
        "month": "2024-05",
        "side": "praise",
        "months": ["2024-03", "2024-04"],
        "months_n": [10, 0],
        "n_comments": 20,
        "n_contentless": 4,
        "n_other": 1,
        "themes": [
            _theme("attitude", 6, 0.3, [5, 0]),
            _theme("d:charging", 5, 0.25, [0, 0], source="discovered", new=True),
            _theme("car_wash", 6, 0.3, [1, 0], rising=True),
            _theme("d:ok", 2, 0.1, [1, 0], source="discovered"),
            _theme("d:misc", 1, 0.05, [0, 0], source="discovered"),
        ],
    }


def test_theme_bars_rank_themes_and_fold_small_discovered_ones(praise_result):
    bars = themes.theme_bars(praise_result)
    assert list(bars["id"]) == ["attitude", "car_wash", "d:charging", "small"]
    assert list(bars["n"]) == [6, 6, 5, 3]
    assert list(bars["themes"]) == [1, 1, 1, 2]
    assert list(bars["prior_n"]) == [5, 1, 0, 1]
    assert bars["prior_share"].tolist() == [0.5, 0.1, 0.0, 0.1]
    assert bars["share"].tolist() == pytest.approx([0.3, 0.3, 0.25, 0.15])
    assert bars.loc[3, ["label_en", "label_zh", "source"]].tolist() == [
        "Smaller discovered themes",
        "其他零星新主题",
        "discovered",
    ]
    assert bars["new"].tolist() == [False, False, True, False]
    assert bars["rising"].tolist() == [False, True, False, False]
    assert not bars["hotspot"].any()


def test_theme_bars_keep_every_theme_when_no_minimum(praise_result):
    bars = themes.theme_bars(praise_result, min_discovered_n=0)
    assert list(bars["id"]) == ["attitude", "car_wash", "d:charging", "d:ok", "d:misc"]


def test_theme_trend_gives_the_top_themes_share_month_by_month(praise_result):
    trend = themes.theme_trend(praise_result, top=2)
    rows = list(trend[["id", "month", "n", "total"]].itertuples(index=False, name=None))
    assert rows == [
        ("attitude", "2024-03", 5, 10),
        ("attitude", "2024-04", 0, 0),
        ("attitude", "2024-05", 6, 20),
        ("car_wash", "2024-03", 1, 10),
        ("car_wash", "2024-04", 0, 0),
        ("car_wash", "2024-05", 6, 20),
    ]
    shares = trend["share"].tolist()
    assert shares[0] == 0.5 and shares[2] == 0.3 and pd.isna(shares[1])


def test_theme_trend_starts_at_the_first_month_with_comments(praise_result):
    """The data's first month drew a trend "2023-05 to 2023-11" over six empty months before the data."""
    first_month = {**praise_result, "months_n": [0, 0], "themes": [_theme("attitude", 6, 0.3, [0, 0])]}
    trend = themes.theme_trend(first_month)
    assert trend["month"].tolist() == ["2024-05"]
    later = {**praise_result, "months_n": [0, 10], "themes": [_theme("attitude", 6, 0.3, [0, 5])]}
    assert themes.theme_trend(later)["month"].tolist() == ["2024-04", "2024-05"]


def test_hotspot_table_sets_every_seed_hotspot_against_complaints():
    result = {
        "themes": [
            _theme("price", 5, 0.5, [], hotspot=True),
            _theme("efficiency", 3, 0.3, [], hotspot=False),
            _theme("d:invoice", 2, 0.2, [], source="discovered", hotspot=False),
        ],
        "categories": [
            {"category": "收费问题", "n": 2, "share": 0.4, "aspect": "price", "hotspot": True},
            {"category": "其他", "n": 2, "share": 0.4, "aspect": None, "hotspot": False},
            {"category": "洗车", "n": 1, "share": 0.2, "aspect": "car_wash", "hotspot": True},
        ],
    }
    table = themes.hotspot_table(result)
    rows = list(table[["id", "hotspot", "comments", "complaints"]].itertuples(index=False, name=None))
    assert rows == [
        ("price", True, 5, 2),
        ("car_wash", True, 0, 1),
        ("lounge", True, 0, 0),
        ("meals", True, 0, 0),
        ("callback", True, 0, 0),
        ("appointment", True, 0, 0),
        ("efficiency", False, 3, 0),
        ("category:其他", False, 0, 2),
    ]
    # A category no aspect matches: named in English by the glossary (其他 → other), else as filed.
    assert table.loc[7, ["label_en", "label_zh"]].tolist() == ["other", "其他"]
    assert table.loc[2, "label_zh"] == "客休室/环境"
    result["categories"][1]["category"] = "某厂家专项"
    assert themes.hotspot_table(result).loc[7, ["label_en", "label_zh"]].tolist() == [
        "某厂家专项",
        "某厂家专项",
    ]


def test_praise_grid_pivots_the_board_busiest_advisor_first():
    board = pd.DataFrame(
        {
            "advisor": ["张三", "张三", "李四"],
            "advisor_n": [10, 10, 4],
            "theme": ["attitude", "car_wash", "car_wash"],
            "label_en": ["Service attitude", "Car wash", "Car wash"],
            "label_zh": ["服务态度", "洗车", "洗车"],
            "n": [3, 2, 2],
            "share": [0.3, 0.2, 0.5],
        }
    )
    grid = themes.praise_grid(board, "zh")
    assert grid.counts.to_dict("index") == {
        "张三": {"洗车": 2, "服务态度": 3},
        "李四": {"洗车": 2, "服务态度": 0},
    }
    assert list(grid.counts.columns) == ["洗车", "服务态度"]  # 4 car-wash praises against 3
    assert list(grid.advisor_n.items()) == [("张三", 10), ("李四", 4)]
    assert grid.shares.loc["李四", "洗车"] == 0.5
    assert list(themes.praise_grid(board, "en", max_themes=1).counts.columns) == ["Car wash"]


def _callback(con, callback_id, when, comment, overall=10.0):
    con.execute(
        "INSERT INTO callbacks (callback_id, callback_type, callback_date, reached, overall_score, comment, "
        "is_complaint, import_id) VALUES ($id, '3DC', $d, true, $s, $c, false, 1)",
        {"id": callback_id, "d": datetime.fromisoformat(when), "s": overall, "c": comment},
    )


def test_quotes_pass_over_near_repeats_and_grumbles(tmp_path):
    con = db.connect(tmp_path / "q.duckdb")
    comments = [
        "洗车洗得很干净，里外都干净",
        "洗车洗得很干净，里外都干净，谢谢",
        "洗车洗得很干净，里外都干净！",
        "洗车洗得很干净，就是休息室太吵了",
        "脚垫都帮忙洗了",
        "车洗得锃亮",
    ]
    for i, text in enumerate(comments):
        _callback(con, f"c{i}", f"2024-05-0{i + 1} 10:00", text)
    result = themes.monthly_themes(con, "2024-05", "praise", months_back=0)
    con.close()
    wash = next(t for t in result["themes"] if t["id"] == "car_wash")
    assert wash["n"] == 6
    assert len(wash["quotes"]) == 3
    assert "洗车洗得很干净，就是休息室太吵了" not in wash["quotes"]
    assert {"脚垫都帮忙洗了", "车洗得锃亮"} < set(wash["quotes"])


# ----------------------------------------------------------------------------- the page


def _open(lang):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("pages/themes.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _charts(at) -> list[Chart]:
    return charts(at)


def _quotes_shown(at):
    # A theme's comments are one block of quotes, one paragraph each.
    return [q for m in at.markdown if m.value.startswith("> ") for q in m.value.split("\n\n")]


@pytest.mark.parametrize(
    ("lang", "title", "complaint_tab"),
    [
        ("zh", "客户评价主题", "不满意与投诉"),
        ("en", "Customer themes", "Unsatisfied customers and complaints"),
    ],
)
def test_page_shows_themes_quotes_board_and_drill_down_in_both_languages(
    demo_env, lang, title, complaint_tab
):
    at = _open(lang)
    month = at.sidebar.selectbox(key="_w_month").value
    assert at.title[0].value == f"{title} · {month}"
    drawn = _charts(at)
    assert len(drawn) == 3  # themes, trend, praise board
    assert drawn[2].marks()[0] == "rect"  # the praise board: advisors by theme, counts in the cells
    assert len(_quotes_shown(at)) >= 3
    table = at.dataframe[-1].value
    assert len(table) > 0 and table["comment"].str.len().min() > 0
    assert any(month in c.value for c in at.caption)

    at.session_state["themes_tab"] = complaint_tab
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    drawn = _charts(at)
    assert len(drawn) == 3  # themes, trend, hotspots
    hotspots = drawn[2]  # horizontal bars: comments and filed complaints per hotspot
    assert hotspots.marks()[0] == "bar" and len(hotspots.series()) == 2
    assert any("★" in label for label in hotspots.encoding()["y"]["scale"]["domain"])
    assert len(at.dataframe[-1].value) > 0


def test_changing_the_month_changes_the_figures(demo_env):
    at = _open("en")
    select = at.sidebar.selectbox(key="_w_month")
    before_month = select.value
    before = _charts(at)
    before_captions = [c.value for c in at.caption]
    other = next(m for m in select.options if m != before_month)
    select.set_value(other).run()
    assert not at.exception, [e.message for e in at.exception]
    after = _charts(at)
    assert at.title[0].value == f"Customer themes · {other}"
    assert not after[0].rows.equals(before[0].rows)
    # The trend's months (a category axis) end at the month chosen.
    assert after[1].encoding()["x"]["scale"]["domain"][-1] == other
    assert before[1].encoding()["x"]["scale"]["domain"][-1] == before_month
    assert [c.value for c in at.caption] != before_captions
    # The default month's themes are fitted on its own window; another month is sorted into them.
    note = "sorted into them"
    assert not any(note in c for c in before_captions)
    assert any(note in c.value and before_month in c.value for c in at.caption)


def test_the_first_month_of_the_data_compares_with_no_month_before_it(demo_env):
    """On the data's first month the caption said "nothing is new or rising against the 6 months
    before" and the trend ran over six empty months before the data."""
    at = _open("en")
    select = at.sidebar.selectbox(key="_w_month")
    first = min(select.options)
    select.set_value(first).run()
    assert not at.exception, [e.message for e in at.exception]
    lead = next(c.value for c in at.caption if c.value.startswith(f"In {first},"))
    assert lead.endswith("no earlier month has comments to compare it with.")
    assert "" not in [c.value for c in at.caption]  # no empty caption under the trend
    assert _charts(at)[1].encoding()["x"]["scale"]["domain"] == [first]


def test_a_new_discovered_themes_badge_shows_its_words_as_text(demo_env, monkeypatch):
    """A discovered theme is named by customers' words, and its "new" badge drew them as
    Markdown: a label holding `[领奖](https://…)` became a link in the badge (attacker, round 5)."""
    import ui.data

    hostile = "[领奖](https://evil.example/x) **快**"
    load = ui.data.load

    def planted(name, **kwargs):
        result = load(name, **kwargs)
        if name == "themes.monthly" and kwargs.get("side") == "praise":
            result = {**result, "themes": [dict(t) for t in result["themes"]]}
            result["themes"][0].update(label_zh=hostile, label_en=hostile, new=True)
        return result

    monkeypatch.setattr(ui.data, "load", planted)
    at = _open("en")
    badges = [m.value for m in at.markdown if "badge[" in m.value]
    assert badges and any("领奖" in b for b in badges), badges
    for badge in badges:
        # No bold, no bare address to link, and no backslash shown: the badge escapes brackets itself.
        assert "https://" not in badge and "**快**" not in badge and "\\\\" not in badge, badge
