"""Truth probe 13's store, as its DMS exports it: 东莞店's work orders (a GB18030 CSV) and callbacks (a UTF-8 CSV
with BOM) from 2024-01 to 2025-01, the month 2024-12 being the one the monthly push reports.

Every month has ten repair visits (but one routine maintenance on 2024-05-03) on days 3 to 12 (the first three booked), each called the next day at
10:00 and reached. In 2024-01 to 2024-11 nine answer 9 (recommend 9) and the tenth answers 6
(recommend 5) with a level-2 complaint about the wait, resolved ten hours later (in time: 48 h). In
2024-12 three answer 9 and seven answer 6, five of them (the 4th to the 8th) saying the bill is too high;
the tenth's complaint is resolved after 60 hours (late).
2025-01 (the data end on its 13th, with the calls of its ten visits) has the usual complaint but only two
answers of 9, so every figure of 2024-12 is final and January is the month so far of a daily run. The figures worked out by hand
are in test_truth_probe13.py.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

STORE = "东莞店"
ORDER_HEADER = ["工单号", "门店", "车架号", "车牌号", "客户姓名", "联系电话", "车型", "进厂日期", "维修类型", "结算金额",
                "服务顾问", "是否预约"]  # fmt: skip
CALL_HEADER = ["回访编号", "工单号", "车架号", "门店", "回访类型", "回访日期", "回访人", "是否接通", "总体满意度",
               "推荐意愿", "服务态度", "维修质量", "维修时效", "收费合理", "环境", "客户意见", "是否投诉", "投诉类别",
               "投诉等级", "处理完成时间"]  # fmt: skip
MONTHS = [(2024, m) for m in range(1, 13)] + [(2025, 1)]
FOCUS = (2024, 12)
ROUTINE = (
    2024,
    5,
    0,
)  # the one routine maintenance: 2024-05-03, due again 270 days later (2025-01-28; no odometer)


def vin(tag: str) -> str:
    """A 17-character VIN named by its tag."""
    return f"LDGPROBE{tag:0>9}"


def comment(year: int, month: int, i: int) -> str:
    """The customer's words: the complaint is about the wait; in 2024-12 five more unsatisfied customers
    find the bill too high."""
    if i == 9:
        return "等待时间太长"
    return "收费太贵了" if (year, month) == FOCUS and 3 <= i <= 7 else ""


def dimensions(year: int, month: int, i: int, score: str) -> list[str]:
    """Attitude, quality, timeliness, price and environment. Before 2024-10 each as the overall score. From
    2024-10 on (the deck's three driver months of December): every unsatisfied customer scores the price 4
    and no satisfied one does; timeliness is 6 for three unsatisfied and three satisfied customers."""
    if (year, month) < (2024, 10):
        return [score] * 5
    unsatisfied = score == "6"
    slow = (year, month, i) in {
        (2024, 10, 9),
        (2024, 11, 9),
        (2024, 12, 3),
        (2024, 10, 0),
        (2024, 10, 1),
        (2024, 10, 2),
    }
    rest = "8" if unsatisfied else "9"
    return [rest, rest, "6" if slow else rest, "4" if unsatisfied else "9", rest]


def rows() -> tuple[list[list[str]], list[list[str]]]:
    """Return the work-order rows and the callback rows."""
    orders, calls = [], []
    for year, month in MONTHS:
        satisfied = {FOCUS: 3, (2025, 1): 2}.get((year, month), 9)
        for i in range(10):
            tag = f"{year}{month:02d}{i}"
            visit = datetime(year, month, 3 + i)
            orders.append([f"DG{tag}", STORE, vin(tag), f"粤S{tag[-5:]}", f"车主{tag}", f"1380000{tag[-4:]}", "轩逸",
                           visit.strftime("%Y-%m-%d"), "定保" if (year, month, i) == ROUTINE else "一般维修", "500", "周强" if i % 2 else "吴芳",
                           "是" if i < 3 else "否"])  # fmt: skip
            when = visit + timedelta(days=1, hours=10)
            score, rec = ("9", "9") if i < satisfied else ("6", "5")
            complaint = i == 9
            late = (year, month) == FOCUS
            resolved = when + timedelta(hours=60 if late else 10)
            calls.append([f"HF{tag}", f"DG{tag}", vin(tag), STORE, "3DC", when.strftime("%Y-%m-%d %H:%M"), "陈静", "接通",
                          score, rec, *dimensions(year, month, i, score),
                          comment(year, month, i), "是" if complaint else "否",
                          "时效" if complaint else "", "2" if complaint else "",
                          resolved.strftime("%Y-%m-%d %H:%M") if complaint else ""])  # fmt: skip
    return orders, calls


def _csv(header: list[str], body: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(body)
    return buf.getvalue()


def orders_csv() -> bytes:
    return _csv(ORDER_HEADER, rows()[0]).encode("gb18030")


def calls_csv() -> bytes:
    return _csv(CALL_HEADER, rows()[1]).encode("utf-8-sig")
