import io

import openpyxl
import pandas as pd

from analytics import export


def _frame():
    return pd.DataFrame(
        {
            "name": ["张三", '=HYPERLINK("x")', "+86 138", "-1+2", "@SUM(A1)", "\tx", "ok"],
            "amount": [1.5, -2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        }
    )


def test_csv_has_bom_and_neutralises_formulas_but_not_numbers():
    data = export.csv_bytes(_frame())
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig").splitlines()
    assert text[0] == "name,amount"
    assert text[1] == "张三,1.5"
    assert text[2] == '"\'=HYPERLINK(""x"")",-2.0'
    assert [line.split(",")[0] for line in text[3:7]] == ["'+86 138", "'-1+2", "'@SUM(A1)", "'\tx"]


def test_xlsx_neutralises_formulas_and_uses_given_headers():
    data = export.xlsx_bytes(_frame(), {"name": "客户姓名", "amount": "金额"})
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("客户姓名", "金额")
    assert rows[1] == ("张三", 1.5)
    assert rows[2] == ('\'=HYPERLINK("x")', -2.0)
    assert all(not str(r[0]).startswith(("=", "+", "-", "@")) for r in rows[1:])
