"""Truth probe 13 (session 24): what reaches people without them opening a page (the monthly push by
e-mail and chat robot, its alerts, the deck), checked against figures worked out by hand from
DOMAIN.md, PRODUCT.md §2 and data/settings.toml for 东莞店's DMS files (tests/probe13_data.py), imported
through the real command.

By hand, 2024-12 (the data run to 2025-01-13, so every callback figure of December is final):

- satisfaction: 3 of 10 reached 3DC answers score 8 or more: 30.0%. The data start on 2024-01-03, so
  January's figures need data from 2024-01-01 and are no figure (status insufficient_history): the
  p-chart runs over 2024-02..2024-12, centre (10 × 9 + 3) / 110 = 84.5%, three-sigma limits
  0.845 ± 3 √(0.845 · 0.155 / 10) = 50.3% to 118.8%, cut at 100.0%. 30.0% is below: an alert, and a
  real one: the chance of 3 or fewer of 10 at 84.5% is 0.02%.
- complaint timeliness: the month's one complaint (level 2, 48 h) was resolved after 60 h: 0 of 1, 0.0%.
  The limits, centre 10/11, are 4.7% to 100.0% at n = 1, so 0.0% lies "outside" them; but one late
  complaint after ten timely ones happens by chance one time in eleven (9.1%), against the 0.135% a
  three-sigma limit stands for. Too few to judge: no alert.
- complaint comments: the six unsatisfied customers who said something, five about the bill (price) and
  one about the wait; in each of the six months before, one comment, about the wait. Price: 5 of 6,
  83.3%, against 0, 0, 0, 0, 0, 0 before (mean 0, SD 0): a spike, as the themes' own test agrees
  (0 of 6 against 5 of 6). One filed complaint.
- 2025-01, the month so far of a daily run (the data end on the 13th): 2 of 10 satisfied, 20.0%. Limits
  over 2024-02..2025-01: centre (93 + 2) / 120 = 79.2%, 0.792 ± 3 √(0.792 · 0.208 / 10) = 40.6% to
  117.7%: below, and 2 or fewer of 10 at 79.2% happens 0.01% of the time: an alert, said "so far".
- what drives dissatisfaction, 2024-10 to 2024-12 (30 answers, 9 unsatisfied): price is low (4) in all
  nine unsatisfied answers and in none of the 21 others: 100% against 0%, the strongest driver there is
  (relative risk unbounded; with half a case added to each count (9.5/10) / (0.5/22) = 41.8×).
  Timeliness is low for 3 unsatisfied and 3 satisfied: 3/6 = 50% against 6/24 = 25%, 2.0×.
- lost and at-risk customers need the active base's window from 2024-12-31 − 729 days = 2023-01-02: the
  data start on 2024-01-03, so no figure, and the summary says so as the deck and the report do.
- the one routine maintenance (2024-05-03, no odometer) falls due 270 days later, 2025-01-28: one vehicle
  due next month.
"""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pandas as pd
import pytest
from pptx import Presentation
from streamlit.testing.v1 import AppTest

from analytics import cli
from analytics.core import stats
from analytics.domain import satisfaction as sat
from analytics.reports import notify
from tests import probe13_data as data
from tests.local_servers import smtp_server, webhook_server

MONTH = "2024-12"
APP = Path(__file__).resolve().parents[1] / "app.py"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """The work orders and the callbacks, imported by the command."""
    folder = tmp_path_factory.mktemp("probe13")
    (folder / "维修工单.csv").write_bytes(data.orders_csv())
    (folder / "回访记录.csv").write_bytes(data.calls_csv())
    path = folder / "store.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANALYTICS_MODEL_DIR", str(folder / "models"))
        mp.setenv("ANALYTICS_SECRETS", "/dev/null")
        for name in ("维修工单.csv", "回访记录.csv"):
            assert cli.main(["import", str(folder / name), "--db", str(path)]) == 0
    return path


@pytest.fixture
def in_store(store, monkeypatch, tmp_path):
    monkeypatch.setenv("ANALYTICS_DB", str(store))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(tmp_path / "models"))
    return store


