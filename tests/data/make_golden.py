"""Write the golden import files in tests/data/ (run: python tests/data/make_golden.py).

The files are committed; the tests read them and assert exact results. Junk files for the
refusal tests live in tests/data/junk/.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent

SERVICE_HEADER = [
    "门店", "工单号", "车架号", "车牌号", "客户姓名", "联系电话", "车型", "购车日期",
    "进厂日期", "进厂里程", "维修类型", "结算金额", "服务顾问", "是否预约",
]  # fmt: skip
SERVICE_ROWS = [
    ["城东店", "WO240301001", "LSVAU2A37N2183746", "沪A12345", "张伟", "13812345678", "朗逸", "2022/3/18",
     "2024/3/1", "5123", "首保", "0.00", "王磊", "是"],
    ["城东店", "WO240301002", "LFV2A21K7M3041122", "沪B66K88", "李娜", "13987654321", "速腾", "2021/7/2",
     "2024/3/1", "23,410", "定保", "1,280.00", "王磊", "否"],
    ["城东店", "WO240302003", "LSGPC52U9LF093321", "沪C1Q234", "王芳", "13700001111", "迈腾", "2020/11/20",
     "2024/3/2", "45,008", "一般维修", "3,456.50", "刘洋", "Y"],
    ["城东店", "WO240303004", "LVSHFFAL5KF554210", "沪D99821", "赵强", "13611112222", "帕萨特", "2019/5/8",
     "2024/3/3", "78,990", "索赔", "0", "刘洋", "N"],
    ["城东店", "WO240304005", "LSVNV4182M2098813", "沪E77S21", "孙丽", "15800002222", "途观L", "2021/12/30",
     "2024/3/4", "31,200", "钣喷", "8,900.00", "陈静", "否"],
    ["城东店", "WO240305006", "LSVAU2A37N2183746", "沪A12345", "张伟", "13812345678", "朗逸", "2022/3/18",
     "2024/3/5", "10,050", "常规保养", "880", "王磊", "是"],
    ["城东店", "WO240306007", "LFV3A23C1K3123456", "沪F55T09", "周杰", "18600003333", "宝来", "2019/9/9",
     "2024/3/6", "102,345", "三包", "￥150.00", "陈静", "0"],
    ["城东店", "WO240307008", "LGBH52E07KY112233", "沪G33M77", "吴敏", "13500004444", "探岳", "2022/1/15",
     "2024/3/7", "20,001", "洗车美容", "1,234.50", "刘洋", "1"],
]  # fmt: skip
# The corrected re-export: two amounts changed, one order added, and no advisor column.
CORRECTED_AMOUNTS = {"WO240301002": "1,380.00", "WO240304005": "9,100.00"}
ADDED_ROW = ["城东店", "WO240308009", "LSGPC52U9LF093321", "沪C1Q234", "王芳", "13700001111", "迈腾",
             "2020/11/20", "2024/3/8", "45,900", "维修", "2,000.00", "", "否"]  # fmt: skip

CALLBACK_HEADER = [
    "工单号", "车架号", "回访类型", "回访日期", "回访人", "是否接通", "总体满意度", "服务态度", "维修质量",
    "推荐意愿", "客户意见", "是否投诉", "投诉类别", "投诉等级", "结案时间",
]  # fmt: skip
CALLBACK_ROWS = [
    ["WO240301001", "LSVAU2A37N2183746", "三日回访", "2024/3/2 10:15", "小刘", "接通", "满意", "5", "90", "9",
     "服务态度很好，洗车干净", "否", "", "", ""],
    ["WO240301002", "LFV2A21K7M3041122", "3DC", "2024-03-03 14:30:00", "小刘", "已接通", "一般", "3", "70", "7",
     "等待时间有点长", "否", "", "", ""],
    ["WO240302003", "LSGPC52U9LF093321", "3DC", "2024/3/4 09:05", "小陈", "未接通", "", "", "", "",
     "", "", "", "", ""],
    ["WO240302003", "LSGPC52U9LF093321", "3DC", "2024/3/5 16:40", "小陈", "接通", "不满意", "2", "45", "3",
     "收费太贵，配件价格不透明", "是", "收费", "二级", "2024/3/6 11:40"],
    ["WO240303004", "LVSHFFAL5KF554210", "售后回访", "2024年3月4日 11:00", "小刘", "关机", "", "", "", "",
     "", "", "", "", ""],
    ["", "LSVNV4182M2098813", "七日回访", "2024/3/8 15:20", "小王", "接通", "非常满意", "5", "100", "10",
     "销售顾问专业，交车仪式很用心", "否", "", "", ""],
    ["WO240304005", "LSVNV4182M2098813", "3DC", "2024/3/6 10:00", "小王", "成功", "非常不满意", "1", "20", "0",
     "钣喷颜色不一致，要求返工", "是", "维修质量", "严重", "2024/3/8 18:30"],
    ["", "LGBH52E07KY112233", "新车回访", "2024/3/9 9:45", "小王", "无人接听", "", "", "", "",
     "", "", "", "", ""],
    ["WO240305006", "LSVAU2A37N2183746", "3DC", "2024/3/6 17:05", "小刘", "是", "比较满意", "4", "85", "8",
     "", "否", "", "", ""],
    ["WO240306007", "LFV3A23C1K3123456", "回访", "2024/3/7 13:10", "小陈", "接通", "满意", "4", "80", "9",
     "客休室舒适", "是", "客休室", "一级", "2024/3/7 20:10"],
]  # fmt: skip

BAD_SERVICE = [
    ["工单号", "车架号", "联系电话", "进厂日期", "维修类型", "结算金额", "进厂里程"],
    ["WO9001", "LSVAU2A37N2183746", "13812345678", "2024-05-01", "保养", "500.00", "12000"],
    ["", "LSVAU2A37N2183746", "13812345678", "2024-05-02", "保养", "300", "1000"],
    ["WO9003", "ABC123", "12345", "2023/2/30", "维修", "200", "5000"],
    ["WO9004", "XYZ", "999", "2024-05-03", "维修", "12x", "5000"],
    ["WO9005", "BADVIN", "000", "2024-05-04", "钣金", "1,000.00", "8000"],
    ["WO9001", "LSVAU2A37N2183746", "13812345678", "2024-05-01", "保养", "500.00", "12000"],
    ["WO9006", "LVSHFFAL5KF554210", "13611112222", "2024-05-05", "保养", "100", "2000"],
    ["WO9006", "LVSHFFAL5KF554210", "13611112222", "2024-05-05", "保养", "150", "2000"],
    ["WO9007", "", "", "", "首保", "0", "3000"],
]
BAD_CALLBACKS = [
    ["回访编号", "工单号", "车架号", "回访日期", "是否接通", "满意度"],
    ["CB001", "WO1", "", "2024-05-02 10:00", "接通", "5"],
    ["CB002", "WO2", "", "", "接通", "4"],
    ["CB003", "", "", "2024-05-02 11:00", "接通", "4"],
    ["CB004", "WO4", "", "2024-05-02 12:00", "打错了", "4"],
    ["CB001", "WO1", "", "2024-05-02 10:00", "接通", "3"],
    ["CB005", "WO5", "", "2024-05-03 09:00", "接通", "很好"],
    ["CB006", "", "LSVNV4182M2098813", "2024-05-03 10:00", "未接通", ""],
]


def _csv_line(cells: list[str]) -> str:
    return ",".join(f'"{c}"' if "," in c or '"' in c else c for c in cells)


def _csv(rows: list[list[str]]) -> str:
    return "\r\n".join(_csv_line(r) for r in rows) + "\r\n"


def _corrected_rows() -> list[list[str]]:
    advisor = SERVICE_HEADER.index("服务顾问")
    amount = SERVICE_HEADER.index("结算金额")
    out = []
    for row in [SERVICE_HEADER, *SERVICE_ROWS, ADDED_ROW]:
        row = list(row)
        if row[1] in CORRECTED_AMOUNTS:
            row[amount] = CORRECTED_AMOUNTS[row[1]]
        del row[advisor]
        out.append(row)
    return out


def _xlsx(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "工单"
    sheet.append(["XX店维修工单导出 2024年"])
    sheet.append([])
    sheet.append(["店名", "委托书号", "VIN", "车牌", "车主", "手机", "车系", "开票日期", "进站日期",
                  "行驶里程", "业务类型", "总金额", "接待顾问", "预约"])  # fmt: skip
    sheet.append(["城西店", "R2024040101", "LSVCC6A43NN012345", "沪H11111", "钱多多", 13300005555, "凌渡",
                  dt.date(2023, 4, 1), dt.datetime(2024, 4, 1, 9, 30), 8000, "首次保养", 0, "马丽", "Y"])  # fmt: skip
    sheet.append(["城西店", "R2024040202", "LFV2B25G3P5012399", "沪J22222", "冯巩", "13400006666", "揽境",
                  45000, dt.datetime(2024, 4, 2), 25678.0, "机修", 2350.75, "马丽", "N"])  # fmt: skip
    sheet.append(["城西店", "R2024040303", "LSGKB54H8NV123456", "沪K33333", "沈腾", "13500007777", "威然",
                  dt.date(2022, 8, 8), "2024-04-03", 41000, "事故车维修", 12800, "沈腾", "是"])  # fmt: skip
    sheet.append([])
    sheet.append(["城西店", "R2024040404", "LFV3A23C1K3654321", "沪L44444", "贾玲", "13600008888", "宝来",
                  None, dt.datetime(2024, 4, 4, 16, 0), 60500, "保修", 0, "沈腾", None])  # fmt: skip
    for row in (4, 5, 6, 8):
        sheet.cell(row=row, column=8).number_format = "yyyy-mm-dd"
        sheet.cell(row=row, column=9).number_format = "yyyy-mm-dd hh:mm"
    sheet.cell(row=5, column=8).number_format = "General"  # a serial number the DMS left unformatted
    book.properties.created = book.properties.modified = dt.datetime(2024, 4, 5, 8, 0)
    buffer = io.BytesIO()
    book.save(buffer)
    # Fixed timestamps inside the ZIP so that regenerating gives the same bytes.
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 4, 5, 8, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-04-05T08:00:00Z", data)
            target.writestr(fixed, data)


def main(out: Path = HERE) -> None:
    """Write every golden file into the folder (tests/data by default)."""
    (out / "service_orders_gbk.csv").write_bytes(_csv([SERVICE_HEADER, *SERVICE_ROWS]).encode("gbk"))
    (out / "service_orders_gbk_corrected.csv").write_bytes(_csv(_corrected_rows()).encode("gbk"))
    (out / "callbacks_bom.csv").write_bytes(_csv([CALLBACK_HEADER, *CALLBACK_ROWS]).encode("utf-8-sig"))
    (out / "service_orders_bad_rows.csv").write_text(_csv(BAD_SERVICE), encoding="utf-8")
    (out / "callbacks_bad_rows.csv").write_text(_csv(BAD_CALLBACKS), encoding="utf-8")
    _xlsx(out / "service_orders_titled.xlsx")

    junk = out / "junk"
    junk.mkdir(exist_ok=True)
    (junk / "empty.csv").write_bytes(b"")
    (junk / "header_only.csv").write_bytes(_csv([SERVICE_HEADER]).encode("gbk"))
    # A PNG named .csv and an HTML page named .xls: the content decides, not the name.
    (junk / "picture.csv").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
        b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    (junk / "report.xls").write_text(
        "<!DOCTYPE html>\n<html><body><table><tr><td>工单号</td><td>进厂日期</td></tr></table></body></html>\n",
        encoding="utf-8",
    )
    (junk / "no_key_columns.csv").write_text("名称,数量\n机油,3\n滤芯,2\n", encoding="utf-8")


if __name__ == "__main__":
    main()
