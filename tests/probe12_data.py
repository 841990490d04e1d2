"""Truth probe 12's two stores, as their DMS exports them: work orders as a GB18030 CSV, callbacks as an
XLSX workbook, then a corrected callback export (one score the DMS fixed afterwards).

南山店 has work orders from 2024-01-05 to 2025-04-08; 福田店 only March 2025 (a store with one month of
data). Advisor 李明 worked at 南山店 until 2024-12 and at 福田店 in March 2025. Every background month
(2024-01 to 2025-01) has the same four visits (days 5, 12, 20 and the month's last day, 2024-02-29
included) and their 3DC calls the next day (scores 10, 6, 9, 8; recommend 10, 5, 9, 7); February and
March 2025 are written out one by one. The figures worked out by hand are in test_truth_probe12.py.
"""

from __future__ import annotations

import calendar
import csv
import io

import openpyxl

from tests.excel_formats import typed

SOUTH, NORTH = "南山店", "福田店"
ORDER_HEADER = ["工单号", "门店", "车架号", "车牌号", "客户姓名", "联系电话", "车型", "进厂日期", "维修类型", "结算金额",
                "服务顾问", "是否预约"]  # fmt: skip
CALL_HEADER = ["回访编号", "工单号", "车架号", "门店", "回访类型", "回访日期", "回访人", "是否接通", "总体满意度",
               "推荐意愿", "服务态度", "维修质量", "维修时效", "收费合理", "环境", "客户意见", "是否投诉", "投诉类别",
               "投诉等级", "处理完成时间"]  # fmt: skip

ORDERS: list[list[str]] = []
CALLS: list[list[str]] = []


def vin(tag: str) -> str:
    """A 17-character VIN named by its tag."""
    return f"LSVTRUTH{tag.upper():0>9}"


def order(oid, store, tag, day, kind, amount, advisor, booked, model="轩逸"):  # fmt: skip
    ORDERS.append([oid, store, vin(tag), f"粤B{tag[-5:]:0>5}", f"车主{tag}", f"139{sum(map(ord, tag)) * 7919 % 10**8:08d}",
                   model, day, kind, amount, advisor, "是" if booked else "否"])  # fmt: skip


def call(cid, oid, tag, store, kind, when, reached, overall="", rec="", att="", qual="", time="", price="",
         env="", comment="", complaint="否", category="", level="", resolved=""):  # fmt: skip
    CALLS.append([cid, oid, vin(tag) if tag else "", store, kind, when, "赵敏", "接通" if reached else "未接通",
                  overall, rec, att, qual, time, price, env, comment, complaint, category, level, resolved])  # fmt: skip


def same(score: str) -> dict[str, str]:
    """Every dimension scored as the overall."""
    return {"att": score, "qual": score, "time": score, "price": score, "env": score}


