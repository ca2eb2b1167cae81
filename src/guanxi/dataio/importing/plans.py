"""The preview's plan, kept for the confirm.

Reading a file and preparing its customer drafts (validation, phone normalisation, search
documents, sort keys) is pure CPU and depends on nothing but the file, the import's options and
this code; the preview has done it already when the user confirms. So a customers preview writes
what it prepared — the drafts and the report up to that point, before any database matching —
beside the stored upload, and the confirm takes it instead of preparing again.

The confirm reuses it only when it would have prepared exactly the same: the same bytes (SHA-256
of the file read again at confirm time), file name, kind, encoding and sheet, the same code and
reader libraries, and the same resolved column mapping per sheet. Anything else — a changed file, a
new mapping or encoding, an upgrade in between, an unreadable or missing plan — means a fresh plan.
Matching against the database always runs again at confirm time: customers may have been added
or changed since the preview.

JSON, not pickle: the plan lies beside user uploads and is only ever data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import zlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from guanxi.dataio.importing.customers import ContactDraft, CustomerDraft
from guanxi.dataio.importing.report import Outcome, Report

FORMAT = 1
SUFFIX = ".plan"
_CODE_MODULES = (
    "guanxi.dataio.importing.customers",
    "guanxi.dataio.importing.documents",
    "guanxi.dataio.importing.mapping",
    "guanxi.dataio.importing.plans",
    "guanxi.dataio.importing.readers",
    "guanxi.dataio.importing.report",
    "guanxi.dataio.importing.values",
    "guanxi.customers.phones",
    "guanxi.search.documents",
    "guanxi.search.pinyin",
)
_LIBRARIES = ("pypinyin", "phonenumbers", "python-calamine", "charset-normalizer", "vobject")


@dataclass
class Prepared:
    """One sheet's customer drafts, as ``customers.prepare`` left them."""

    kind: str
    sheet: str
    mapping: dict[str, str]
    drafts: list[CustomerDraft]


def path_for(upload: str | Path) -> Path:
    upload = Path(upload)
    return upload.with_name(upload.name + SUFFIX)


@lru_cache(maxsize=1)
def _code_version() -> str:
    """What the prepared drafts depend on besides the file: this package's code and its readers."""
    import importlib

    digest = hashlib.sha256(str(FORMAT).encode())
    for name in _CODE_MODULES:
        module = importlib.import_module(name)
        try:
            digest.update(Path(module.__file__ or "").read_bytes())
        except OSError:
            # Code we cannot read cannot be compared: this process's plans match only itself.
            digest.update(os.urandom(16))
    for library in _LIBRARIES:
        try:
            digest.update(f"{library}={metadata.version(library)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library}=-".encode())
    return digest.hexdigest()


def fingerprint(data: bytes, *, file_name: str, kind: str, encoding: str, sheet: str) -> str:
    digest = hashlib.sha256(data)
    digest.update(json.dumps([file_name, kind, encoding, sheet, _code_version()]).encode())
    return digest.hexdigest()


# --- to and from JSON ----------------------------------------------------------------------------


def _contact_fields(fields: dict[str, Any]) -> dict[str, Any]:
    birthday = fields.get("birthday")
    return {**fields, "birthday": birthday.isoformat()} if isinstance(birthday, dt.date) else fields


def dumps(key: str, report: Report, prepared: list[Prepared]) -> bytes:
    """The plan as compressed JSON (taken before ``match`` changes drafts and outcomes)."""
    plan = {
        "format": FORMAT,
        "key": key,
        "report": {
            "file": report.file,
            "notes": report.notes,
            "errors": report.errors,
            "rows": [
                [o.row, o.action, o.name, o.customer_id, o.merged_into_row, o.reason, o.flags, o.errors]
                for o in report.rows.values()
            ],
        },
        "prepared": [
            {
                "kind": p.kind,
                "sheet": p.sheet,
                "mapping": p.mapping,
                "drafts": [
                    [
                        d.row,
                        d.fields,
                        sorted(d.tags),
                        d.rows,
                        d.doc,
                        d.sort_key,
                        [
                            [c.row, _contact_fields(c.fields), c.phones, c.emails, c.doc, c.sort_key]
                            for c in d.contacts
                        ],
                    ]
                    for d in p.drafts
                ],
            }
            for p in prepared
        ],
    }
    return zlib.compress(json.dumps(plan, separators=(",", ":")).encode(), 1)


def _contact(item: list[Any]) -> ContactDraft:
    row, fields, phones, emails, doc, sort_key = item
    if isinstance(fields.get("birthday"), str):
        fields["birthday"] = dt.date.fromisoformat(fields["birthday"])
    return ContactDraft(
        row=row,
        fields=fields,
        phones=[tuple(p) for p in phones],  # type: ignore[misc]
        emails=[tuple(e) for e in emails],  # type: ignore[misc]
        doc=doc,
        sort_key=sort_key,
    )


def loads(raw: bytes, key: str) -> tuple[Report, list[Prepared]] | None:
    """The plan stored under ``key``; None when it is another's, unreadable or of another format."""
    try:
        plan = json.loads(zlib.decompress(raw))
        if plan.get("format") != FORMAT or plan.get("key") != key:
            return None
        report = Report()
        stored = plan["report"]
        report.file = stored["file"]
        report.notes = stored["notes"]
        report.errors = stored["errors"]
        report.rows = {
            r[0]: Outcome(
                row=r[0],
                action=r[1],
                name=r[2],
                customer_id=r[3],
                merged_into_row=r[4],
                reason=r[5],
                flags=r[6],
                errors=r[7],
            )
            for r in stored["rows"]
        }
        prepared = [
            Prepared(
                kind=p["kind"],
                sheet=p["sheet"],
                mapping=p["mapping"],
                drafts=[
                    CustomerDraft(
                        row=row,
                        fields=fields,
                        tags=set(tags),
                        rows=rows,
                        doc=doc,
                        sort_key=sort_key,
                        contacts=[_contact(c) for c in contacts],
                    )
                    for row, fields, tags, rows, doc, sort_key, contacts in p["drafts"]
                ],
            )
            for p in plan["prepared"]
        ]
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, zlib.error):
        return None
    return report, prepared


def save(path: Path, raw: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(raw)
    tmp.replace(path)


def load(path: Path, key: str) -> tuple[Report, list[Prepared]] | None:
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    return loads(raw, key)


def discard(upload: str | Path) -> None:
    path_for(upload).unlink(missing_ok=True)