def _secrets(tmp_path: Path, smtp_port: int, hook_port: int) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nfrom = "dashboard@store.example"\n'
        'to = ["gm@store.example"]\nstarttls = false\n\n'
        f'[webhook]\nurl = "http://127.0.0.1:{hook_port}/cgi-bin/webhook/send?key=abc"\nkind = "wecom"\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_push_alerts_on_the_satisfaction_drop_and_not_on_one_late_complaint(
    in_store, tmp_path, capsys, lang
):
    # Found by this probe: the push alerted "Complaint timeliness is 0.0% (n=1), outside its control
    # limits 8.8%–100.0%" (one late complaint after eleven timely ones, January's among them) and titled
    # itself "[3 alerts]"; its limits for satisfaction counted January too (51.1%); and the price theme
    # was "83.3% of this month's complaints (5)" in a month of one filed complaint: five of the six
    # complaint comments (grumbles of unsatisfied customers), as the deck says.
    with smtp_server() as (smtp_port, mailbox), webhook_server() as (hook_port, posts):
        args = ["send", "--month", MONTH, "--lang", lang, "--no-model", "--secrets", str(_secrets(tmp_path, smtp_port, hook_port))]  # fmt: skip
        assert cli.main(args) == 0, capsys.readouterr().err
    msg = email.message_from_bytes(mailbox.messages[0]["data"], policy=email.policy.default)
    body = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    chat = posts.received[0][1]["markdown"]["content"]
    if lang == "en":
        subject = "[2 alerts] After-sales CS · 2024-12 · All stores"
        alerts = (
            "Alerts\n  Satisfaction rate is 30.0% (n=10), outside its control limits 50.3%–100.0%.\n"
            '  Complaint theme "Price and transparency" is 83.3% of this month\'s complaint comments (5 comments), '
            "above its recent months' mean plus two standard deviations (0.0%).\n\n"
        )
        lines = [
            "  · Satisfaction rate: 30.0% (n=10)\n",
            "  ✗ Complaint timeliness: 0.0% (n=1), target 100%\n",
            "  Vehicles due for maintenance next month: 1\n",
        ]
        timeliness_alert = "Complaint timeliness is"
    else:
        subject = "【2 项预警】 售后客服月报 · 2024-12 · 全部门店"
        alerts = (
            "预警\n  满意率为 30.0%（n=10），超出控制限 50.3%–100.0%。\n"
            "  投诉主题“价格/收费透明”占本月抱怨评价的 83.3%（5 条），高于近几个月均值加两倍标准差（0.0%）。\n\n"
        )
        lines = [
            "  · 满意率: 30.0% (n=10)\n",
            "  ✗ 投诉处理及时率: 0.0% (n=1)，目标 100%\n",
            "  下月到期保养车辆：1\n",
        ]
        timeliness_alert = "投诉处理及时率为"
    assert msg["Subject"] == subject
    assert alerts in body
    assert all(line in body for line in lines), body
    assert timeliness_alert not in body and timeliness_alert not in chat
    assert chat.startswith(f"### {subject}\n")
    assert all(f"> {line.strip()}\n" in chat for line in alerts.splitlines()[1:3])


