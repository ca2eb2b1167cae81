"""The English catalog: complete, compiled, covering every marked string, and actually used by the UI.

Source strings (msgids) are Simplified Chinese; ``locale/en/LC_MESSAGES/django.po`` holds the English.
When one of these tests fails: run ``make messages``, translate the new entries in the .po (no empty
``msgstr``, no ``#, fuzzy``), and commit both ``django.po`` and ``django.mo``.
"""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2]  # src/guanxi
LC_MESSAGES = SRC / "locale" / "en" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"
HOW_TO_FIX = (
    "run `make messages`, translate the new entries in src/guanxi/locale/en/LC_MESSAGES/django.po "
    "(fill msgstr, drop '#, fuzzy'), and commit django.po and django.mo"
)


# --- a tiny .po reader (no polib) ---------------------------------------------------------------


class Entry:
    def __init__(self) -> None:
        self.msgctxt: str | None = None
        self.msgid = ""
        self.msgid_plural: str | None = None
        self.msgstr: dict[int, str] = {}
        self.flags: set[str] = set()
        self.obsolete = False
        self.line = 0

    @property
    def key(self) -> str:
        # The key GNU gettext uses in a compiled catalog: context EOT msgid.
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid


def _unquote(text: str) -> str:
    return ast.literal_eval(text)  # a .po string is a valid Python string literal


def parse_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    entry: Entry | None = None
    field: tuple[str, int] | None = None

    def start(lineno: int) -> Entry:
        nonlocal entry
        if entry is None or entry.msgstr:  # msgstr closes an entry: the next keyword starts a new one
            entry = Entry()
            entry.line = lineno
            entries.append(entry)
        return entry

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            entry, field = None, None
            continue
        if line.startswith("#,"):
            if entry is not None and entry.msgstr:
                entry = None
            flags = {f.strip() for f in line[2:].split(",")}
            e = start(lineno)
            e.flags |= flags
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if entry is None or field is None:
                raise AssertionError(f"{path}:{lineno}: continuation line outside an entry")
            name, index = field
            value = _unquote(line)
            if name == "msgctxt":
                entry.msgctxt = (entry.msgctxt or "") + value
            elif name == "msgid":
                entry.msgid += value
            elif name == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + value
            else:
                entry.msgstr[index] += value
            continue
        if keyword.startswith("msgstr"):
            if entry is None:
                raise AssertionError(f"{path}:{lineno}: msgstr without msgid")
            e = entry
        else:
            e = start(lineno)
        e.obsolete = e.obsolete or obsolete
        if keyword == "msgctxt":
            e.msgctxt, field = _unquote(rest), ("msgctxt", 0)
        elif keyword == "msgid":
            e.msgid, field = _unquote(rest), ("msgid", 0)
        elif keyword == "msgid_plural":
            e.msgid_plural, field = _unquote(rest), ("msgid_plural", 0)
        elif keyword.startswith("msgstr"):
            m = re.fullmatch(r"msgstr(?:\[(\d+)\])?", keyword)
            if not m:
                raise AssertionError(f"{path}:{lineno}: unexpected {keyword!r}")
            index = int(m.group(1) or 0)
            e.msgstr[index] = _unquote(rest)
            field = ("msgstr", index)
        else:
            raise AssertionError(f"{path}:{lineno}: cannot parse {raw!r}")
    return [e for e in entries if not e.obsolete]


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    assert PO.exists(), f"{PO} is missing: {HOW_TO_FIX}"
    return parse_po(PO)


def _messages(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if e.msgid]  # the msgid "" entry is the header


# --- (a) complete --------------------------------------------------------------------------------


def test_po_has_a_translation_for_every_entry(po_entries: list[Entry]) -> None:
    messages = _messages(po_entries)
    assert len(messages) > 100, "the English catalog looks truncated"
    empty = [f"line {e.line}: {e.msgid!r}" for e in messages if not e.msgstr or not all(e.msgstr.values())]
    fuzzy = [f"line {e.line}: {e.msgid!r}" for e in po_entries if "fuzzy" in e.flags]
    assert not empty, f"untranslated entries in {PO.name} ({HOW_TO_FIX}):\n" + "\n".join(empty)
    assert not fuzzy, f"fuzzy entries in {PO.name} (check and remove the flag):\n" + "\n".join(fuzzy)


def test_translations_keep_placeholders(po_entries: list[Entry]) -> None:
    placeholder = re.compile(r"%\([^)]+\)[sdif]|%[sdif]|\{[^{}]*\}")
    wrong = [
        f"line {e.line}: {e.msgid!r} -> {s!r}"
        for e in _messages(po_entries)
        for s in e.msgstr.values()
        if sorted(placeholder.findall(e.msgid)) != sorted(placeholder.findall(s))
    ]
    assert not wrong, "placeholders differ between msgid and msgstr:\n" + "\n".join(wrong)


# --- (b) compiled --------------------------------------------------------------------------------


