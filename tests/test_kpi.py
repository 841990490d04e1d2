"""KPI values on the hand-built fixture (tests/fixtures_kpi.py); every literal was worked out by hand."""

import json
from datetime import date

import pandas as pd
import pytest

from analytics import cli
from analytics.core.errors import UserError
from analytics.core.months import month_end, parse_month, shift_month
from analytics.domain import churn, kpi, schedule


def values(result):
    return {name: (k["value"], k["n"]) for name, k in result.items()}


def test_june_kpis_for_all_stores_match_the_hand_computed_values(kpi_con):
    assert values(kpi.month_kpis(kpi_con, "2024-06")) == {
        "visits": (5, 5),
        "revenue": (7500.5, 5),  # 500 + 1200 + 800 + 2000 + 3000.5
        "appointment_rate": (2 / 5, 5),  # O1, O3; O5's unknown booking is not a booking
        "coverage_3dc": (
            4 / 5,
            5,
        ),  # O1 at 0 days, O2 at 3 (unreached), O4 at 1, O5 at 3 in July; O3 at 4 misses
        "reach_rate": (5 / 7, 7),  # June 3DC attempts: cb01-cb07, unreached cb03 and cb06
        "satisfaction_rate": (3 / 5, 5),  # cb01 10, cb04 4, cb05 8, cb07 6, cb09 10; "other" cb10 excluded
        "nps": (40.0, 5),  # promoters cb01 cb05 cb09, detractor cb04, passive cb07
        "complaints": (6, 15),  # cb07, cb11-cb15 among 15 June callbacks
        "complaint_timeliness": (3 / 6, 6),  # cb07 23h59, cb13 47h of 48 default, cb14 exactly 72h
        "lost": (3, 37),  # VL1 (last visit D-365), VL4, VP1
        "at_risk": (5, 37),  # VL2, VD1, VD2 (default 180 d), VR2 (own 61 d), VS2 (schedule 75 d)
        "due_maintenance_return_rate": (2 / 4, 4),  # VD1 and VD4 back of VD1, VD3, VD4, VD5
    }


def test_store_filter_changes_every_figure_to_that_stores_share(kpi_con):
    assert values(kpi.month_kpis(kpi_con, "2024-06", ["A"])) == {
        "visits": (3, 3),
        "revenue": (2500.0, 3),
        "appointment_rate": (2 / 3, 3),
        "coverage_3dc": (2 / 3, 3),
        "reach_rate": (4 / 5, 5),
        "satisfaction_rate": (2 / 3, 3),
        "nps": (100 * 1 / 3, 3),
        "complaints": (3, 9),
        "complaint_timeliness": (1 / 3, 3),
        "lost": (2, 30),
        "at_risk": (3, 30),
        "due_maintenance_return_rate": (1.0, 1),
    }
    # The delivery callbacks of V6 (no order) belong to store B through V6's first order.
    assert values(kpi.month_kpis(kpi_con, "2024-06", ["B"])) == {
        "visits": (2, 2),
        "revenue": (5000.5, 2),
        "appointment_rate": (0.0, 2),
        "coverage_3dc": (1.0, 2),
        "reach_rate": (1 / 2, 2),
        "satisfaction_rate": (1 / 2, 2),
        "nps": (50.0, 2),
        "complaints": (3, 6),
        "complaint_timeliness": (2 / 3, 3),
        "lost": (1, 7),
        "at_risk": (2, 7),
        "due_maintenance_return_rate": (1 / 2, 2),
    }


def test_previous_month_and_last_year_values(kpi_con):
    assert values(kpi.month_kpis(kpi_con, "2024-05")) == {
        "visits": (20, 20),
        "revenue": (8000.0, 20),
        "appointment_rate": (0.5, 20),
        "coverage_3dc": (1.0, 20),
        "reach_rate": (1.0, 20),
        "satisfaction_rate": (0.95, 20),
        "nps": (100.0, 20),
        "complaints": (0, 20),
        "complaint_timeliness": (None, 0),
        # The base window of 2024-05-31 starts on 2022-06-02, before the first work order (2022-07-01):
        # no value (the counts would be VL3 and VL4 lost; VP1, VL1, VL2, VR2, VS2 at risk).
        "lost": (None, 33),
        "at_risk": (None, 33),
        "due_maintenance_return_rate": (0.0, 2),  # VS1 due 05-30, VD2 due 05-31, neither back
    }
    assert values(kpi.month_kpis(kpi_con, "2023-06")) == {
        "visits": (1, 1),
        "revenue": (600.0, 1),
        "appointment_rate": (1.0, 1),
        "coverage_3dc": (1.0, 1),
        "reach_rate": (1.0, 1),
        "satisfaction_rate": (1.0, 1),
        "nps": (100.0, 1),
        "complaints": (0, 1),
        "complaint_timeliness": (None, 0),
        "lost": (None, 3),  # base window from 2021-07-01: history too short
        "at_risk": (None, 3),
        "due_maintenance_return_rate": (None, 0),
    }


