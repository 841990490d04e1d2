"""The fifteenth import probe (session 45): headers as other vendors write them, found by an outside
tester. Each test failed before its fix:
- a score column's header that names its scale (满意度(10分制), 推荐意愿(0-10分), 服务态度（满分10分）) was
  ignored: a month whose answers all fell within 1-5 was read on 1-5, every answer doubled, and an
  NPS of -100 stored as -25."""

from __future__ import annotations

import duckdb
import pytest

from analytics.ingest import import_file, mapping
from analytics.store import db


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "probe15.duckdb")
    yield connection
    connection.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _csv(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("gbk")


# A bad month of a 0-10 survey: every answer within 1-5, every recommend answer a detractor's.
LOW_MONTH = (
    "回访编号,工单号,回访日期,是否接通,满意度(10分制),推荐意愿(0-10分),服务态度（满分10分）\n"
    "C1,WO1,2024-03-05,是,5,5,5\n"
    "C2,WO2,2024-03-05,是,4,3,4\n"
    "C3,WO3,2024-03-06,是,3,2,3\n"
    "C4,WO4,2024-03-06,是,5,4,5\n"
)


def test_a_header_that_names_its_scale_decides_it(con):
    """Before: the scales were detected from the answers as 1-5, the answers stored doubled (5 as 10,
    3 as 6) and the month's NPS read -25 for -100."""
    result = import_file(con, _csv(LOW_MONTH), file_name="回访.csv")
    assert result.mapping["scales"] == {
        "overall_score": "0-10",
        "attitude_score": "0-10",
        "recommend_score": "0-10",
    }
    assert _rows(
        con, "SELECT callback_id, overall_score, recommend_score, attitude_score FROM callbacks ORDER BY 1"
    ) == [("C1", 5.0, 5.0, 5.0), ("C2", 4.0, 3.0, 4.0), ("C3", 3.0, 2.0, 3.0), ("C4", 5.0, 4.0, 5.0)]
    nps = _rows(
        con,
        "SELECT 100 * (avg((recommend_score >= 9)::int) - avg((recommend_score <= 6)::int)) FROM callbacks",
    )
    assert nps == [(-100.0,)]


def test_a_scale_the_mapping_gives_wins_over_the_headers(con):
    mapping = {"kind": "callback", "columns": {}, "scales": {"overall_score": "1-5"}}
    result = import_file(con, _csv(LOW_MONTH), file_name="回访.csv", mapping=mapping)
    assert result.mapping["scales"]["overall_score"] == "1-5"
    assert _rows(con, "SELECT overall_score FROM callbacks ORDER BY callback_id") == [
        (10.0,),
        (8.0,),
        (6.0,),
        (10.0,),
    ]


@pytest.mark.parametrize(
    ("header", "scale"),
    [
        ("满意度(10分制)", "0-10"),
        ("推荐意愿(0-10)", "0-10"),
        ("推荐意愿(0-10分)", "0-10"),
        ("推荐意愿（1～10分）", "0-10"),
        ("服务态度（满分10分）", "0-10"),
        ("满意度(10分)", "0-10"),
        ("十分制满意度", "0-10"),
        ("NPS (0-10)", "0-10"),
        ("Satisfaction (out of 10)", "0-10"),
        ("满意度(5分制)", "1-5"),
        ("满意度(满分5分)", "1-5"),
        ("满意度(1-5分)", "1-5"),
        ("满意度【5分】", "1-5"),
        ("满意度(百分制)", "0-100"),
        ("满意度(满分100分)", "0-100"),
        ("满意度", None),
        ("满意度(分)", None),
        ("满意度(15分制)", None),
        ("满意度(1-5分，折算10分制)", None),
    ],
)
def test_the_scale_a_header_names(header, scale):
    assert mapping.header_scale(header) == scale
