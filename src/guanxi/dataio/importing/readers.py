"""Uploaded files → sheets of text cells, with every limit checked before anything is parsed.

The format is read from the content, not the name (an ``.xls`` renamed ``.xlsx`` is read as the
legacy workbook it is, and the report says so). CSV encodings follow a strict ladder — UTF-16 by its
BOM, then ``utf-8-sig``, then ``gb18030`` (what Excel on Chinese Windows writes), then a detector —
and the chosen encoding is reported; a short file that two encodings read differently is
*ambiguous* and the user is asked instead of guessed for. Nothing is evaluated: workbooks are read
for their stored values by calamine (a Rust reader, no Python XML parser), and a formula anywhere
is refused with its cell reference.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from guanxi.core.errors import ValidationFailed

# Limits, checked before parsing. Settings may raise them for a big migration.
MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_ROWS = 500_000
MAX_COLUMNS = 200
MAX_CELL_CHARS = 10_000
MAX_ZIP_ENTRIES = 2_000
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200  # a real sheet compresses ~10-30x; bombs go to 1000x and more
AMBIGUOUS_BELOW_BYTES = 200  # shorter non-ASCII GBK-looking text may be another code page


def limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


@dataclass
class Sheet:
    name: str
    headers: list[str]
    rows: list[list[str]]
    first_row: int = 2  # file row number (1-based) of rows[0]; the header is row first_row - 1
    # CSV cells are only text: one starting with "=" is a formula typed or pasted by someone and is
    # refused. Workbooks mark formulas themselves (refused in _read_xlsx); their "=" text is text.
    text_formulas: bool = True


@dataclass
class ParsedFile:
    file_format: str  # csv | xlsx | xls | vcard
    encoding: str = ""
    encoding_ambiguous: bool = False
    encoding_candidates: list[str] = field(default_factory=list)
    sheets: list[Sheet] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def sheet(self, name: str = "") -> Sheet:
        if not self.sheets:
            raise FileRejected("文件里没有数据", "the file holds no data", code="empty_file")
        if not name:
            return self.sheets[0]
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise FileRejected(f"没有名为「{name}」的工作表", f"no sheet named {name!r}", code="no_such_sheet")


class FileRejected(ValidationFailed):
    """A file that cannot be imported; ``details`` hold row/column messages where there are any."""

    code = "file_rejected"


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA (as Excel names columns)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(row: int, col: int) -> str:
    return f"{column_letter(col)}{row}"


# --- format sniffing -----------------------------------------------------------------------------


def sniff_format(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    head = data[:4096]
    for bom, enc in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            head = head[2:].decode(enc, errors="ignore").encode()
            break
    stripped = head.lstrip(b"\xef\xbb\xbf \r\n\t").upper()
    if stripped.startswith(b"BEGIN:VCARD"):
        return "vcard"
    return "csv"


def read_file(data: bytes, *, file_name: str, encoding: str = "", kind_hint: str = "") -> ParsedFile:
    max_bytes = limit("GUANXI_IMPORT_MAX_BYTES", MAX_FILE_BYTES)
    if len(data) > max_bytes:
        raise FileRejected(
            f"文件超过 {max_bytes // 1024 // 1024} MB 上限",
            f"the file is larger than the {max_bytes // 1024 // 1024} MB limit",
            code="file_too_large",
        )
    if not data.strip():
        raise FileRejected("文件是空的", "the file is empty", code="empty_file")
    fmt = sniff_format(data)
    suffix = Path(file_name).suffix.lower().lstrip(".")
    named = {"xlsx": "xlsx", "xlsm": "xlsx", "xls": "xls", "vcf": "vcard", "csv": "csv", "txt": "csv"}.get(
        suffix, ""
    )
    if fmt == "csv" and named in ("xlsx", "xls"):
        raise FileRejected(
            f"文件名是 .{suffix}，但内容不是 Excel 工作簿",
            f"the file is named .{suffix} but is not an Excel workbook",
            code="not_a_workbook",
        )
    if fmt == "xlsx":
        parsed = _read_xlsx(data)
    elif fmt == "xls":
        parsed = _read_workbook(data, "xls")
    else:
        text, parsed = _decode(data, encoding)
        parsed.sheets = [_read_vcard(text)] if fmt == "vcard" else [_read_csv(text)]
    if named and named != parsed.file_format and not (named == "csv" and parsed.file_format == "vcard"):
        parsed.notes.append(
            f"文件名是 .{suffix}，按内容读作 {parsed.file_format} / "
            f"named .{suffix}, read as {parsed.file_format}"
        )
    max_rows = limit("GUANXI_IMPORT_MAX_ROWS", MAX_ROWS)
    for sheet in parsed.sheets:
        if len(sheet.rows) > max_rows:
            raise FileRejected(
                f"工作表「{sheet.name}」有 {len(sheet.rows)} 行，超过 {max_rows} 行上限",
                f"sheet {sheet.name!r} has {len(sheet.rows)} rows, over the {max_rows} row limit",
                code="too_many_rows",
            )
    return parsed


# --- encodings -----------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NON_ASCII_LINE = re.compile(rb"[\x80-\xff]")


def _reject_binary(text: str | bytes) -> None:
    """Control characters (NUL, ESC, DEL...) never occur in a text table.

    On bytes this is checked before any decoding is guessed: no byte below 0x20 or 0x7f is part
    of a UTF-8 or GB18030 multi-byte sequence, so random binary data is named binary, rather than
    "mixed encodings" because one of its lines happened to decode as UTF-8.
    """
    if isinstance(text, bytes):
        found = _CONTROL_BYTE.search(text)
        line = text.count(b"\n", 0, found.start()) + 1 if found else 0
    else:
        match = _CONTROL.search(text)
        line = text.count("\n", 0, match.start()) + 1 if match else 0
    if line:
        raise FileRejected(
            f"第 {line} 行含有二进制控制字符，这不是文本表格",
            f"line {line} contains binary control characters; this is not a text table",
            code="binary_file",
            details=[{"row": line, "message": "binary data"}],
        )


def _decode(data: bytes, encoding: str) -> tuple[str, ParsedFile]:
    parsed = ParsedFile(file_format="csv")
    if encoding:
        try:
            text = data.decode(encoding)
        except LookupError:
            raise FileRejected(
                f"未知编码：{encoding}", f"unknown encoding: {encoding}", code="unknown_encoding"
            ) from None
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise FileRejected(
                f"第 {line} 行不是 {encoding} 编码",
                f"line {line} is not valid {encoding}",
                code="bad_encoding",
                details=[{"row": line, "message": f"not {encoding}"}],
            ) from None
        parsed.encoding = encoding
        text = text.removeprefix("\ufeff")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        parsed.encoding = "utf-16"
        text = _strict(data, "utf-16")
    else:
        _reject_binary(data)
        text = ""
        try:
            text = data.decode("utf-8-sig")
            parsed.encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
        except UnicodeDecodeError as utf8_error:
            _reject_mixed(data, utf8_error)
            try:
                text = data.decode("gb18030")
                parsed.encoding = "gb18030"
                non_ascii = len(_NON_ASCII_LINE.findall(data))
                if non_ascii and len(data) < AMBIGUOUS_BELOW_BYTES:
                    others = [enc for enc in ("big5", "shift_jis", "euc-kr") if _decodes(data, enc)]
                    if others:
                        parsed.encoding_ambiguous = True
                        parsed.encoding_candidates = ["gb18030", *others]
            except UnicodeDecodeError:
                from charset_normalizer import from_bytes

                best = from_bytes(data).best()
                if best is None:
                    raise FileRejected(
                        "无法识别文件编码，可能不是文本文件",
                        "cannot tell the file's encoding; it may not be a text file",
                        code="unknown_encoding",
                    ) from None
                parsed.encoding = best.encoding
                parsed.encoding_ambiguous = True
                parsed.encoding_candidates = [best.encoding]
                text = str(best)
    _reject_binary(text)
    return text, parsed


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileRejected(
            f"第 {line} 行不是合法的 {encoding} 文本",
            f"line {line} is not valid {encoding}",
            code="bad_encoding",
            details=[{"row": line, "message": f"not {encoding}"}],
        ) from None


def _reject_mixed(data: bytes, error: UnicodeDecodeError) -> None:
    """Some lines valid non-ASCII UTF-8 and others not: two files pasted together. Say where."""
    utf8_line = None
    bad_line = data[: error.start].count(b"\n") + 1
    for number, line in enumerate(data.split(b"\n"), start=1):
        if _NON_ASCII_LINE.search(line) and _decodes(line, "utf-8"):
            utf8_line = number
            break
    if utf8_line is not None:
        raise FileRejected(
            f"文件混用了多种编码：第 {utf8_line} 行是 UTF-8，第 {bad_line} 行不是",
            f"the file mixes encodings: line {utf8_line} is UTF-8, line {bad_line} is not",
            code="mixed_encoding",
            details=[{"row": utf8_line, "message": "UTF-8"}, {"row": bad_line, "message": "not UTF-8"}],
        )


# --- CSV -----------------------------------------------------------------------------------------


def _read_csv(text: str) -> Sheet:
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";", "|"), key=first_line.count)
    if first_line.count(delimiter) == 0:
        delimiter = ","
    csv.field_size_limit(limit("GUANXI_IMPORT_MAX_CELL_CHARS", MAX_CELL_CHARS) + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
    except csv.Error as exc:
        line = reader.line_num
        raise FileRejected(
            f"第 {line} 行格式错误（引号不配对或字段过长）",
            f"line {line} is malformed (unbalanced quotes or an over-long field): {exc}",
            code="malformed_csv",
            details=[{"row": line, "message": str(exc)}],
        ) from None
    return _sheet_from_rows("CSV", rows)


def _sheet_from_rows(name: str, rows: list[list[str]], header_row: int = 1) -> Sheet:
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    # Skip leading blank rows (a title row left empty, common in Excel exports).
    start = 0
    while start < len(rows) and not any(c.strip() for c in rows[start]):
        start += 1
    if start >= len(rows):
        raise FileRejected(f"工作表「{name}」是空的", f"sheet {name!r} is empty", code="empty_file")
    headers = [h.strip().removeprefix("\ufeff") for h in rows[start]]
    if len(headers) > limit("GUANXI_IMPORT_MAX_COLUMNS", MAX_COLUMNS):
        raise FileRejected(
            f"列数 {len(headers)} 超过上限",
            f"{len(headers)} columns is over the limit",
            code="too_many_columns",
        )
    return Sheet(name=name, headers=headers, rows=rows[start + 1 :], first_row=header_row + start + 1)


# --- workbooks -----------------------------------------------------------------------------------

_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"[^>]*>\s*<f[ >/]')


def _read_xlsx(data: bytes) -> ParsedFile:
    """Check the zip's entry count, sizes and compression ratio before any XML is read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRejected(
            "Excel 文件已损坏或不完整（可能上传中断）",
            "the Excel file is damaged or truncated (an interrupted upload?)",
            code="corrupt_workbook",
        ) from None
    if len(infos) > limit("GUANXI_IMPORT_MAX_ZIP_ENTRIES", MAX_ZIP_ENTRIES):
        raise FileRejected("压缩包条目过多", "too many entries in the workbook archive", code="zip_limits")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > limit("GUANXI_IMPORT_MAX_UNCOMPRESSED", MAX_UNCOMPRESSED_BYTES) or (
        total > 10 * 1024 * 1024 and total / packed > MAX_COMPRESSION_RATIO
    ):
        raise FileRejected(
            f"解压后 {total // 1024 // 1024} MB（压缩比 {total // packed}:1），疑似压缩炸弹，已拒绝",
            f"uncompresses to {total // 1024 // 1024} MB ({total // packed}:1): a zip bomb, refused",
            code="zip_bomb",
        )
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise FileRejected(
            "这是一个压缩包，但不是 Excel 工作簿",
            "a zip archive, but not an Excel workbook",
            code="not_a_workbook",
        )
    try:
        for info in infos:
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                with archive.open(info) as handle:
                    match = _FORMULA_CELL.search(handle.read())
                if match:
                    ref = match.group(1).decode()
                    row = int(re.sub(r"\D", "", ref))
                    raise FileRejected(
                        f"单元格 {ref} 含公式；请先“粘贴为数值”再导入（公式不会被执行）",
                        f"cell {ref} holds a formula; paste values before importing (formulas are never run)",
                        code="formula_cell",
                        details=[{"row": row, "column": re.sub(r"\d", "", ref), "message": "formula"}],
                    )
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise FileRejected(
            "Excel 文件已损坏或不完整", "the Excel file is damaged or truncated", code="corrupt_workbook"
        ) from None
    return _read_workbook(data, "xlsx")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        # Excel keeps phone numbers as floats (13900139000.0): render whole numbers without ".0".
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if hasattr(value, "isoformat"):
        text = str(value.isoformat())
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value)


