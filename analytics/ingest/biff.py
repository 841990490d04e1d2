"""A bounded look inside an OLE2 compound file before calamine reads it as an Excel 97-2003 workbook.

An OLE2 file (signature D0 CF 11 E0) may be an old .xls workbook, a Word .doc, a
password-protected .xlsx, or a damaged copy. calamine reads a .xls whole and trusts what the file
declares: it reserves memory for the sizes and counts in the container's header, the sheets'
DIMENSIONS records and the shared-string count, and holds every sheet as a full grid from A1 to
its farthest cell, so a 6 KB file with one value in cell IV65536 costs it a gigabyte. This module
walks the container's sector chains (each bounded by the file's sectors, cycles refused) and the
BIFF records of the workbook stream, and says in a sentence what is wrong before calamine sees
such a file. It reads nothing else: cell values are calamine's.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END_OF_CHAIN = 0xFFFFFFFE
_FREE = 0xFFFFFFFF
_MINI_CUTOFF = 4096
# Records of a worksheet that place a value in a cell, as calamine reads them (blank cells are
# not read): NUMBER, LABEL, BOOLERR, RK, LABELSST, FORMULA; MULRK spans columns.
_CELL_RECORDS = frozenset({0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x0006})
_MULRK = 0x00BD
_DIMENSIONS = 0x0200
_EOF = 0x000A
_FILEPASS = 0x002F
_BOUNDSHEET = 0x0085
_SST = 0x00FC
# A BIFF8 sheet has at most 65,536 rows and 256 columns.
BIFF8_ROWS = 65_536
BIFF8_COLUMNS = 256
# A sheet whose cells span more than this many grid cells from A1, and more than
# ``SPARSE_FACTOR`` times the values it holds, has cells far outside its table.
SPARSE_GRID_CELLS = 1_000_000
SPARSE_FACTOR = 8

SAVE_AS = "open it in Excel and save it as .xlsx or CSV, then import that file"
_PASSWORD = (
    "is protected by a password",
    "open it in Excel with the password, remove the password (File > Info > Protect Workbook) "
    "and save it, then import that file",
)


class Refusal(Exception):
    """What is wrong with the file and what to do, for ``read`` to phrase with the file's name."""

    def __init__(self, problem: str, remedy: str) -> None:
        super().__init__(f"{problem}; {remedy}")
        self.problem = problem
        self.remedy = remedy


def _damaged(detail: str) -> Refusal:
    return Refusal(f"is an Excel 97-2003 (.xls) file that is damaged ({detail})", SAVE_AS)


@dataclass(frozen=True)
class SheetExtent:
    """One sheet of a .xls as calamine will hold it: its farthest row and column (1-based, 0 when
    it holds no value) and the values it holds."""

    name: str
    rows: int
    columns: int
    values: int

    @property
    def grid(self) -> int:
        """Return the cells from A1 to the farthest one, which calamine holds."""
        return self.rows * self.columns


