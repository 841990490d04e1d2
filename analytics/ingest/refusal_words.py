"""A refused file's sentence in Chinese, from the parts ``read`` phrases it with.

``read`` refuses a file with "{name} {problem}; {remedy}." in English. Each problem and remedy is
written here in Chinese: a table for the fixed ones, and patterns for the ones holding numbers,
cells, lines, sheet names or column letters, which pass into the Chinese text as they are. A
part in brackets that names something of its own (what a non-table file is, where a wide row
is, why a .xls is damaged) is looked up in the same way. A part not written here gives no Chinese
sentence at all, so that the caller shows the English one whole rather than half translated;
tests/test_refusals_in_chinese.py finds every refusal in the code and checks it has its words.
"""

from __future__ import annotations

import re

from analytics.core import i18n

_N = r"[\d,]+"  # a number as the sentences write it: 1,234

_SAVE_AS = "请用 Excel 打开，另存为 .xlsx 或 CSV 格式，再导入另存的文件"
_SPLIT = "请把导出文件按月或按年拆成几个较小的文件"
_FROM_DMS = "请从 DMS 将记录导出为 CSV 或 XLSX 文件"
_AS_EXCEL = "请从 DMS 将记录导出为 Excel 或 CSV 文件"
_AGAIN = "请从 DMS 重新导出记录后导入该文件"

PROBLEMS: dict[str, str] = {
    "does not exist": "不存在",
    "is a folder, not a file": "是文件夹，不是文件",
    "is empty": "为空",
    "is not in a text encoding that can be read (UTF-8 or GBK expected)": "的文字编码无法识别（应为 UTF-8 或 GBK）",
    "is an XML document, not a table file": "是 XML 文档，不是表格文件",
    "is not a table (it looks like a binary file)": "不是表格（看起来是二进制文件）",
    "ends in the middle of a character: it was cut short (a copy that had not finished, or an export that "
    "stopped), so its last rows are missing": "在一个字符的中间就结束了：文件不完整（复制尚未完成，或导出中途停止），"
    "最后几行已缺失",
    "has a header row but no data rows": "只有表头，没有数据行",
    "is an Excel 97-2003 (.xls) file that is damaged": "是已损坏的 Excel 97-2003（.xls）文件",
    "is an Excel 97-2003 (.xls) file that cannot be opened": "是无法打开的 Excel 97-2003（.xls）文件",
    "is a ZIP file but not an Excel workbook that can be opened": "是 ZIP 压缩文件，但不是能打开的 Excel 工作簿",
    "is an Excel workbook whose sheets cannot be read": "是 Excel 工作簿，但其中的工作表无法读取",
    "is an empty ZIP archive, not an Excel workbook": "是空的 ZIP 压缩包，不是 Excel 工作簿",
    "needs more memory to read than this computer has free": "读取时所需的内存超过了这台电脑的可用内存",
    "is protected by a password": "设有密码保护",
    "is a Word document (.doc), not a table": "是 Word 文档（.doc），不是表格",
    "is an Office file (OLE2) but not an Excel workbook": "是 Office 文件（OLE2），但不是 Excel 工作簿",
    "is a web page (HTML) that cannot be read": "是无法读取的网页文件（HTML）",
    "is a web page (HTML) nested more than 256 tags deep, which no DMS export is": "是标签嵌套超过 256 层的网页文件"
    "（HTML），DMS 导出的文件不会这样",
    "is a web page (HTML) with a value or attribute over 10 MB (a picture embedded in the page?), which the "
    "reader does not take": "是网页文件（HTML），其中有超过 10 MB 的值或属性（可能嵌入了图片），无法读取",
    "is a web page (HTML) without a table": "是网页文件（HTML），但其中没有表格",
    "is an XML spreadsheet nested more than 256 tags deep, which no Excel export is": "是标签嵌套超过 256 层的 XML "
    "表格，Excel 导出的文件不会这样",
    "is an Excel 2003 XML spreadsheet without a worksheet": "是 Excel 2003 XML 表格，但其中没有工作表",
}