def test_empty_month_gives_none_values_and_zero_counts(kpi_con):
    result = kpi.month_kpis(kpi_con, "2022-01")
    assert {name: (k["value"], k["n"]) for name, k in result.items()} == {
        name: (None, 0) for name in kpi.KPI_NAMES
    }


def test_a_month_without_work_orders_has_no_due_maintenance_return_rate(kpi_con):
    """A store whose month of work orders was not imported: its due vehicles could not be seen coming
    back, and the overview showed 0.0%, "far below target", the month's worst figure."""
    first = date(2024, 6, 1)
    row = dict(kpi.counts_by_month(kpi_con, [first])[first])
    assert row["due"] > 0 and row["visits"] > 0
    row.update(visits=0, revenue=None, appointments=0, covered_3dc=0, returned=0)
    due_rate = kpi.kpis_from_counts(row)["due_maintenance_return_rate"]
    assert due_rate["value"] is None and due_rate["n"] == row["due"]


def test_month_kpis_carry_numerator_and_denominator(kpi_con):
    result = kpi.month_kpis(kpi_con, "2024-06")
    ok = {"provisional": False, "status": "ok", "needs_from": None, "reason": None}
    assert result["coverage_3dc"] == {"value": 0.8, "n": 5, "num": 4, "den": 5, **ok}
    assert result["nps"] == {"value": 40.0, "n": 5, "num": 2, "den": 5, **ok}
    assert result["complaint_timeliness"] == {"value": 0.5, "n": 6, "num": 3, "den": 6, **ok}


def test_vehicle_status_edges_of_the_base_and_lost_windows(kpi_con):
    frame = churn.vehicle_status(kpi_con, date(2024, 6, 30))
    rows = frame.set_index("vin")
    assert "VL3" not in rows.index  # only visit exactly D-730: outside (D-730, D]
    assert rows.loc["VL4", "status"] == "lost"  # D-729
    assert rows.loc["VL1", ["days_since", "status"]].tolist() == [365, "lost"]
    assert rows.loc["VL2", ["days_since", "status"]].tolist() == [364, "at_risk"]
    assert rows.loc["VR1", ["expected_interval_days", "interval_source", "status"]].tolist() == [
        91.0,
        "own",
        "active",
    ]
    assert rows.loc["VR2", ["expected_interval_days", "interval_source", "status"]].tolist() == [
        61.0,
        "own",
        "at_risk",
    ]
    assert rows.loc["VS1", ["expected_interval_days", "interval_source", "status"]].tolist() == [
        150.0,
        "schedule",
        "active",
    ]
    assert rows.loc["VS2", ["expected_interval_days", "overdue_ratio"]].tolist() == [75.0, 242 / 75]
    assert rows.loc["VD4", "expected_interval_days"] == 258.0  # floor(7500 / (2000 / 69))
    assert rows.loc["V1", ["expected_interval_days", "interval_source"]].tolist() == [180.0, "default"]
    assert frame["status"].value_counts().to_dict() == {"active": 29, "at_risk": 5, "lost": 3}
    assert list(frame.columns) == [
        "vin",
        "store",
        "last_visit",
        "days_since",
        "expected_interval_days",
        "interval_source",
        "overdue_ratio",
        "status",
    ]


def test_vehicle_status_at_risk_needs_more_than_one_and_a_half_intervals(kpi_con):
    rows = churn.vehicle_status(kpi_con, date(2024, 5, 31)).set_index("vin")
    assert rows.loc["VD1", ["days_since", "status"]].tolist() == [269, "active"]
    assert rows.loc["VD2", ["days_since", "status"]].tolist() == [270, "active"]


def test_due_vehicles_use_history_known_before_the_month(kpi_con):
    june = kpi.due_vehicles(kpi_con, "2024-06")
    assert june[["vin", "store", "due_date", "returned_on"]].astype(object).where(
        june.notna(), None
    ).values.tolist() == [
        ["VD1", "A", date(2024, 6, 1), date(2024, 7, 30)],  # back on the last day of the window
        ["VD3", "B", date(2024, 6, 13), None],  # 50 km/day: 150 days after 2024-01-15
        ["VD4", "B", date(2024, 6, 21), date(2024, 7, 5)],  # first maintenance, back at store A
        ["VD5", None, date(2024, 6, 12), None],  # known only from its 7DC on 2023-12-15
    ]
    # VM05 would have been due 2024-06-06 but came on 2024-05-05, so it is due in neither month.
    may = kpi.due_vehicles(kpi_con, "2024-05")
    assert may[["vin", "due_date", "returned_on"]].values.tolist() == [
        ["VD2", date(2024, 5, 31), None],
        ["VS1", date(2024, 5, 30), None],
    ]


