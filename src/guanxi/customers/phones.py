"""Phone number normalisation (default region CN), keeping the raw text.

Handles full-width digits, +86/0086 prefixes, landline area codes, 400/800 service numbers and
numbers Excel turned into floats (``13900139000.0``). What cannot be read with confidence is
flagged as ambiguous rather than guessed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType


@dataclass(frozen=True)
class NormalisedPhone:
    raw: str
    value: str  # E.164 when understood, else the bare digits
    label: str  # mobile | landline | service | foreign | unknown
    ambiguous: bool


_FLOAT_FORM = re.compile(r"^(\d{5,15})\.0+$")
_SERVICE = re.compile(r"^(400|800)\d{7}$")


def normalise_phone(raw: str, *, region: str = "CN") -> NormalisedPhone:
    text = unicodedata.normalize("NFKC", raw or "").strip()
    match = _FLOAT_FORM.match(text)
    if match:
        text = match.group(1)
    digits = re.sub(r"\D", "", text)
    if not digits:
        return NormalisedPhone(raw, "", "unknown", True)
    if _SERVICE.match(digits):
        return NormalisedPhone(raw, digits, "service", False)
    if text.startswith("00"):
        text = "+" + text.lstrip("0")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return NormalisedPhone(raw, digits, "unknown", True)
    if not phonenumbers.is_valid_number(number):
        return NormalisedPhone(raw, digits, "unknown", True)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number.country_code != 86:
        return NormalisedPhone(raw, e164, "foreign", False)
    kind = phonenumbers.number_type(number)
    label = "mobile" if kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE) else "landline"
    # Written without +86 it may equally be a valid number elsewhere, e.g. "(415) 555-2671":
    # a Chinese landline reading of a US number. Flag those instead of trusting region CN.
    ambiguous = False
    if not text.startswith("+") and label == "landline":
        for other in ("US", "GB", "HK", "TW", "SG"):
            try:
                alt = phonenumbers.parse(text, other)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(alt):
                ambiguous = True
                break
    return NormalisedPhone(raw, e164, label, ambiguous)