REMEDIES: dict[str, str] = {
    "open it in Excel and save it as .xlsx or CSV, then import that file": _SAVE_AS,
    "open it in Excel and save it as .xlsx, then import that file": "请用 Excel 打开，另存为 .xlsx 格式，再导入另存的文件",
    "split the export into smaller files (by month or year)": _SPLIT,
    "split the export into smaller files (by month or year), or raise max_rows in the [import] section of "
    "data/settings.toml": _SPLIT + "，或在 data/settings.toml 的 [import] 部分调高 max_rows",
    "open it in Excel or WPS, save it, and import the saved file": "请用 Excel 或 WPS 打开并保存，再导入保存后的文件",
    "check the file name and the folder, then try again": "请检查文件名和所在文件夹后重试",
    "name the exported CSV or XLSX file itself": "请指定导出的 CSV 或 XLSX 文件本身",
    "check its permissions": "请检查该文件的访问权限",
    "unzip it and import the files inside": "请先解压，再导入其中的文件",
    "close other programs and import it again, or split the export into smaller files (by month or year)": (
        "请关闭其他程序后重新导入，或" + _SPLIT[1:]
    ),
    "export the records again from the DMS and import that file": _AGAIN,
    "export the records from the DMS as CSV or XLSX": _FROM_DMS,
    "export the records from the DMS as Excel or CSV": _AS_EXCEL,
    "export it again, or wait until the copy has finished, and import the whole file": "请重新导出，或等复制完成后"
    "再导入完整的文件",
    'save it from Excel as "CSV UTF-8" or as .xlsx and import that file': "请在 Excel 中另存为“CSV UTF-8”或 .xlsx "
    "格式，再导入另存的文件",
    "delete the stray cells to the right of the table and import it again": "请删除表格右侧多余的单元格后重新导入",
    "check that it is the exported file itself and that its columns are separated by commas, tabs or "
    "semicolons, then import it again": "请确认这是导出的文件本身，且各列以逗号、制表符或分号分隔，然后重新导入",
    "check that it is the exported file itself, then import it again": "请确认这是导出的文件本身，然后重新导入",
    "check that it is the exported file and that its quotes are closed": "请确认这是导出的文件本身，且引号都已闭合",
    "delete the stray cells outside the table, or open it in Excel and save it as .xlsx, then import that "
    "file": "请删除表格以外多余的单元格，或用 Excel 打开并另存为 .xlsx 格式，再导入另存的文件",
    "check that it is a DMS export of work orders or callbacks, saved as CSV or XLSX": "请确认这是从 DMS 导出的"
    "工单或回访记录，并保存为 CSV 或 XLSX 格式",
    "remove that quote or close it, then import the file again": "请删除该引号或补上与之配对的引号，然后重新导入",
    "check the quotes in that row, then import the file again": "请检查该行的引号，然后重新导入",
    'remove that quote (or write it twice, "", inside a quoted cell), then import the file again': (
        '请删除该引号（若在带引号的单元格内，请写成两个引号 ""），然后重新导入'
    ),
    "export it again with the records included": "请重新导出，导出时包含数据记录",
    "delete the blank rows above the header and import it again": "请删除表头上方的空行后重新导入",
    "unhide the sheet in Excel (right-click a sheet tab, Unhide), save, and import it again": "请在 Excel 中取消隐藏"
    "该工作表（右键单击工作表标签，选择“取消隐藏”），保存后重新导入",
    "open it in Excel with the password, remove the password (File > Info > Protect Workbook) and save it, "
    "then import that file": "请在 Excel 中输入密码打开，删除密码（文件 > 信息 > 保护工作簿）并保存，再导入该文件",
    "export the records from the DMS without pictures, or as Excel or CSV": "请从 DMS 导出不含图片的记录，"
    "或导出为 Excel 或 CSV 文件",
}