@pytest.mark.parametrize(
    ("lang", "lost"),
    [
        ("en", "  · Lost customers: needs data from 2023-01-02 on (n=120)\n"),
        ("zh", "  · 流失客户: 需要 2023-01-02 起的数据 (n=120)\n"),
    ],
)
def test_the_summary_says_why_a_kpi_the_history_cannot_give_has_no_figure(in_store, capsys, lang, lost):
    # Found by this probe: the summary wrote "Lost customers: — (n=120)", a dash beside a count, where the
    # deck and the report say the figure needs data from 2023-01-02 on.
    assert cli.main(["send", "--month", MONTH, "--lang", lang, "--no-model", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert lost in out
    assert "— (n=120)" not in out


def _takeaways(path: Path) -> dict[int, str]:
    """The second text of each slide (its takeaway), by slide number."""
    out = {}
    for number, slide in enumerate(Presentation(str(path)).slides, start=1):
        texts = [s.text_frame.text for s in slide.shapes if s.has_text_frame and s.text_frame.text.strip()]
        out[number] = texts[1]
    return out


@pytest.mark.parametrize(
    ("lang", "complaints", "maintenance"),
    [
        (
            "en",
            "The commonest grumble is Price and transparency: 83% of complaint comments (n=5); 1 complaint was filed.",
            "1 vehicle falls due in 2025-01.",
        ),
        (
            "zh",
            "最常见的抱怨是价格/收费透明：占抱怨评价的 83%（n=5）；本月登记投诉 1 起。",
            "2025-01 将有 1 辆车到期保养。",
        ),
    ],
)
def test_the_deck_counts_one_complaint_and_one_vehicle_in_the_singular(
    in_store, tmp_path, lang, complaints, maintenance
):
    # Found by this probe: "1 complaints were filed" and "1 vehicles fall due in 2025-01".
    out = tmp_path / "deck.pptx"
    assert cli.main(["deck", "--month", MONTH, "--lang", lang, "--no-model", "--out", str(out)]) == 0
    takeaways = _takeaways(out)
    assert takeaways[4] == (
        "Satisfaction 30.0% (n=10) fell below the control limits around 85.0% (the month before: 90.0%): "
        "a real drop to investigate."
        if lang == "en"
        else takeaways[4]
    )
    assert takeaways[7] == complaints
    assert takeaways[9] == maintenance


def _series(rates: list[tuple[int, int, str]]) -> pd.DataFrame:
    months = [f"2024-{m:02d}" for m in range(1, len(rates) + 1)]
    return pd.DataFrame(
        {
            "month": months,
            "kpi": "due_maintenance_return_rate",
            "value": [None if s == "insufficient_history" else x / n for x, n, s in rates],
            "n": [n for _, n, _ in rates],
            "num": [x for x, _, _ in rates],
            "den": [n for _, n, _ in rates],
            "provisional": False,
            "status": [s for _, _, s in rates],
        }
    )


def test_control_limits_are_not_drawn_from_months_the_history_cannot_give():
    # Found by this probe: the months whose due vehicles the history cannot know (status
    # insufficient_history: kpi.monthly_series keeps their counts, with no value) set the limits. Nine
    # such months at 0 of 3 (the cars' earlier visits are not in the data) put the centre at 2/30, so
    # 2 of 3 in the month that counts "rose above 49.9%". With them left out, one month is too few.
    rates = [(0, 3, "insufficient_history")] * 9 + [(2, 3, "ok")]
    assert notify.kpi_limit_alerts(_series(rates), "2024-10") == []


def test_a_kpi_alert_needs_a_month_large_enough_to_judge():
    # The p-chart's three-sigma limits stand for a 0.135% chance on each side. Eleven months at 11 of 12
    # then 0 of 1: "below" the lower limit 8.8%, but one late complaint happens 8.3% of the time: no
    # alert. Eleven months at 90 of 100, then 6 of 12: a real drop (P = 0.0005%): an alert.
    small = pd.DataFrame(
        {"month": [f"2024-{m:02d}" for m in range(1, 13)], "kpi": "complaint_timeliness",
         "num": [1] * 11 + [0], "den": [1] * 11 + [1], "provisional": False, "status": "ok"}
    )  # fmt: skip
    assert notify.kpi_limit_alerts(small, "2024-12") == []
    large = small.assign(num=[90] * 11 + [6], den=[100] * 11 + [12])
    assert [a.subject for a in notify.kpi_limit_alerts(large, "2024-12")] == ["complaint_timeliness"]


@pytest.mark.parametrize(
    ("lang", "nps", "rate"),
    [
        (
            "en",
            "NPS fell from +80.0 to -40.0 (n=10); the drop comes equally from advisors 吴芳 and 周强 (50% each).",
            "Satisfaction rate fell from 90.0% to 30.0% (n=10); the drop comes equally from advisors 吴芳 and 周强 "
            "(50% each).",
        ),
        (
            "zh",
            "净推荐值 NPS从+80.0降至-40.0（n=10）；下降平均来自服务顾问“吴芳”、“周强”（各占 50%）。",
            "满意率从90.0%降至30.0%（n=10）；下降平均来自服务顾问“吴芳”、“周强”（各占 50%）。",
        ),
    ],
)
def test_a_change_two_advisors_carry_alike_names_both_in_the_push_and_the_deck(
    in_store, tmp_path, capsys, lang, nps, rate
):
    # Found by this probe. Each advisor had five of the ten callbacks in both months. Satisfied: 吴芳 5 → 2,
    # 周强 4 → 1, so each carries half of the 60-point drop (shift-share: 0.5 × −0.6 each); NPS: 吴芳 +100 →
    # −20, 周强 +60 → −60, half of the 120 points each. The push and the deck said "the drop comes mostly from
    # advisor 周强 (50% of it)" for satisfaction and "mostly from advisor 吴芳 (50% of it)" for NPS.
    assert cli.main(["send", "--month", MONTH, "--lang", lang, "--no-model", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"\n  {nps}\n  {rate}\n" in out
    deck = tmp_path / "deck.pptx"
    assert cli.main(["deck", "--month", MONTH, "--lang", lang, "--no-model", "--out", str(deck)]) == 0
    slide = Presentation(str(deck)).slides[2]
    block = next(s.text_frame.text for s in slide.shapes if s.has_text_frame and nps in s.text_frame.text)
    assert block.splitlines()[1:] == [nps, rate]


def test_a_segment_with_less_than_half_of_the_change_is_not_where_it_mostly_comes_from():
    item = {
        "kpi": "visits",
        "key": "kpi_fell",
        "params": {"before": 30, "after": 18, "n_after": 18},
        "source": {
            lang: {"by": "advisor", "label": "王芳", "share": 5 / 12, "tied": []} for lang in ("en", "zh")
        },
    }
    assert sat.describe_change(item, "en") == (
        "Service visits fell from 30 to 18 (n=18); the largest part of the drop comes from advisor 王芳 (42% of it)."
    )
    assert (
        sat.describe_change(item, "zh")
        == "进厂台次从30降至18（n=18）；下降中占比最大的是服务顾问“王芳”（占 42%）。"
    )


def test_one_alert_is_one_alert():
    # Found by this probe: "[1 alerts]".
    summary = notify.Summary(
        month=MONTH, stores=None, as_of=pd.Timestamp("2024-12-31").date(), report={"kpis": {}}, provisional={},
        changes=[], red_flags={}, lists={"follow_ups": 0, "churn_calls": 0, "due_next": 0},
        alerts=[notify.Alert("kpi_limits", "satisfaction_rate", 0.3, 0.503, 1.0, 10)],
    )  # fmt: skip
    assert notify.subject_line(summary, "en") == "[1 alert] After-sales CS · 2024-12 · All stores"
    assert notify.subject_line(summary, "zh") == "【1 项预警】 售后客服月报 · 2024-12 · 全部门店"


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        (
            "en",
            "Satisfaction rate so far this month is 20.0% (n=10), outside its control limits 40.6%–100.0%.",
        ),
        ("zh", "本月至今满意率为 20.0%（n=10），超出控制限 40.6%–100.0%。"),
    ],
)
def test_the_daily_alerts_only_run_on_the_month_so_far_can_alert_on_a_kpi(in_store, capsys, lang, line):
    # Found by this probe: the README's daily run (`send --month <this month> --alerts-only`) judged no
    # month that is not over, so it never raised a KPI alert: "2025-01: no alerts; nothing sent".
    assert (
        cli.main(["send", "--month", "2025-01", "--lang", lang, "--alerts-only", "--no-model", "--dry-run"])
        == 0
    )
    out = capsys.readouterr().out
    heading = "Alerts" if lang == "en" else "预警"
    assert f"\n{heading}\n  {line}\n\n" in out  # the one alert: 3DC coverage so far is not judged


@pytest.mark.parametrize(
    ("lang", "takeaway", "block"),
    [
        (
            "en",
            "No complaint comment with a theme in 2025-03; no callback of 2025-03 is in the data yet.",
            "Filed complaints by category\nNo callback of 2025-03 is in the data yet.",
        ),
        (
            "zh",
            "2025-03 没有可归类主题的抱怨评价；数据中尚无 2025-03 的回访。",
            "登记投诉按类别\n数据中尚无 2025-03 的回访。",
        ),
    ],
)
def test_the_deck_of_a_month_after_the_data_end_counts_no_complaints_it_cannot_see(
    in_store, tmp_path, lang, takeaway, block
):
    # Found by this probe: a deck for 2025-03 (the data end on 2025-01-13: a Monday push after a broken
    # nightly import) said "0 complaints were filed" and "No complaint filed this month", where its KPI
    # slide rightly shows no figure for complaints (no callback of the month).
    out = tmp_path / "deck.pptx"
    assert cli.main(["deck", "--month", "2025-03", "--lang", lang, "--no-model", "--out", str(out)]) == 0
    texts = [s.text_frame.text for s in Presentation(str(out)).slides[6].shapes if s.has_text_frame]
    assert takeaway in texts
    assert block in texts


def test_a_month_without_work_orders_sets_no_limit_of_the_return_rate():
    # Found by this probe: a month with no work order imported keeps its due cars (0 of 40 returned) but
    # has no return rate (kpi.kpis_from_counts); the limits still counted it as 0%: ten months at 6 of 10,
    # that month, then 10 of 10 made the centre 70/150 = 46.7% and the upper limit 94.0%: an alert. Without
    # it the centre is 70/110 = 63.6%, the upper limit 100%: 10 of 10 is inside.
    months = [f"{2024 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(1, 13)]
    rates = [(6, 10, 0.6)] * 10 + [(0, 40, None), (10, 10, 1.0)]
    series = pd.DataFrame(
        {"month": months, "kpi": "due_maintenance_return_rate", "value": [v for _, _, v in rates],
         "n": [n for _, n, _ in rates], "num": [x for x, _, _ in rates], "den": [n for _, n, _ in rates],
         "provisional": False, "status": "ok"}
    )  # fmt: skip
    assert notify.kpi_limit_alerts(series, "2024-12") == []


def test_a_theme_share_over_a_tiny_base_of_recent_comments_is_no_spike():
    # Found by this probe: the recent months held three complaint comments in all (one a month), none
    # about the bill; this month 5 of 100 are. Mean 0, SD 0: "above its recent months' mean plus two
    # standard deviations (0.0%)", an alert; but 0 of 3 against 5 of 100 is well within chance (the
    # themes' own rising test: z = 0.40, below 1.645), so the themes page does not flag it either.
    z = stats.two_proportion_z(5, 100, 0, 3)
    assert z is not None and round(z, 2) == 0.40
    theme = {"id": "price", "label_en": "Price", "label_zh": "价格", "n": 5, "share": 0.05, "z": round(z, 3),
             "trend": [None, None, None, 0.0, 0.0, 0.0], "trend_n": [0, 0, 0, 0, 0, 0]}  # fmt: skip
    assert notify.theme_spike_alerts({"themes": [theme]}) == []
    # The same month against three months of 40 comments each, none about the bill: z = 2.48, a spike.
    real = {**theme, "z": round(stats.two_proportion_z(5, 100, 0, 120) or 0.0, 3)}
    assert [a.subject for a in notify.theme_spike_alerts({"themes": [real]})] == ["price"]


@pytest.mark.parametrize(
    ("lang", "takeaway"),
    [
        (
            "en",
            "Price drives dissatisfaction most: 100.0% of customers who score it low are unsatisfied, against 0.0% "
            "of the others (41.8×, 2024-10 to 2024-12; n=30 responses, 9 with a low score).",
        ),
        (
            "zh",
            "收费合理是不满意的首要驱动因素：该项评分低的客户中 100.0% 不满意，其余客户仅 0.0%"
            "（41.8 倍，2024-10 至 2024-12；n=30 条回访，其中低分 9 条）。",
        ),
    ],
)
def test_a_dimension_every_unsatisfied_customer_scored_low_drives_dissatisfaction(
    in_store, tmp_path, lang, takeaway
):
    # Found by this probe: with no unsatisfied answer outside its low scores, price had no relative risk
    # (a division by 0%) and was left unranked; the deck said "Timeliness drives dissatisfaction most ...
    # (2.0×)".
    out = tmp_path / "deck.pptx"
    assert cli.main(["deck", "--month", MONTH, "--lang", lang, "--no-model", "--out", str(out)]) == 0
    assert _takeaways(out)[5] == takeaway


def test_the_satisfaction_page_says_how_it_rates_a_driver_no_one_else_is_unsatisfied_without(in_store):
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.session_state["lang"] = "en"
    at.query_params["month"] = MONTH
    at.run()
    at.switch_page("pages/satisfaction.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert {m.label: m.value for m in at.metric}["Main driver of dissatisfaction"] == "Price"
    driver = next(c.value for c in at.caption if c.value.startswith("Price best explains"))
    assert (
        "unsatisfied 100.0% of the time against 0.0% otherwise (relative risk 41.8×; n=30 responses, 9 with a low "
        "score); no one else was unsatisfied, so the relative risk adds half a case to each count" in driver
    )
