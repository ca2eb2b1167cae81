"""A streamed .xlsx writer: every cell text, rows deflated into the zip as they come.

xlsxwriter spends most of an export in its per-cell bookkeeping (a cell object, a format lookup,
three regular expressions); here a row is one f-string per cell and the checks run once per row on
the row's joined text. Cells are inline strings (no shared-string table, which would have to be held
in memory until the end), styled "@" (text) so Excel never turns a phone number into a number; a
cell starting with ``= + - @`` / tab / CR carries Excel's quote-prefix flag so it is never taken
for a formula (CWE-1236). Characters XML 1.0 forbids (control characters other than tab, LF, CR;
lone surrogates; U+FFFE/U+FFFF) are dropped, as Excel would refuse the file otherwise.

A sheet holds at most Excel's 1,048,576 rows; the rows past that go on in a new sheet of the same
workbook ("客户", "客户 (2)", "客户 (3)"...), each with the same bold, frozen header row, so every
row read is in the file. Zip entries are written one after another, so the workbook's list of its
sheets (workbook.xml, its relationships, [Content_Types].xml) is written last.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from guanxi.dataio.importing.readers import column_letter  # the importer's own A, B, … AA naming

MAX_ROWS = 1_048_576  # Excel's sheet limit, header included
# Data rows a sheet takes under its header before the next sheet is begun (tests lower it).
SHEET_ROWS = MAX_ROWS - 1
MAX_SHEET_NAME = 31  # Excel's limit on a sheet name's length
MAX_COLUMNS = 16_384
MAX_CELL_CHARS = 32_767  # Excel's cell limit; longer text is cut, as xlsxwriter did
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
# Deflate level 1: the sheet XML is repetitive, so level 1 is within ~15 % of level 6 in size and
# several times faster (measured on the 100k-customer export).
COMPRESS_LEVEL = 1
_FLUSH_ROWS = 500

# Cell style indexes in styles.xml below: 1 text, 2 text with quote prefix, 3 bold text (header).
_TEXT, _QUOTED, _BOLD = "1", "2", "3"

# Anything that needs more than copying the text: XML specials, CR (an XML parser reads a literal
# CR as LF), Excel's own _xHHHH_ escapes, characters XML 1.0 forbids.
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_x")
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_ESCAPE = re.compile("(_x[0-9A-Fa-f]{4}_)")
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_WHITESPACE = frozenset(" \t\n\r")
_EDGE_FIRST = frozenset(DANGEROUS) | _WHITESPACE

_SHEET_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "{sheets}"
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<bookViews><workbookView activeTab="0"/></bookViews>'
    "<sheets>{sheets}</sheets>"
    "</workbook>"
)
# Sheet n is relationship rIdn; the styles come after the last sheet.
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    "{sheets}"
    '<Relationship Id="rId{styles}" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/>'
    "</Relationships>"
)
_SHEET_RELATIONSHIP = (
    '<Relationship Id="rId{n}" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet{n}.xml"/>'
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2">'
    '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    "</fonts>"
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" quotePrefix="1"/>'
    '<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
# The header row frozen: a pane below row 1, as xlsxwriter's freeze_panes(1, 0) wrote it. Only the
# first sheet is selected: Excel takes several selected tabs for a group, and an edit in a grouped
# sheet goes to every sheet of the group.
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheetViews><sheetView{selected} workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
    "</sheetView></sheetViews>"
    '<sheetFormatPr defaultRowHeight="15"/>'
    "<sheetData>"
)
_SHEET_TAIL = "</sheetData></worksheet>"


def sheet_name_clean(name: str) -> str:
    """What Excel accepts as a sheet name: no ``[]:*?/\\``, no apostrophe at either end, ≤ 31 chars."""
    name = _SHEET_NAME_FORBIDDEN.sub("_", _ILLEGAL.sub("", name)).strip("'")[:MAX_SHEET_NAME].strip("'")
    return name or "Sheet1"


def sheet_name_numbered(name: str, number: int) -> str:
    """The name of the ``number``-th sheet (from 1) of rows continued: "客户", "客户 (2)", "客户 (3)";
    the cleaned name is cut so that it and its number fit in Excel's 31 characters."""
    name = sheet_name_clean(name)
    if number == 1:
        return name
    suffix = f" ({number})"
    return name[: MAX_SHEET_NAME - len(suffix)] + suffix