def test_schedule_next_due_date_takes_the_earlier_of_km_and_days():
    assert schedule.next_due_date(date(2024, 1, 15), None, 50.0) == date(2024, 6, 13)
    assert schedule.next_due_date(date(2023, 9, 5), None, None) == date(2024, 6, 1)
    assert schedule.next_due_date(date(2023, 9, 5), None, 10.0) == date(2024, 6, 1)  # 750 days > 270
    assert schedule.next_due_date(None, date(2024, 1, 1), 2000 / 69) == date(2024, 6, 21)
    assert schedule.next_due_date(None, None, 50.0) is None
    assert [item.key for item in schedule.items()][:2] == ["engine_oil_filter", "air_filter"]


def test_report_adds_targets_and_comparisons(kpi_con):
    result = kpi.report(kpi_con, "2024-06")
    assert result["month"] == "2024-06"
    assert list(result["kpis"]) == list(kpi.KPI_NAMES)
    ok = {"status": "ok", "needs_from": None, "reason": None, "provisional": False}
    assert result["kpis"]["appointment_rate"] == {
        "value": 0.4,
        "n": 5,
        "target": [0.25, 0.30],
        **ok,
        "prev_month": 0.5,
        "prev_month_status": "ok",
        "prev_year": 1.0,
        "prev_year_status": "ok",
    }
    assert result["kpis"]["complaint_timeliness"] == {
        "value": 0.5,
        "n": 6,
        "target": [1.0, 1.0],
        **ok,
        "prev_month": None,
        "prev_month_status": "ok",
        "prev_year": None,
        "prev_year_status": "ok",
    }
    # June's base window starts on 2022-07-02, inside the data; May's and last June's do not.
    assert result["kpis"]["lost"] == {
        "value": 3,
        "n": 37,
        "target": None,
        **ok,
        "prev_month": None,
        "prev_month_status": "insufficient_history",
        "prev_year": None,
        "prev_year_status": "insufficient_history",
    }


def test_monthly_series_has_one_row_per_month_and_kpi(kpi_con):
    series = kpi.monthly_series(kpi_con, months=3, end_month="2024-06")
    assert len(series) == 3 * len(kpi.KPI_NAMES)
    visits = series[series["kpi"] == "visits"]
    assert visits["month"].tolist() == ["2024-04", "2024-05", "2024-06"]
    assert visits["n"].tolist() == [0, 20, 5]
    assert pd.isna(visits["value"].iloc[0])  # no visits in April: no value, not zero
    assert visits["value"].tolist()[1:] == [20, 5]
    sat = series[series["kpi"] == "satisfaction_rate"]
    assert sat["value"].tolist()[1:] == [0.95, 0.6]
    assert (
        kpi.monthly_series(kpi_con, ["B"], months=1, end_month="2024-06")
        .set_index("kpi")
        .loc["lost", "value"]
        == 1
    )


def test_report_command_prints_the_json_shape_of_the_issue(kpi_db_path, capsys):
    code = cli.main(["report", "--month", "2024-06", "--store", "A", "--json", "--db", str(kpi_db_path)])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["month"] == "2024-06"
    assert set(out["kpis"]) == set(kpi.KPI_NAMES)
    ok = {"status": "ok", "needs_from": None, "reason": None, "provisional": False}
    assert out["kpis"]["satisfaction_rate"] == {
        "value": 2 / 3,
        "n": 3,
        "target": None,
        **ok,
        "prev_month": 0.95,
        "prev_month_status": "ok",
        "prev_year": 1.0,
        "prev_year_status": "ok",
    }
    assert out["kpis"]["due_maintenance_return_rate"] == {
        "value": 1.0,
        "n": 1,
        "target": [0.6, 1.0],
        **ok,
        "prev_month": 0.0,
        "prev_month_status": "ok",
        "prev_year": None,
        "prev_year_status": "ok",
    }