class _Container:
    """The sectors of a compound file and their allocation table, every chain checked."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 512 or not data.startswith(SIGNATURE):
            raise _damaged("its header is cut short")
        (major,) = struct.unpack_from("<H", data, 0x1A)
        shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
        if (major, shift) not in ((3, 9), (4, 12)) or mini_shift != 6:
            raise _damaged("its header names an unknown layout")
        self.data = data
        self.size = 1 << shift
        self.sectors = (len(data) - self.size + self.size - 1) // self.size if len(data) > self.size else 0
        dir_sectors, fat_sectors, self.dir_start = struct.unpack_from("<III", data, 0x28)
        self.mini_fat_start, mini_fat_sectors, difat_start, difat_sectors = struct.unpack_from(
            "<IIII", data, 0x3C
        )
        # calamine reserves memory for these counts: each must fit in the file.
        if max(dir_sectors, fat_sectors, mini_fat_sectors, difat_sectors) > self.sectors:
            raise _damaged("its header declares more sectors than the file holds")
        fat_ids = [i for i in struct.unpack_from("<109I", data, 0x4C) if i != _FREE]
        seen: set[int] = set()
        sector = difat_start
        per_sector = self.size // 4
        while sector not in (_END_OF_CHAIN, _FREE):
            if sector >= self.sectors or sector in seen:
                raise _damaged("its sector index loops or points outside the file")
            seen.add(sector)
            entries = struct.unpack_from(f"<{per_sector}I", data, (sector + 1) * self.size)
            fat_ids.extend(i for i in entries[:-1] if i != _FREE)
            sector = entries[-1]
        if len(fat_ids) > self.sectors or any(i >= self.sectors for i in fat_ids):
            raise _damaged("its allocation table points outside the file")
        self.fat: list[int] = []
        for i in fat_ids:
            self.fat.extend(struct.unpack_from(f"<{per_sector}I", data, (i + 1) * self.size))

    def sector(self, number: int) -> bytes:
        start = (number + 1) * self.size
        return self.data[start : start + self.size]

    def chain(self, start: int, table: list[int], limit: int) -> list[int]:
        """Return the sector numbers of the chain from ``start``, refusing loops and stray numbers."""
        numbers: list[int] = []
        seen: set[int] = set()
        sector = start
        while sector != _END_OF_CHAIN:
            if sector >= limit or sector >= len(table) or sector in seen:
                raise _damaged("a chain of its sectors loops or points outside the file")
            seen.add(sector)
            numbers.append(sector)
            sector = table[sector]
        return numbers

    def stream(self, start: int) -> bytes:
        return b"".join(self.sector(n) for n in self.chain(start, self.fat, self.sectors))


def _directory(box: _Container) -> dict[str, tuple[int, int, int]]:
    """Return name -> (entry type, first sector, size) for the entries of the directory."""
    raw = box.stream(box.dir_start)
    entries: dict[str, tuple[int, int, int]] = {}
    for offset in range(0, len(raw) - 127, 128):
        entry = raw[offset : offset + 128]
        length, kind = struct.unpack_from("<HB", entry, 0x40)
        if kind not in (1, 2, 5) or not 2 <= length <= 64:
            continue
        name = entry[: length - 2].decode("utf-16-le", errors="replace")
        start, size = struct.unpack_from("<IQ", entry, 0x74)
        if box.size == 512:
            size &= 0xFFFFFFFF
        if offset == 0 and kind != 5:
            raise _damaged("its directory has no root")
        entries.setdefault(name, (kind, start, size))
    if not entries or next(iter(entries.values()))[0] != 5:
        raise _damaged("its directory has no root")
    return entries


def workbook_stream(data: bytes) -> bytes:
    """Return the BIFF stream of a .xls; raise Refusal for any other OLE2 file or a damaged one."""
    box = _Container(data)
    entries = _directory(box)
    if "EncryptedPackage" in entries or "EncryptionInfo" in entries:
        raise Refusal(*_PASSWORD)
    if "WordDocument" in entries:
        raise Refusal(
            "is a Word document (.doc), not a table", "export the records from the DMS as Excel or CSV"
        )
    name = "Workbook" if "Workbook" in entries else "Book" if "Book" in entries else None
    if name is None:
        raise Refusal(
            "is an Office file (OLE2) but not an Excel workbook",
            "export the records from the DMS as Excel or CSV",
        )
    _, root_start, root_size = next(iter(entries.values()))
    kind, start, size = entries[name]
    if kind != 2 or size > len(data):
        raise _damaged("its workbook stream is declared larger than the file")
    # calamine reads the root's mini stream and the mini allocation table as well: both are checked.
    mini = box.stream(root_start) if root_start != _END_OF_CHAIN else b""
    if root_size > len(mini):
        raise _damaged("its mini stream is declared larger than the file")
    mini_fat_raw = box.stream(box.mini_fat_start) if box.mini_fat_start != _END_OF_CHAIN else b""
    mini_fat = list(struct.unpack(f"<{len(mini_fat_raw) // 4}I", mini_fat_raw))
    if size < _MINI_CUTOFF:
        numbers = box.chain(start, mini_fat, len(mini) // 64)
        stream = b"".join(mini[n * 64 : n * 64 + 64] for n in numbers)
    else:
        stream = box.stream(start)
    if size > len(stream):
        raise _damaged("its workbook stream is cut short")
    return stream[:size]


def _records(stream: bytes, start: int):
    """Yield (record type, offset of its data, length) from ``start`` to the substream's EOF."""
    offset = start
    end = len(stream)
    while offset + 4 <= end:
        kind, length = struct.unpack_from("<HH", stream, offset)
        if offset + 4 + length > end:
            raise _damaged("a record runs past the end of its stream")
        yield kind, offset + 4, length
        if kind == _EOF:
            return
        offset += 4 + length