def _escape_attribute(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _cell(prefix: str, row: str, value: str, style: str) -> str:
    """One cell, the careful way: illegal characters dropped, cut to Excel's limit, XML-escaped,
    whitespace at either end kept, and a literal ``_xHHHH_`` with its underscore escaped so Excel
    does not decode it. (The fast path in ``_row`` writes the same XML for plain text.)"""
    value = _ILLEGAL.sub("", value)[:MAX_CELL_CHARS]
    space = ' xml:space="preserve"' if value[0] in _WHITESPACE or value[-1] in _WHITESPACE else ""
    if "_x" in value:
        value = _EXCEL_ESCAPE.sub(r"_x005F\1", value)
    text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return f'{prefix}{row}" s="{style}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _row(number: int, values: list[str], prefixes: list[str]) -> str:
    r = str(number)
    try:
        joined = "".join(values)
    except TypeError:  # a None or a number among the values: text like the rest, None empty
        values = ["" if v is None else str(v) for v in values]
        joined = "".join(values)
    if len(joined) <= MAX_CELL_CHARS and not _SPECIAL.search(joined):
        # Nothing to escape or drop in the whole row: a plain text cell is one f-string, and only
        # a cell starting with a formula character or starting/ending with whitespace is looked at.
        plain = f'{r}" s="{_TEXT}" t="inlineStr"><is><t>'
        cells = [
            f"{prefix}{plain}{value}</t></is></c>"
            if value[0] not in _EDGE_FIRST and value[-1] not in _WHITESPACE
            else _cell(prefix, r, value, _QUOTED if value.startswith(DANGEROUS) else _TEXT)
            for prefix, value in zip(prefixes, values, strict=False)
            if value
        ]
    else:
        cells = [
            _cell(prefix, r, text, _QUOTED if text.startswith(DANGEROUS) else _TEXT)
            for prefix, value in zip(prefixes, values, strict=False)
            if value and (text := _ILLEGAL.sub("", value))
        ]
    return f'<row r="{r}">{"".join(cells)}</row>'


def write_sheet(
    target: str | Path | IO[bytes],
    *,
    sheet_name: str,
    headers: list[str],
    rows: Iterable[list[str]],
    compress_level: int = COMPRESS_LEVEL,
) -> int:
    """Write a workbook: a bold, frozen header row, then ``rows``; returns the rows written.

    A sheet takes ``SHEET_ROWS`` rows (Excel's 1,048,576 with the header); the rows past that go on
    in a new sheet, named by ``sheet_name_numbered``, with the same header, so every row read is
    written. ``target`` may be a path or any binary file object (seekable or not).
    """
    per_sheet = SHEET_ROWS
    if per_sheet < 1:
        raise ValueError(f"SHEET_ROWS must be at least 1, not {per_sheet}")
    prefixes = [f'<c r="{column_letter(i)}' for i in range(min(MAX_COLUMNS, max(len(headers), 1)))]
    header = [
        _cell(prefix, "1", text, _BOLD)
        for prefix, value in zip(prefixes, headers, strict=False)
        if value and (text := _ILLEGAL.sub("", value))
    ]
    header_row = f'<row r="1">{"".join(header)}</row>'
    names: list[str] = []
    taken: set[str] = set()  # Excel compares sheet names without regard to case

    def begin_sheet(archive: zipfile.ZipFile) -> IO[bytes]:
        number = len(names) + 1
        name = sheet_name_numbered(sheet_name, number)
        suffix = number
        while name.casefold() in taken:  # a name that already ends in " (2)", cut to fit
            suffix += 1
            name = sheet_name_numbered(sheet_name, suffix)
        names.append(name)
        taken.add(name.casefold())
        sheet = archive.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True)
        selected = ' tabSelected="1"' if number == 1 else ""
        sheet.write(f"{_SHEET_HEAD.format(selected=selected)}{header_row}".encode())
        return sheet

    count = 0
    with zipfile.ZipFile(
        target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compress_level
    ) as archive:
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        sheet: IO[bytes] | None = None
        try:
            buffer: list[str] = []
            in_sheet = 0
            for values in rows:
                if sheet is None or in_sheet >= per_sheet:
                    if sheet is not None:  # full: its tail, and the rows go on in the next sheet
                        buffer.append(_SHEET_TAIL)
                        sheet.write("".join(buffer).encode())
                        sheet.close()
                        buffer = []
                    sheet = begin_sheet(archive)
                    in_sheet = 0
                in_sheet += 1
                count += 1
                if len(values) > len(prefixes) and len(prefixes) < MAX_COLUMNS:
                    prefixes += [
                        f'<c r="{column_letter(i)}'
                        for i in range(len(prefixes), min(MAX_COLUMNS, len(values)))
                    ]
                buffer.append(_row(in_sheet + 1, values, prefixes))
                if len(buffer) >= _FLUSH_ROWS:
                    sheet.write("".join(buffer).encode())
                    buffer = []
            if sheet is None:  # no rows: the header alone
                sheet = begin_sheet(archive)
            buffer.append(_SHEET_TAIL)
            sheet.write("".join(buffer).encode())
        finally:
            if sheet is not None:
                sheet.close()
        # Every sheet is written and closed: the workbook can list them.
        numbers = range(1, len(names) + 1)
        archive.writestr(
            "xl/workbook.xml",
            _WORKBOOK.format(
                sheets="".join(
                    f'<sheet name="{_escape_attribute(name)}" sheetId="{n}" r:id="rId{n}"/>'
                    for n, name in zip(numbers, names, strict=True)
                )
            ),
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            _WORKBOOK_RELS.format(
                sheets="".join(_SHEET_RELATIONSHIP.format(n=n) for n in numbers), styles=len(names) + 1
            ),
        )
        archive.writestr(
            "[Content_Types].xml",
            _CONTENT_TYPES.format(
                sheets="".join(
                    f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_SHEET_CONTENT_TYPE}"/>'
                    for n in numbers
                )
            ),
        )
    return count