def test_report_command_table_in_chinese_and_english(kpi_db_path, capsys):
    assert cli.main(["report", "--month", "2024-06", "--lang", "zh", "--db", str(kpi_db_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["指标", "数值", "样本量", "目标", "上月", "去年同期", "状态"]
    assert lines[7].split() == ["满意率", "60.0%", "5", "—", "95.0%", "100.0%"]
    assert cli.main(["report", "--month", "2024-06", "--lang", "en", "--db", str(kpi_db_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[4].split() == ["Appointment", "rate", "40.0%", "5", "≥", "25%", "50.0%", "100.0%"]
    assert lines[11].split() == ["Lost", "customers", "3", "37", "—", "—", "—"]
    assert lines[13].split() == ["Due-maintenance", "return", "rate", "50.0%", "4", "≥", "60%", "0.0%", "—"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--month", "2024-13"], "'2024-13' is not a month"),
        (["--month", "June"], "'June' is not a month"),
        (["--month", "2024-06", "--store", "C"], "Unknown store C; the stores in the data are: A, B."),
    ],
)
def test_report_command_refuses_bad_input_with_exit_2(kpi_db_path, capsys, argv, message):
    assert cli.main(["report", *argv, "--db", str(kpi_db_path)]) == 2
    assert message in capsys.readouterr().err


def test_report_command_without_database_exits_2(tmp_path, capsys):
    assert cli.main(["report", "--month", "2024-06", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert "There is no database" in capsys.readouterr().err
    assert not (tmp_path / "none.duckdb").exists()


def test_report_command_has_help(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["report", "--help"])
    assert exc.value.code == 0
    assert "--month YYYY-MM" in capsys.readouterr().out


def test_parse_month_rejects_other_forms():
    assert parse_month("2024-02") == date(2024, 2, 1)
    assert shift_month(date(2024, 1, 1), -12) == date(2023, 1, 1)
    assert month_end(date(2024, 2, 1)) == date(2024, 2, 29)
    with pytest.raises(UserError):
        parse_month("2024-6")


def test_one_thirteen_month_count_serves_report_and_series(kpi_con):
    counts = kpi.counts_by_month(kpi_con, kpi.overview_months("2024-06"), ["A"])
    assert list(counts)[0] == date(2023, 6, 1) and len(counts) == 13
    assert kpi.report(kpi_con, "2024-06", ["A"], counts=counts) == kpi.report(kpi_con, "2024-06", ["A"])
    shared = kpi.monthly_series(kpi_con, ["A"], end_month="2024-06", counts=counts)
    assert shared.equals(kpi.monthly_series(kpi_con, ["A"], end_month="2024-06"))


def test_kpis_waiting_for_data_after_the_data_end_are_provisional(kpi_con):
    # The fixture's last record is O6 on 2024-09-05.
    august = kpi.month_kpis(kpi_con, "2024-08")
    assert [name for name, k in august.items() if k["provisional"]] == ["due_maintenance_return_rate"]
    july = kpi.month_kpis(kpi_con, "2024-07")
    assert not any(k["provisional"] for k in july.values())  # return window ends 2024-08-30
    september = kpi.month_kpis(kpi_con, "2024-09")
    assert all(k["provisional"] for k in september.values())  # the month is not over in the data


def test_a_mis_keyed_odometer_reading_does_not_move_the_due_date(tmp_path):
    """A reading keyed with a digit too many (120,000 for 12,000) is no pace: the vehicle drives
    ~33 km a day (6,000 km in the 181 days since purchase), so it falls due 226 days after its
    maintenance, not 12 days after (7,500 km at the 619 km a day the raw readings would give)."""
    from analytics.ingest import load
    from analytics.store import db
    from tests import fixtures_kpi

    con = db.connect(tmp_path / "odo.duckdb")
    rows = [
        fixtures_kpi._order(
            "OK1", "A", "VK1", date(2023, 7, 1), "first_maintenance", mileage=6000, purchase=date(2023, 1, 1)
        ),
        fixtures_kpi._order(
            "OK2", "A", "VK1", date(2024, 1, 1), "maintenance", mileage=120000, purchase=date(2023, 1, 1)
        ),
        fixtures_kpi._order("OK3", "A", "VK2", date(2024, 9, 30), "repair"),  # the data reach September
    ]
    con.executemany(
        f"INSERT INTO service_orders ({', '.join(fixtures_kpi.ORDER_COLUMNS)}) "  # noqa: S608
        f"VALUES ({', '.join('?' * len(fixtures_kpi.ORDER_COLUMNS))})",
        rows,
    )
    load.refresh_derived(con)
    assert kpi.due_vehicles(con, "2024-01").empty
    august = kpi.due_vehicles(con, "2024-08")
    assert august[["vin", "due_date"]].values.tolist() == [["VK1", date(2024, 8, 14)]]
    con.close()
