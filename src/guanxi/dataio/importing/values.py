"""Cell text → field values, each failure a message naming the field (the caller adds row/column)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import models

from guanxi.customers.models import (
    CustomerKind,
    CustomerSource,
    CustomerStatus,
    Gender,
    RelationshipType,
)


class CellError(Exception):
    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message = f"{message_zh} / {message_en}"


_FORMULA = re.compile(r"^=[A-Za-z_(\"'0-9+\-]")


def check_not_formula(text: str) -> None:
    if _FORMULA.match(text):
        raise CellError(
            f"单元格是公式「{text[:30]}」，请粘贴为数值", f"the cell is a formula {text[:30]!r}; paste values"
        )


_QUOTED = ("'=", "'+", "'-", "'@")


def unquote(text: str) -> str:
    """A cell our exports (and careful users) protected with a leading apostrophe is plain text."""
    return text[1:] if text.startswith(_QUOTED) else text


def cell(raw: str, *, text_formulas: bool) -> str:
    if text_formulas:
        check_not_formula(raw)
    return unquote(raw)


def text(value: str, *, max_length: int | None) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if max_length is not None and len(value) > max_length:
        raise CellError(f"超过 {max_length} 字", f"longer than {max_length} characters")
    return value


def _choice_lookup(choices: type[models.TextChoices], extra: dict[str, str] | None = None) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for value, label in choices.choices:
        lookup[str(value).lower()] = str(value)
        lookup[str(label).lower()] = str(value)
        # "微型 (<10人)" is also written "微型".
        lookup[re.split(r"[\s(（]", str(label))[0].lower()] = str(value)
    for key, value in (extra or {}).items():
        lookup[key.lower()] = value
    return lookup


CHOICES: dict[str, dict[str, str]] = {
    "kind": _choice_lookup(
        CustomerKind, {"公司": "company", "单位": "company", "个体": "person", "个人客户": "person"}
    ),
    "status": _choice_lookup(CustomerStatus, {"合作": "active", "成交": "active", "意向": "prospect"}),
    "relationship_type": _choice_lookup(
        RelationshipType, {"上游": "upstream", "协作": "partner", "渠道": "channel", "终端": "end"}
    ),
    "lead_source": _choice_lookup(CustomerSource),
    "gender": _choice_lookup(
        Gender, {"male": "m", "female": "f", "男性": "m", "女性": "f", "先生": "m", "女士": "f"}
    ),
}


def choice(field: str, value: str) -> str:
    found = CHOICES[field].get(value.strip().lower())
    if found is None:
        options = sorted(set(CHOICES[field].values()))
        raise CellError(f"无法识别的值「{value}」", f"unknown value {value!r} (one of {', '.join(options)})")
    return found


_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y%m%d",
    "%Y年%m月%d日",
    "%m/%d/%Y",
    "%Y-%m-%dT%H:%M:%S",
)


def date(value: str) -> dt.date:
    value = unicodedata.normalize("NFKC", value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()  # noqa: DTZ007 (a calendar date, no zone)
        except ValueError:
            continue
    raise CellError(f"日期格式无法识别「{value}」", f"not a date: {value!r} (use YYYY-MM-DD)")


def datetime_value(value: str, tz: dt.tzinfo) -> dt.datetime:
    value = unicodedata.normalize("NFKC", value).strip()
    for fmt in (
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ):
        try:
            return dt.datetime.strptime(value, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    day = date(value)
    return dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=tz)


def decimal(value: str, *, positive: bool = False) -> Decimal:
    cleaned = unicodedata.normalize("NFKC", value).strip().replace(",", "").replace("¥", "").replace("￥", "")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise CellError(f"不是数字「{value}」", f"not a number: {value!r}") from None
    if not number.is_finite() or number < 0 or (positive and number == 0) or abs(number) >= Decimal("1e10"):
        raise CellError(f"数值不合理「{value}」", f"out of range: {value!r}")
    return number.quantize(Decimal("0.01"))


_SPLIT_LIST = re.compile(r"[,;，；、|/\n]+")


def split_list(value: str) -> list[str]:
    return [p.strip() for p in _SPLIT_LIST.split(value) if p.strip()]


_EMAIL_FAST = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+$")


def email(value: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    if not _EMAIL_FAST.match(value):
        try:
            validate_email(value)
        except DjangoValidationError:
            raise CellError(f"邮箱格式错误「{value}」", f"invalid e-mail address {value!r}") from None
    if len(value) > 120:
        raise CellError("邮箱过长", "e-mail address too long")
    return value


def max_lengths(model: type[models.Model]) -> dict[str, int | None]:
    return {f.name: getattr(f, "max_length", None) for f in model._meta.concrete_fields}


def plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