# What a file that is no table is (read._SIGNATURES), where a row too wide is, why a .xls is
# damaged (biff) and what declares entities (markup): the parts in brackets.
PARTS: dict[str, str] = {
    "a PNG image": "PNG 图片",
    "a JPEG image": "JPEG 图片",
    "a GIF image": "GIF 图片",
    "a PDF document": "PDF 文档",
    "a gzip archive": "gzip 压缩包",
    "a RAR archive": "RAR 压缩包",
    "a 7-Zip archive": "7-Zip 压缩包",
    "a media file": "RIFF 音视频文件",
    "an icon image": "ICO 图标文件",
    "a web page (HTML)": "一个网页文件（HTML）",
    "an XML spreadsheet": "一份 XML 表格",
    "its header is cut short": "文件头不完整",
    "its header names an unknown layout": "文件头声明了未知的结构",
    "its header declares more sectors than the file holds": "文件头声明的扇区数多于文件实际所含",
    "its sector index loops or points outside the file": "扇区索引循环或指向文件之外",
    "its allocation table points outside the file": "分配表指向文件之外",
    "a chain of its sectors loops or points outside the file": "扇区链循环或指向文件之外",
    "its directory has no root": "目录没有根条目",
    "its workbook stream is declared larger than the file": "声明的工作簿数据流大于文件本身",
    "its mini stream is declared larger than the file": "声明的小数据流大于文件本身",
    "its workbook stream is cut short": "工作簿数据流不完整",
    "a record runs past the end of its stream": "有记录超出了数据流的末尾",
    "a sheet's entry is cut short": "工作表条目不完整",
    "its shared strings are cut short": "共享字符串不完整",
    "its shared-string count is impossible": "共享字符串数量异常",
}

_PART_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), words)
    for pattern, words in (
        (rf"line (?P<line>{_N})", "第 {line} 行"),
        (rf"row (?P<row>{_N}) of sheet (?P<sheet>.+)", "工作表 {sheet} 第 {row} 行"),
        (rf"row (?P<row>{_N}) of the table", "表格第 {row} 行"),
        (r"sheet (?P<sheet>.+) points outside the workbook stream", "工作表 {sheet} 指向工作簿数据流之外"),
        (
            r"sheet (?P<sheet>.+) declares its size in a record of the wrong length",
            "工作表 {sheet} 声明尺寸的记录长度有误",
        ),
        (
            r"sheet (?P<sheet>.+) declares more rows or columns than an Excel 97-2003 sheet has",
            "工作表 {sheet} 声明的行数或列数超过了 Excel 97-2003 工作表的上限",
        ),
        (r"sheet (?P<sheet>.+) declares its size backwards", "工作表 {sheet} 声明的尺寸首尾颠倒"),
        (r"sheet (?P<sheet>.+)", "工作表 {sheet}"),
    )
)

# Groups named here are parts (looked up in PARTS and the part patterns); the others pass as they are.
_NESTED = frozenset({"what", "where", "detail"})