def sheet_extents(stream: bytes) -> list[SheetExtent]:
    """Return each sheet's extent as calamine will hold it; raise Refusal for a password-protected
    workbook or a record that would make calamine reserve memory the file cannot fill."""
    sheets: list[tuple[int, str]] = []
    for kind, at, length in _records(stream, 0):
        if kind == _FILEPASS:
            raise Refusal(*_PASSWORD)
        if kind == _BOUNDSHEET:
            if length < 8:
                raise _damaged("a sheet's entry is cut short")
            position = struct.unpack_from("<I", stream, at)[0]
            chars, wide = stream[at + 6], stream[at + 7] & 1
            raw = stream[at + 8 : at + 8 + chars * (2 if wide else 1)]
            title = raw.decode("utf-16-le" if wide else "latin-1", errors="replace")
            sheets.append((position, title.replace("\x00", "")))
        elif kind == _SST:
            if length < 8:
                raise _damaged("its shared strings are cut short")
            # calamine reserves a string for each counted one: a count beyond what the stream can
            # hold (three bytes a string at least) is a damaged or hostile file.
            unique = struct.unpack_from("<i", stream, at + 4)[0]
            if not 0 <= unique <= len(stream) // 3:
                raise _damaged("its shared-string count is impossible")
    extents: list[SheetExtent] = []
    for position, title in sheets:
        if position >= len(stream):
            raise _damaged(f"sheet {title} points outside the workbook stream")
        extents.append(_sheet_extent(stream, position, title))
    return extents


_PAIR = struct.Struct("<HH")


def _sheet_extent(stream: bytes, position: int, title: str) -> SheetExtent:
    """Return the extent of the sheet whose BOF is at ``position``: one pass over its records."""
    # The loop of ``_records`` written out: a sheet of 20,000 rows has some 300,000 records.
    pair = _PAIR.unpack_from
    cells = _CELL_RECORDS
    end = len(stream)
    offset = position
    top = right = values = 0
    while offset + 4 <= end:
        kind, length = pair(stream, offset)
        at = offset + 4
        if at + length > end:
            raise _damaged("a record runs past the end of its stream")
        if kind in cells:
            if length >= 4:
                row, column = pair(stream, at)
                if row >= top:
                    top = row + 1
                if column >= right:
                    right = column + 1
                values += 1
        elif kind == _MULRK and length >= 6:
            row, first = pair(stream, at)
            last = pair(stream, at + length - 4)[1]
            top, right = max(top, row + 1), max(right, last + 1)
            values += max(last - first + 1, 0)
        elif kind == _DIMENSIONS:
            _check_dimensions(stream[at : at + length], title)
        elif kind == _EOF:
            break
        offset = at + length
    return SheetExtent(title, top, right, values)


def _check_dimensions(record: bytes, title: str) -> None:
    """Refuse a DIMENSIONS record beyond a BIFF8 sheet, or inverted: calamine reserves its area."""
    if len(record) == 14:
        first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", record)
    elif len(record) == 10:
        first_row, last_row, first_col, last_col = struct.unpack_from("<HHHH", record)
    else:
        raise _damaged(f"sheet {title} declares its size in a record of the wrong length")
    if last_row > BIFF8_ROWS or last_col > BIFF8_COLUMNS:
        raise _damaged(f"sheet {title} declares more rows or columns than an Excel 97-2003 sheet has")
    if (last_row and last_row - 1 < first_row) or (last_col and last_col - 1 < first_col):
        raise _damaged(f"sheet {title} declares its size backwards")