# Background months: four visits each, called the next day (the month's last visit in the next month).
PATTERN = (  # day, type, amount, advisor, booked, overall, recommend
    (5, "定保", "500", "王芳", True, "10", "10"),
    (12, "一般维修", "800", "赵磊", False, "6", "5"),
    (20, "首保", "0", "李明", True, "9", "9"),
    (0, "定保", "450", "王芳", False, "8", "7"),  # 0: the month's last day
)
BACKGROUND = [(2024, m) for m in range(1, 13)] + [(2025, 1)]
for _y, _m in BACKGROUND:
    _last = calendar.monthrange(_y, _m)[1]
    for _i, (_d, _kind, _amount, _adv, _booked, _overall, _rec) in enumerate(PATTERN):
        _day = _d or _last
        _tag = f"{_y}{_m:02d}{_i}"
        _adv = "赵磊" if (_adv == "李明" and _y == 2025) else _adv  # 李明 left 南山店 after 2024-12
        order(f"NS{_tag}", SOUTH, _tag, f"{_y}-{_m:02d}-{_day:02d}", _kind, _amount, _adv, _booked)
        _cy, _cm, _cd = (_y, _m, _day + 1) if _d else ((_y + _m // 12, _m % 12 + 1, 1))
        call(f"C{_tag}", f"NS{_tag}", _tag, SOUTH, "三日回访", f"{_cy}-{_cm:02d}-{_cd:02d} 10:00", True, _overall,
             _rec, **same(_overall))  # fmt: skip

# fmt: off
# February 2025, 南山店. The car of 2024-06-05 (202406 0) comes back on 2025-03-01; the car of 2024-06-20
# (202406 2) goes to 福田店 on 2025-03-03.
order("NS2502a", SOUTH, "2502a", "2025-02-03", "定保", "600", "王芳", True)
order("NS2502b", SOUTH, "2502b", "2025-02-10", "一般维修", "1,200", "赵磊", False, "天籁")
order("NS2502c", SOUTH, "2502c", "2025-02-17", "一般维修", "900", "赵磊", False)
order("NS2502e", SOUTH, "2502e", "2025-02-24", "首保", "0", "王芳", True)
order("NS2502d", SOUTH, "2502d", "2025-02-28", "定保", "500", "王芳", False)
call("C2502a", "NS2502a", "2502a", SOUTH, "三日回访", "2025-02-04 10:00", True, "10", "10", **same("10"))
call("C2502b", "NS2502b", "2502b", SOUTH, "三日回访", "2025-02-11 10:00", True, "8", "8", att="8", price="6",
     comment="价格有点高")  # quality, time and environment not asked
call("C2502c", "NS2502c", "2502c", SOUTH, "三日回访", "2025-02-18 10:00", True, "4", "3", att="8", qual="4",
     time="6", price="8", env="8", comment="修了两次还没修好")
call("C2502e1", "NS2502e", "2502e", SOUTH, "三日回访", "2025-02-25 10:00", False)
call("C2502e2", "NS2502e", "2502e", SOUTH, "三日回访", "2025-02-26 10:00", False)
call("C2502e3", "NS2502e", "2502e", SOUTH, "三日回访", "2025-02-28 16:00", True, "9", "9", **same("8"))
call("C2502d", "NS2502d", "2502d", SOUTH, "三日回访", "2025-03-03 10:00", True, "8", "9", **same("8"))

# March 2025, 南山店.
order("NS2503a", SOUTH, "2024060", "2025-03-01", "定保", "550", "王芳", True)
order("NS2503b", SOUTH, "2503b", "2025-03-05", "一般维修", "1,500", "赵磊", False, "天籁")
order("NS2503c", SOUTH, "2503c", "2025-03-10", "钣喷", "3,000", "王芳", False, "奇骏")
order("NS2503d", SOUTH, "2503d", "2025-03-15", "定保", "480", "赵磊", True)
order("NS2503e", SOUTH, "2503e", "2025-03-20", "一般维修", "700", "王芳", False)
order("NS2503h", SOUTH, "2503h", "2025-03-25", "一般维修", "1,100", "赵磊", False, "天籁")
order("NS2503f", SOUTH, "2503f", "2025-03-28", "首保", "0", "赵磊", True)
order("NS2503g", SOUTH, "2503g", "2025-03-31", "定保", "520", "王芳", False)
order("NS2504a", SOUTH, "2504a", "2025-04-08", "一般维修", "300", "王芳", False)
call("C2503a", "NS2503a", "2024060", SOUTH, "三日回访", "2025-03-02 10:00", True, "10", "10", **same("10"),
     comment="服务很周到")
call("C2503b", "NS2503b", "2503b", SOUTH, "三日回访", "2025-03-06 10:00", True, "6", "6", att="8", qual="4",
     time="6", price="6", env="8", comment="异响没有修好", complaint="是", category="维修质量", level="2",
     resolved="2025-03-07 09:00")  # resolved after 23 h: within level 2's 48 h
call("C2503c", "NS2503c", "2503c", SOUTH, "三日回访", "2025-03-11 10:00", True, "2", "0", att="6", qual="4",
     time="2", price="2", env="6", comment="收费太贵，等了一整天", complaint="是", category="收费", level="1",
     resolved="2025-03-13 10:00")  # resolved after 48 h: past level 1's 24 h
call("C2503cx", "NS2503c", "2503c", SOUTH, "投诉回访", "2025-03-14 15:00", True, "4", "2",
     comment="退了部分费用，还是不太满意")  # the complaint's follow-up call: no survey
call("C2503d", "NS2503d", "2503d", SOUTH, "三日回访", "2025-03-16 10:00", True, "8", "", att="8", qual="8",
     time="8", price="8")  # recommend and environment left blank
call("C2503e1", "NS2503e", "2503e", SOUTH, "三日回访", "2025-03-21 10:00", False)
call("C2503e2", "NS2503e", "2503e", SOUTH, "三日回访", "2025-03-25 10:00", True, "9", "", **same("9"))
call("C2503h", "NS2503h", "2503h", SOUTH, "三日回访", "2025-03-26 10:00", True, "4", "4", att="4", qual="6",
     time="6", price="8", env="8", comment="服务顾问态度很差", complaint="是", category="服务态度", level="3")
call("C2503f", "NS2503f", "2503f", SOUTH, "三日回访", "2025-03-31 23:30", True, "7", "8", att="6", qual="8",
     time="8", price="8", env="8", comment="一般吧")
call("C2503g", "NS2503g", "2503g", SOUTH, "三日回访", "2025-04-04 10:00", True, "10", "10", **same("10"))

# March 2025, 福田店 (its only month). F05's overall score is corrected from 5 to 8 by a later export.
order("FT01", NORTH, "2024062", "2025-03-03", "定保", "600", "李明", True, "天籁")
order("FT02", NORTH, "FT02", "2025-03-08", "一般维修", "900", "李明", False, "天籁")
order("FT03", NORTH, "FT03", "2025-03-12", "定保", "500", "孙悦", True)
order("FT04", NORTH, "FT04", "2025-03-18", "首保", "0", "孙悦", True, "奇骏")
order("FT05", NORTH, "FT05", "2025-03-22", "一般维修", "1,300", "李明", False, "天籁")
call("CF01", "FT01", "2024062", NORTH, "三日回访", "2025-03-04 10:00", True, "9", "10", **same("9"))
call("CF02", "FT02", "FT02", NORTH, "三日回访", "2025-03-09 10:00", True, "8", "9", **same("8"))
call("CF03", "FT03", "FT03", NORTH, "三日回访", "2025-03-13 10:00", True, "6", "6", att="8", qual="8", time="4",
     price="8", env="6", comment="等待时间太长")
call("CF04", "FT04", "FT04", NORTH, "三日回访", "2025-03-19 10:00", True, "10", "10", **same("10"))
call("CF05", "FT05", "FT05", NORTH, "三日回访", "2025-03-23 10:00", True, "5", "7", att="8", qual="8", time="8",
     price="8", env="8")
call("CD01", "", "NEW01", NORTH, "交车七日回访", "2025-03-10 11:00", True, "10", "9", att="10",
     comment="销售顾问很热情")
call("CD02", "", "NEW02", NORTH, "交车七日回访", "2025-03-27 11:00", False)
# fmt: on
CORRECTED = {"CF05": {"总体满意度": "8"}}


def orders_csv() -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(ORDER_HEADER)
    writer.writerows(ORDERS)
    return buf.getvalue().encode("gb18030")


def calls_xlsx(corrected: bool = False) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "回访记录"
    sheet.append(CALL_HEADER)
    for row in CALLS:
        cells = list(row)
        for column, value in (CORRECTED.get(row[0], {}) if corrected else {}).items():
            cells[CALL_HEADER.index(column)] = value
        sheet.append([typed(cell) if cell else None for cell in cells])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