_PROBLEM_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), words)
    for pattern, words in (
        (
            rf"is (?P<size>{_N}) MB, more than the (?P<limit>{_N}) MB an import reads",
            "大小为 {size} MB，超过了单次导入可读取的 {limit} MB",
        ),
        (
            rf"has (?P<lines>{_N}) lines, more than the (?P<limit>{_N}) rows an import reads",
            "共有 {lines} 行，超过了单次导入可读取的 {limit} 行",
        ),
        (
            rf"expands to (?P<size>{_N}) MB of sheet data, more than the (?P<limit>{_N}) MB an import reads",
            "解压后的工作表数据有 {size} MB，超过了单次导入可读取的 {limit} MB",
        ),
        (
            rf"has more than (?P<limit>{_N}) rows in its sheets, more than an import reads",
            "的工作表共有超过 {limit} 行，超过了单次导入可读取的行数",
        ),
        (
            r"has formulas whose values were never saved \(cell (?P<cell>[A-Z]+\d+|\?)\): it was written by a "
            r"program and not yet opened in Excel, so those cells would import blank",
            "含有从未保存计算结果的公式（单元格 {cell}）：该文件由程序生成，尚未在 Excel 中打开保存过，这些单元格导入后会是空白",
        ),
        (
            rf"has formulas whose values were never saved \(cell (?P<cell>[A-Z]+\d+|\?) and (?P<more>{_N}) more\): "
            r"it was written by a program and not yet opened in Excel, so those cells would import blank",
            "含有从未保存计算结果的公式（单元格 {cell} 及另外 {more} 个）：该文件由程序生成，尚未在 Excel 中打开保存过，"
            "这些单元格导入后会是空白",
        ),
        # The system's own reason (English) is left out of the Chinese sentence.
        (r"cannot be read \(.+\)", "无法读取"),
        (r"is not a table \(it is (?P<what>.+)\)", "不是表格（而是 {what}）"),
        (
            rf"is a ZIP archive holding (?P<names>.+) and (?P<more>{_N}) more files, not an Excel workbook",
            "是 ZIP 压缩包，其中有 {names} 及另外 {more} 个文件，不是 Excel 工作簿",
        ),
        (
            r"is a ZIP archive holding (?P<names>.+), not an Excel workbook",
            "是 ZIP 压缩包，其中有 {names}，不是 Excel 工作簿",
        ),
        (rf"cannot be read as a table \(line (?P<line>{_N}): .*\)", "无法作为表格读取（第 {line} 行出错）"),
        (
            rf"has a row with values in (?P<cells>{_N}) columns \((?P<where>.+)\), more than the (?P<limit>{_N}) "
            r"any DMS export has",
            "有一行在 {cells} 列中都有值（{where}），而 DMS 导出的文件最多只有 {limit} 列",
        ),
        (
            rf"has a cell longer than (?P<limit>{_N}) characters on line (?P<line>{_N}), which no DMS export has",
            "第 {line} 行有一个单元格超过 {limit} 个字符，DMS 导出的文件不会这样",
        ),
        (
            rf"has values as far out as row (?P<row>{_N}) and column (?P<column>[A-Z]+) in sheet (?P<sheet>.+), "
            rf"a grid of (?P<grid>{_N}) cells for (?P<values>{_N}) values",
            "的工作表 {sheet} 中最远的值在第 {row} 行、{column} 列：{values} 个值要占用 {grid} 个单元格",
        ),
        (
            rf"has sheets spanning (?P<cells>{_N}) cells, more than the (?P<limit>{_N}) an import reads",
            "的工作表共占 {cells} 个单元格，超过了单次导入可读取的 {limit} 个",
        ),
        (
            rf"has no row of column names in its first (?P<n>{_N}) rows \(row (?P<row>{_N}) holds a run of text "
            rf"more than (?P<chars>{_N}) characters long\)",
            "的前 {n} 行中没有列名行（第 {row} 行是一段超过 {chars} 个字符的文字）",
        ),
        (rf"has no header row within its first (?P<n>{_N}) rows", "的前 {n} 行中没有表头行"),
        (
            rf'has a quote \("\) on line (?P<line>{_N}) that is never closed, so the rest of the file would be '
            r"read as one cell",
            '第 {line} 行有一个引号（"）没有闭合，文件其余部分会被读成一个单元格',
        ),
        (
            rf"has a cell in row (?P<row>{_N}) \(column (?P<column>.+)\) that runs over (?P<lines>{_N}) lines, so a "
            r'quote \("\) was probably left open there',
            '第 {row} 行（“{column}”列）有一个单元格跨了 {lines} 行，那里可能有引号（"）没有闭合',
        ),
        (
            rf'has a quote \("\) at the start of a cell in row (?P<row>{_N}) \(column (?P<column>.+)\) that would '
            rf"join the (?P<lines>{_N}) lines after it, records of their own, into that cell",
            '第 {row} 行（“{column}”列）的单元格以引号（"）开头，会把其后 {lines} 行（各自是一条记录）并进这一个单元格',
        ),
        (
            r"has its only sheets with values hidden \((?P<sheets>.+)\)",
            "中有数据的工作表都被隐藏了（{sheets}）",
        ),
        (
            r"is an Excel 97-2003 \(\.xls\) file that is damaged \((?P<detail>.+)\)",
            "是已损坏的 Excel 97-2003（.xls）文件（{detail}）",
        ),
        (
            rf"has (?P<count>{_N}) rows, more than the (?P<limit>{_N}) rows an import reads",
            "共有 {count} 行，超过了单次导入可读取的 {limit} 行",
        ),
        (
            rf"is a web page \(HTML\) whose merged cells \(rowspan\) would repeat over (?P<budget>{_N}) values in the "
            r"rows below them, far more than the merged cells of an export do",
            "是网页文件（HTML），其中的合并单元格（rowspan）会在下方各行重复超过 {budget} 个值，远多于导出文件的合并单元格",
        ),
        (
            r"is (?P<what>.+) that declares entities \(<!ENTITY \.\.\.>\), which no DMS export does and which are not "
            r"read",
            "是{what}，其中声明了实体（<!ENTITY ...>），DMS 导出的文件不会这样，这些实体也不会被读取",
        ),
        # lxml's own reason (English) is left out of the Chinese sentence.
        (
            r"is an Excel 2003 XML spreadsheet that is not well-formed \(.*\)",
            "是格式不正确的 Excel 2003 XML 表格",
        ),
    )
)