def test_mo_matches_po(po_entries: list[Entry]) -> None:
    assert MO.exists(), f"{MO} is missing: run `make messages` (compilemessages) and commit it"
    with MO.open("rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    expected: dict[object, str] = {}
    for e in _messages(po_entries):
        if e.msgid_plural is None:
            expected[e.key] = e.msgstr[0]
        else:
            for index, text in e.msgstr.items():
                expected[(e.key, index)] = text
    compiled = {k: v for k, v in catalog.items() if k != ""}
    stale = sorted(
        (
            f"{k!r}: .po has {expected.get(k)!r}, .mo has {compiled.get(k)!r}"
            for k in expected.keys() | compiled.keys()
            if expected.get(k) != compiled.get(k)
        ),
        key=str,
    )
    assert not stale, (
        "django.mo is out of date with django.po (run `make messages` and commit the .mo):\n"
        + "\n".join(stale)
    )


# --- (c) every marked string is in the catalog ---------------------------------------------------

_LITERAL = r"""(?P<s>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"""
PY_CALL = re.compile(
    r"(?<![\w.])(?:_|gettext|gettext_lazy|gettext_noop|ugettext|ugettext_lazy)\(\s*" + _LITERAL + r"\s*[,)]"
)
TEMPLATE_TAG = re.compile(r"\{%\s*(?:translate|trans)\s+" + _LITERAL + r"(?P<rest>[^%]*)%\}")
TEMPLATE_CONTEXT = re.compile(r"\bcontext\s+" + _LITERAL)


def _is_scanned(path: Path) -> bool:
    rel = path.relative_to(SRC).parts
    return not ({"tests", "locale", "static", "migrations"} & set(rel)) and path.name != "conftest.py"


def used_msgids() -> dict[str, list[str]]:
    """msgid (or ``context\\x04msgid``) -> where it is used, for the patterns makemessages extracts."""
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*")):
        if path.suffix not in {".py", ".html", ".txt"} or not path.is_file() or not _is_scanned(path):
            continue
        text = path.read_text(encoding="utf-8")
        hits: list[tuple[int, str]] = []
        if path.suffix == ".py":
            hits += [(m.start(), ast.literal_eval(m.group("s"))) for m in PY_CALL.finditer(text)]
        else:
            for m in TEMPLATE_TAG.finditer(text):
                msgid = m.group("s")[1:-1]
                ctx = TEMPLATE_CONTEXT.search(m.group("rest"))
                hits.append((m.start(), f"{ctx.group('s')[1:-1]}\x04{msgid}" if ctx else msgid))
            # _("…") in a filter argument, e.g. {{ x|default:_("…") }}
            hits += [(m.start(), m.group("s")[1:-1]) for m in PY_CALL.finditer(text)]
        for pos, msgid in hits:
            if msgid:
                where = f"{path.relative_to(SRC)}:{text.count(chr(10), 0, pos) + 1}"
                found.setdefault(msgid, []).append(where)
    return found


def test_scanner_finds_the_known_strings() -> None:
    used = used_msgids()
    assert "新建客户" in used  # a template {% translate %}
    assert "客户名称" in used  # a model verbose_name via _()
    assert "请填写内容摘要" in used  # a form error via _()


def test_every_marked_string_is_in_the_catalog(po_entries: list[Entry]) -> None:
    known = {e.key for e in _messages(po_entries)}
    missing = sorted(
        f"{msgid!r} ({', '.join(where)})" for msgid, where in used_msgids().items() if msgid not in known
    )
    assert not missing, (
        f"strings marked for translation but missing from the English catalog ({HOW_TO_FIX}):\n"
        + ("\n".join(missing))
    )


# --- (d) the UI really switches ------------------------------------------------------------------


def test_customer_list_is_chinese_by_default(world, client_for) -> None:
    client = client_for(world.owner)
    html = client.get("/customers/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "新建客户" in html
    assert "关系类型" in html
    assert "New customer" not in html


def test_customer_list_in_english_after_setlang(world, client_for) -> None:
    client = client_for(world.owner)
    resp = client.post("/i18n/setlang/", {"language": "en", "next": "/customers/"})
    assert resp.status_code == 302 and resp["Location"] == "/customers/"
    html = client.get("/customers/").content.decode()
    assert '<html lang="en">' in html
    for english in (
        "Customers",
        "New customer",
        "Relationship type",
        "Owner",
        "Last contact",
        "Channel (dealer)",
    ):
        assert english in html, english
    for chinese in ("新建客户", "关系类型", "负责人", "最近联系", "渠道客户"):
        assert chinese not in html, chinese
    assert world.customer.name in html  # data stays as entered


def test_customer_detail_in_english(world, client_for) -> None:
    client = client_for(world.owner)
    client.cookies["django_language"] = "en"
    html = client.get(f"/customers/{world.customer.pk}/").content.decode()
    for english in ("Customer profile", "Timeline", "Log an interaction", "Field history", "Contacts"):
        assert english in html, english
    for chinese in ("客户档案", "时间线", "记录联系", "字段历史"):
        assert chinese not in html, chinese
