from __future__ import annotations

import pytest

from guanxi.customers.phones import normalise_phone


@pytest.mark.parametrize(
    ("raw", "value", "label", "ambiguous"),
    [
        ("13900139000", "+8613900139000", "mobile", False),
        ("１３９００１３９０００", "+8613900139000", "mobile", False),  # full-width digits
        ("+86 139-0013-9000", "+8613900139000", "mobile", False),
        ("0086 13900139000", "+8613900139000", "mobile", False),
        ("13900139000.0", "+8613900139000", "mobile", False),  # Excel float
        ("010-62345678", "+861062345678", "landline", False),
        ("400-800-1234", "4008001234", "service", False),
        ("8008101234", "8008101234", "service", False),
        ("+1 415 555 2671", "+14155552671", "foreign", False),
        ("(415) 555-2671", "+864155552671", "landline", True),  # valid in US too: flagged, not trusted
        ("12345", "12345", "unknown", True),
        ("电话", "", "unknown", True),
    ],
)
def test_normalise_phone(raw, value, label, ambiguous):
    phone = normalise_phone(raw)
    assert (phone.value, phone.label, phone.ambiguous) == (value, label, ambiguous)
    assert phone.raw == raw