_REMEDY_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"split the export into smaller files \(by month or year\), or if the file is genuine, raise "
            r"(?P<key>\w+) in the \[import\] section of data/settings\.toml"
        ),
        _SPLIT + "；如果文件确实无误，也可在 data/settings.toml 的 [import] 部分调高 {key}",
    ),
)


def _words(text: str, table: dict[str, str], patterns: tuple[tuple[re.Pattern[str], str], ...]) -> str | None:
    """Return ``text`` in Chinese from the table or the first pattern it matches whole; None when
    neither has it (or a part in it)."""
    found = table.get(text)
    if found is not None:
        return found
    for pattern, words in patterns:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        values: dict[str, str] = {}
        for name, value in match.groupdict(default="").items():
            if name in _NESTED:
                part = _words(value, PARTS, _PART_PATTERNS)
                if part is None:
                    return None
                value = part
            values[name] = value
        return words.format(**values)
    return None


def problem_words(problem: str) -> str | None:
    """Return what is wrong with a file in Chinese, None when it is not written here."""
    return _words(problem, PROBLEMS, _PROBLEM_PATTERNS)


def remedy_words(remedy: str) -> str | None:
    """Return what to do about a refused file in Chinese, None when it is not written here."""
    return _words(remedy, REMEDIES, _REMEDY_PATTERNS)


def refusal_words(name: str, problem: str, remedy: str) -> str | None:
    """Return "{name} {problem}；{remedy}。" in Chinese, or None when a part has no Chinese words."""
    said, done = problem_words(problem), remedy_words(remedy)
    if said is None or done is None:
        return None
    # No space after a closing bracket: "a.xlsx（工作表 一月）只有表头".
    return f"{name}{'' if name.endswith('）') else ' '}{said}；{done}。"


def kind_words(kind: str) -> str:
    """Return a kind of records ("service", "callback") as the Chinese interface names it."""
    return i18n.text("import_kind.service" if kind == "service" else "data.kind_callback", "zh")


def field_words(field: str) -> str:
    """Return a field's name in Chinese (工单号), or the field itself when the catalogue has none."""
    try:
        return i18n.text(f"field.{field}", "zh")
    except KeyError:
        return field