def _read_workbook(data: bytes, fmt: str) -> ParsedFile:
    from python_calamine import CalamineWorkbook

    parsed = ParsedFile(file_format=fmt)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        for name in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(name)
            rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows()]
            offset = (sheet.start or (0, 0))[0] if rows else 0
            if not rows or not any(any(c.strip() for c in r) for r in rows):
                continue
            parsed.sheets.append(_sheet_from_rows(name, rows, header_row=offset + 1))
            parsed.sheets[-1].text_formulas = False
    except FileRejected:
        raise
    except Exception as exc:  # calamine raises its own types and plain ValueError/IOError
        label = "Excel 97-2003 (.xls)" if fmt == "xls" else "Excel (.xlsx)"
        raise FileRejected(
            f"{label} 文件无法读取：已损坏、加密或格式不对",
            f"cannot read this {label} file: damaged, encrypted or not what it is named "
            f"({type(exc).__name__})",
            code="corrupt_workbook",
        ) from None
    if not parsed.sheets:
        raise FileRejected("工作簿里没有数据", "the workbook holds no data", code="empty_file")
    return parsed


# --- vCard ---------------------------------------------------------------------------------------

VCARD_HEADERS = ["姓名", "公司", "职务", "部门", "手机", "电话2", "电话3", "邮箱", "地址", "生日", "备注"]


