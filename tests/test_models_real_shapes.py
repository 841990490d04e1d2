"""Churn and maintenance on the shapes of a real store's data, not the demo's regular history: each
store is written as a DMS CSV and imported through the importer, then every churn and maintenance
read, command and page either gives a sensible result or says in one sentence what it lacks."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics import cli
from analytics.core.config import settings
from analytics.domain import churn, churn_model, facts, maintenance
from analytics.domain.maintenance.features import last_visit_date
from analytics.ingest import load
from analytics.services import reads
from analytics.store import db

APP = Path(__file__).resolve().parents[1] / "app.py"
AS_OF = dt.date(2026, 6, 30)
PROGRESS = re.compile(r"^\s*\d+% \w+$")  # the training's progress lines on stderr
HEADERS = ("工单号", "门店", "车架号", "车牌号", "客户姓名", "联系电话", "车型", "购车日期", "进厂日期",
           "进厂里程", "维修类型", "结算金额", "服务顾问", "是否预约")  # fmt: skip
CALLBACK_HEADERS = ("回访编号", "工单号", "车架号", "门店", "回访类型", "回访日期", "回访专员", "是否接通",
                    "总体满意度", "推荐意愿", "是否投诉")  # fmt: skip


def store_orders(
    n: int = 120, start: dt.date = dt.date(2024, 1, 1), end: dt.date = AS_OF, seed: int = 1
) -> list[dict]:
    """One store's work orders: cars on their own rhythm and pace, a third of them leaving early."""
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    for v in range(n):
        purchase = start - dt.timedelta(days=int(rng.integers(-200, 900)))
        pace, gap, loyal = float(rng.uniform(20, 60)), int(rng.normal(180, 30)), rng.random() < 0.7
        day = max(purchase + dt.timedelta(days=int(rng.integers(60, 200))), start + dt.timedelta(days=int(rng.integers(0, 120))))  # fmt: skip
        first = True
        while day <= end:
            kind = (
                "首保"
                if first and (day - purchase).days < 300
                else ("一般维修" if rng.random() < 0.15 else "定保")
            )
            rows.append({
                "order": f"W{v:04d}{day:%Y%m%d}", "vin": f"LVIN{v:013d}", "plate": f"浙A{v:05d}",
                "name": f"客户{v}", "phone": f"139{v:08d}", "model": ("轩逸", "天籁", "奇骏")[v % 3],
                "purchase": purchase, "day": day, "km": int((day - purchase).days * pace), "type": kind,
                "amount": round(float(rng.uniform(300, 2000)), 2), "advisor": ("王芳", "李强")[v % 2],
            })  # fmt: skip
            first = False
            if not loyal and rng.random() < 0.35:
                break
            day += dt.timedelta(days=max(30, int(rng.normal(gap, 25))))
    return rows


def _cell(value) -> str:
    return "" if value is None else value.strftime("%Y/%m/%d") if isinstance(value, dt.date) else str(value)