# Why a sheet of a workbook was not read (read.SheetReport.reason, load's per-sheet counts).
_KINDS = {"service orders": "工单", "callback records": "回访记录"}
_SHEET_REASONS: dict[str, str] = {
    "the sheet is hidden in the workbook; unhide it in Excel to import it": "该工作表在工作簿中被隐藏；如需导入，请在 Excel 中"
    "取消隐藏",
    "the sheet is empty": "该工作表为空",
}
_SHEET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), words)
    for pattern, words in (
        (rf"(?P<n>{_N}) blank rows", "{n} 行空行"),
        (rf"(?P<n>{_N}) blank rows not counted", "{n} 行空行（不计入行数）"),
        (rf"(?P<n>{_N}) exact duplicates imported once", "{n} 行完全重复，只导入一次"),
        (r"units row under the header: (?P<units>.+)", "表头下的单位行：{units}"),
        (
            r"(?P<header>.+): answers all within (?P<own>1-5|0-10) here; read on the file's (?P<scale>0-10|0-100) "
            r"scale \(import this sheet alone if it is a (?P<own2>1-5|0-10) survey\)",
            "{header}：本表的回答都在 {own} 之内，按整个文件的 {scale} 分制读取（如果本表是 {own2} 分制的调查，请单独导入本表）",
        ),
        (r"it has no columns of the same table as (?P<main>.+)", "没有与{main}同属一张表的列"),
        (
            r"it holds (?P<what>service orders|callback records), not (?P<main>.+); import it as a file of its own",
            "其中是{what}，不是{main}；请单独作为一个文件导入",
        ),
        (
            r"its columns are another table than sheet (?P<sheet>.+) \(without its vehicle or call, or most of its "
            r"columns: a work order's items, say\), so its rows are not read as (?P<what>service orders|callback "
            r"records); import it as a file of its own if it holds whole records",
            "其列与工作表 {sheet} 不是同一张表（缺少车辆或回访信息，或缺少其大部分列，例如工单的明细项目），因此其中的行"
            "不作为{what}读取；如果其中是完整的记录，请单独作为一个文件导入",
        ),
    )
)
# A sheet refused on its own: "a.xlsx (sheet 二月) has a header row but no data rows; export it again...".
_SHEET_REFUSED = re.compile(r"(?P<name>.+?) \(sheet (?P<title>.+?)\) (?P<said>.+)\.", re.DOTALL)


def _sheet_part(text: str) -> str | None:
    if text in _KINDS:
        return _KINDS[text]
    return f"工作表 {text[6:]}" if text.startswith("sheet ") else None


def sheet_reason_words(reason: str) -> str | None:
    """Return why a sheet was not read (or what was skipped in it) in Chinese, None when it is not
    written here."""
    if not reason or reason in _SHEET_REASONS:
        return _SHEET_REASONS.get(reason, reason)
    parts = [_sheet_reason_part(part) for part in reason.split(", ")]
    if all(parts):
        return "，".join(p for p in parts if p)
    refused = _SHEET_REFUSED.fullmatch(reason)
    if refused is None:
        return _sheet_reason_part(reason)
    said = refused["said"]
    # The problem and the remedy are parted by "; ": tried at each, as either may hold one.
    for at in (m.start() for m in re.finditer("; ", said)):
        problem, remedy = problem_words(said[:at]), remedy_words(said[at + 2 :])
        if problem is not None and remedy is not None:
            return f"{refused['name']}（工作表 {refused['title']}）{problem}；{remedy}。"
    return None


def _sheet_reason_part(reason: str) -> str | None:
    for pattern, words in _SHEET_PATTERNS:
        match = pattern.fullmatch(reason)
        if match is None:
            continue
        values = dict(match.groupdict())
        for name in ("what", "main"):
            if name in values:
                part = _sheet_part(values[name])
                if part is None:
                    return None
                values[name] = part
        return words.format(**values)
    return None