def _read_vcard(text: str) -> Sheet:
    import vobject

    rows: list[list[str]] = []
    try:
        cards = list(vobject.readComponents(text, ignoreUnreadable=True))
    except Exception as exc:  # vobject raises ParseError and assorted ValueErrors
        line = getattr(exc, "lineNumber", None)
        raise FileRejected(
            f"vCard 格式错误{f'（第 {line} 行）' if line else ''}",
            f"malformed vCard{f' (line {line})' if line else ''}: {exc}",
            code="malformed_vcard",
            details=[{"row": line, "message": str(exc)}] if line else [],
        ) from None
    for card in cards:
        rows.append(_vcard_row(card))
    if not rows:
        raise FileRejected("文件里没有名片", "no vCards in the file", code="empty_file")
    return Sheet(name="vCard", headers=list(VCARD_HEADERS), rows=rows, first_row=1, text_formulas=False)


def _values(card: Any, key: str) -> list[Any]:
    return [c.value for c in card.contents.get(key, [])]


def _vcard_row(card: Any) -> list[str]:
    def text(value: Any) -> str:
        if isinstance(value, list):
            return " ".join(str(v) for v in value if v)
        return str(value or "").strip()

    name = text(next(iter(_values(card, "fn")), ""))
    if not name:
        for n in _values(card, "n"):
            name = f"{getattr(n, 'family', '')}{getattr(n, 'given', '')}".strip()
    org = next(iter(_values(card, "org")), "")
    org_parts = org if isinstance(org, list) else [org]
    phones = [text(v) for v in _values(card, "tel")]
    emails = [text(v) for v in _values(card, "email")]
    addresses = []
    for adr in _values(card, "adr"):
        parts = [getattr(adr, p, "") for p in ("region", "city", "street")]
        addresses.append("".join(text(p) for p in parts if p))
    return [
        name,
        text(org_parts[0]) if org_parts else "",
        text(next(iter(_values(card, "title")), "")),
        text(org_parts[1]) if len(org_parts) > 1 else "",
        phones[0] if phones else "",
        phones[1] if len(phones) > 1 else "",
        phones[2] if len(phones) > 2 else "",
        emails[0] if emails else "",
        addresses[0] if addresses else "",
        text(next(iter(_values(card, "bday")), "")),
        text(next(iter(_values(card, "note")), "")),
    ]


def iter_cells(sheet: Sheet) -> Iterator[tuple[int, list[str]]]:
    for offset, row in enumerate(sheet.rows):
        yield sheet.first_row + offset, row