def import_store(folder: Path, orders: list[dict], callbacks: list[dict] | None = None) -> Path:
    """Write the orders (and callbacks) as DMS CSV files, import them through the importer; return the database."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    if orders:
        files.append(folder / "维修工单.csv")
        with open(files[-1], "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(HEADERS)
            for r in orders:
                fields = ("order", "vin", "plate", "name", "phone", "model", "purchase", "day", "km", "type")
                row = [_cell(r[f]) for f in fields]
                writer.writerow([row[0], "测试店", *row[1:], r["amount"], r["advisor"], "否"])
    if callbacks:
        files.append(folder / "回访记录.csv")
        with open(files[-1], "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(CALLBACK_HEADERS)
            for i, r in enumerate(callbacks):
                called = f"{r['day'] + dt.timedelta(days=1):%Y/%m/%d} 10:00"
                writer.writerow(
                    [f"CB{i:06d}", r["order"], r["vin"], "测试店", "3DC", called, "客服A", "接通", 9, 9, "否"]
                )
    path = folder / "store.duckdb"
    con = db.connect(path)
    try:
        for source, result in load.import_files(con, files):
            assert isinstance(result, load.ImportResult), (source, result)
            assert result.rejected == 0, result.reasons
    finally:
        con.close()
    return path


def _changed(rows: list[dict], **fields) -> list[dict]:
    return [{**r, **{k: f(i, r) for k, f in fields.items()}} for i, r in enumerate(rows)]


BASE = store_orders()
SHAPES = {
    "ten_months": store_orders(start=dt.date(2025, 9, 1)),
    "one_month": store_orders(start=dt.date(2026, 6, 1)),
    "gap": [r for r in BASE if not dt.date(2024, 9, 1) <= r["day"] < dt.date(2025, 12, 1)],
    "mileage_mostly_missing": _changed(BASE, km=lambda i, r: r["km"] if i % 10 == 0 else None),
    "odometer_backwards": _changed(BASE, km=lambda i, r: r["km"] // 10 if i % 4 == 0 else r["km"]),
    "no_purchase_date": _changed(BASE, purchase=lambda i, r: None),
    "purchase_after_visits": _changed(BASE, purchase=lambda i, r: r["purchase"] + dt.timedelta(days=900)),
    "future_typo": [
        *BASE,
        {**BASE[5], "order": "FUT1", "day": dt.date(2062, 5, 1)},
        {**BASE[9], "order": "FUT2", "day": dt.date(2062, 6, 3)},
    ],  # fmt: skip
    "warranty_only": _changed(BASE, type=lambda i, r: "索赔" if i % 2 else "三包"),
    "other_type_names": _changed(BASE, type=lambda i, r: ("首保", "二保", "定保", "钣喷", "事故车")[i % 5]),
    "one_visit_each": list({r["vin"]: r for r in BASE}.values()),
    "fleet_one_phone": _changed(
        BASE,
        phone=lambda i, r: "13900000000" if int(r["vin"][4:]) < 40 else r["phone"],
        name=lambda i, r: "某物流公司" if int(r["vin"][4:]) < 40 else r["name"],
    ),
    "two_phones": _changed(BASE, phone=lambda i, r: ("186" if i % 2 else "139") + r["phone"][3:]),
    "vin_under_two_plates": _changed(
        BASE, plate=lambda i, r: r["plate"] if i % 2 else "沪B" + r["plate"][2:]
    ),
    "one_model_in_a_month": _changed(
        BASE, model=lambda i, r: "轩逸" if f"{r['day']:%Y-%m}" == "2025-05" else r["model"]
    ),
}


@pytest.fixture(autouse=True)
def quick_training(monkeypatch, tmp_path):
    """Three maintenance training dates instead of twelve; fitted models in the test's own folder."""
    monkeypatch.setattr(settings().maintenance, "training_cutoffs", 3)
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(tmp_path / "models"))


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("real_shapes")
    built = {name: import_store(folder / name, rows) for name, rows in {"base": BASE, **SHAPES}.items()}
    built["callbacks_only"] = import_store(folder / "callbacks_only", [], callbacks=BASE[:50])
    return built


def _reads(path: Path) -> tuple[object, object]:
    con = db.connect(path, read_only=True)
    try:
        shot = reads.read(con, "churn.snapshot", as_of=AS_OF)
        for name, kwargs in (
            ("churn.history_gap", {"as_of": AS_OF}),
            ("churn.trend", {"as_of_dates": [dt.date(2025, 12, 31), AS_OF]}),
            ("churn.retention_curve", {"as_of": AS_OF}),
            ("churn.retention_rates", {"as_of": AS_OF}),
        ):
            reads.read(con, name, **kwargs)
        return shot, reads.read(con, "maintenance.snapshot", as_of=AS_OF)
    finally:
        con.close()


def _one_sentence(capsys, code: int) -> str:
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out
    assert code in (0, 2), out.err
    if code == 2:
        lines = [line for line in out.err.strip().splitlines() if not PROGRESS.match(line)]
        assert len(lines) == 1 and lines[0].startswith("error: "), out.err
    return out.out


@pytest.mark.parametrize("shape", [*SHAPES, "callbacks_only"])
def test_every_churn_and_maintenance_read_and_command_works_or_says_what_it_lacks(stores, shape, capsys):
    churned, maint = _reads(stores[shape])
    assert (churned.model is None) == bool(churned.model_note)
    if churned.model is not None:
        probability = churned.vehicles["churn_probability"]
        assert probability.between(0, 1).all() and probability.nunique() > 1  # not one number for every car
    assert (maint.model is None) == bool(maint.note)
    if maint.model is not None:
        assert len(maint.scores) == len(churned.vehicles)  # the same active base
        assert maint.scores[["p30", "p60", "p90"]].apply(lambda p: p.between(0, 1)).all().all()
    database = ["--db", str(stores[shape])]
    for args in (
        ["churn", "--as-of", AS_OF.isoformat(), "--json"],
        ["maintenance", "backtest"],
        ["maintenance", "score"],
    ):
        _one_sentence(capsys, cli.main([*args, *database]))


def _hand_counts(rows: list[dict], as_of: dt.date) -> dict[str, int]:
    """The active base (a visit in the last 730 days) and the lost (none in the last 365) by DOMAIN.md."""
    last = pd.DataFrame(rows).query("day <= @as_of").groupby("vin")["day"].max()
    base = last[last > as_of - dt.timedelta(days=730)]
    return {"base": len(base), "lost": int((base <= as_of - dt.timedelta(days=365)).sum())}


@pytest.mark.parametrize("shape", ["base", "gap", "future_typo", "vin_under_two_plates", "fleet_one_phone"])
def test_the_base_and_the_lost_match_a_count_by_hand(stores, shape):
    rows = BASE if shape == "base" else SHAPES[shape]
    churned, _ = _reads(stores[shape])
    counts = churned.counts()
    assert {k: counts[k] for k in ("base", "lost")} == _hand_counts(rows, AS_OF)
    assert churned.vehicles["vin"].is_unique  # one row per vehicle, whatever its plates or phones
    if shape == "fleet_one_phone":
        assert (churned.vehicles["phone"] == "13900000000").sum() == len(
            {
                r["vin"]
                for r in rows
                if r["phone"] == "13900000000" and r["day"] > AS_OF - dt.timedelta(days=730)
            }
        )


def test_a_visit_keyed_as_2062_neither_opens_the_pages_there_nor_trains_the_models_there(stores, capsys):
    con = db.connect(stores["future_typo"], read_only=True)
    try:
        months = facts.available_months(con)
        assert months[0] == "2062-06"  # still in the data, and in the data-quality findings
        assert (
            facts.default_month(months, facts.data_summary(con)["last_visit"], dt.date(2026, 12, 3))
            == "2026-06"
        )
        assert last_visit_date(con) == max(r["day"] for r in BASE)
    finally:
        con.close()
    churned, maint = _reads(stores["future_typo"])
    assert churned.model is not None and churned.model.as_of < dt.date(2027, 1, 1)
    assert maint.model is not None and maint.model.as_of < dt.date(2027, 1, 1)
    assert cli.main(["maintenance", "score", "--json", "--db", str(stores["future_typo"])]) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == max(r["day"] for r in BASE).isoformat()


def test_a_churn_model_too_small_to_rank_shows_no_backtest_instead_of_an_auc_of_one_half(stores, capsys):
    # 120 cars: the backtest's model learns from one date's hundred rows, fewer than two leaves of
    # 80, and gave every car the same probability (AUC 0.5, lifts read off the input order).
    churned, _ = _reads(stores["base"])
    assert churned.model is not None and churned.model.backtest is None
    assert "too few vehicles" in (churned.model.backtest_note or "")
    assert cli.main(["churn", "--as-of", AS_OF.isoformat(), "--json", "--db", str(stores["base"])]) == 0
    backtest = json.loads(capsys.readouterr().out)["backtest"]
    assert backtest == {"available": False, "reason": churned.model.backtest_note}


def test_no_maintenance_visit_at_all_says_so_instead_of_asking_for_more_months(stores, capsys):
    churned, maint = _reads(stores["warranty_only"])
    assert maint.model is None and "no maintenance visit" in (maint.note or "")
    assert "only_warranty_accident" in set(churned.vehicles["reason_codes"].map(churn.codes_of).explode())
    assert cli.main(["maintenance", "score", "--db", str(stores["warranty_only"])]) == 2
    assert "no maintenance visit" in capsys.readouterr().err


def test_months_without_work_orders_are_never_learnt_as_customers_staying_away(stores):
    con = db.connect(stores["gap"])
    try:
        gaps = facts.gap_months(con, AS_OF)
        assert (gaps[0][0], gaps[-1][1], len(gaps)) == (dt.date(2024, 9, 1), dt.date(2025, 11, 30), 15)
        # Every churn label year of this store meets the gap: no model rather than one taught that all left.
        with pytest.raises(churn_model.NotEnoughHistory, match="no visit from 2024-09-01 to 2025-11-30"):
            churn_model.fit(con, AS_OF)
        model = maintenance.fit(con, AS_OF)
    finally:
        con.close()
    for cutoff in [*model.cutoffs, *model.backtest.training_cutoffs]:
        assert not facts.overlaps_gap(cutoff, cutoff + dt.timedelta(days=90), gaps)
    # The backtest is on a date the model it scores never saw an outcome of.
    assert max(model.backtest.training_cutoffs) + dt.timedelta(days=90) <= model.backtest.cutoff


def test_the_backtests_score_dates_the_models_never_saw_the_outcome_of(stores):
    con = db.connect(stores["base"])
    try:
        model = maintenance.fit(con, AS_OF)
        churn_cutoffs = churn_model.training_cutoffs(dt.date(2024, 1, 1), dt.date(2025, 6, 30))
    finally:
        con.close()
    assert max(model.backtest.training_cutoffs) + dt.timedelta(days=90) <= model.backtest.cutoff
    assert model.backtest.cutoff + dt.timedelta(days=90) <= AS_OF
    assert max(churn_cutoffs) + dt.timedelta(days=365) <= dt.date(2025, 6, 30)


def _page(path: Path, page: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.mark.parametrize("shape", ["future_typo", "warranty_only", "one_month", "callbacks_only"])
def test_the_churn_and_maintenance_pages_open_on_every_shape(stores, shape, monkeypatch):
    for page in ("churn", "maintenance"):
        at = _page(stores[shape], page, monkeypatch)
        shown = " ".join(str(e.value) for e in [*at.warning, *at.info, *at.caption, *at.markdown])
        assert "2062" not in shown  # the typo's month is never the page's month
