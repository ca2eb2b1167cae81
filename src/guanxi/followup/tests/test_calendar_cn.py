"""Lunar birthdays and festival dates against known dates, and the leap-month and day-30 rules."""

from __future__ import annotations

import datetime as dt

import pytest

from guanxi.followup import calendar_cn
from guanxi.followup.calendar_cn import BUILTIN_FESTIVALS

FESTIVAL = {f.code: f for f in BUILTIN_FESTIVALS}

KNOWN = [
    ("spring", 2023, dt.date(2023, 1, 22)),
    ("spring", 2024, dt.date(2024, 2, 10)),
    ("spring", 2025, dt.date(2025, 1, 29)),
    ("spring", 2026, dt.date(2026, 2, 17)),
    ("spring", 2027, dt.date(2027, 2, 6)),
    ("lantern", 2024, dt.date(2024, 2, 24)),
    ("lantern", 2025, dt.date(2025, 2, 12)),
    ("qingming", 2024, dt.date(2024, 4, 4)),
    ("qingming", 2025, dt.date(2025, 4, 4)),
    ("qingming", 2026, dt.date(2026, 4, 5)),
    ("dragon_boat", 2024, dt.date(2024, 6, 10)),
    ("dragon_boat", 2025, dt.date(2025, 5, 31)),
    ("dragon_boat", 2026, dt.date(2026, 6, 19)),
    ("mid_autumn", 2023, dt.date(2023, 9, 29)),
    ("mid_autumn", 2024, dt.date(2024, 9, 17)),
    ("mid_autumn", 2025, dt.date(2025, 10, 6)),
    ("mid_autumn", 2026, dt.date(2026, 9, 25)),
    ("national_day", 2025, dt.date(2025, 10, 1)),
    ("new_year", 2026, dt.date(2026, 1, 1)),
]


@pytest.mark.parametrize(("code", "year", "expected"), KNOWN)
def test_festival_dates_of_several_years(code, year, expected):
    assert FESTIVAL[code].date_in(year) == expected


def test_festival_occurrences_in_a_window_cross_the_year():
    spring = FESTIVAL["spring"]
    assert spring.occurrences(dt.date(2024, 12, 1), dt.date(2026, 3, 1)) == [
        dt.date(2025, 1, 29),
        dt.date(2026, 2, 17),
    ]


def test_lunar_birthday_is_converted_each_year():
    # 农历八月十五 = the Mid-Autumn days above
    assert calendar_cn.lunar_birthday_in_year(2024, 8, 15) == dt.date(2024, 9, 17)
    assert calendar_cn.lunar_birthday_in_year(2025, 8, 15) == dt.date(2025, 10, 6)
    assert calendar_cn.next_lunar_birthday(8, 15, False, dt.date(2024, 9, 18)) == dt.date(2025, 10, 6)


def test_leap_month_birthday_in_years_with_and_without_that_leap_month():
    # 2023 has a leap 2nd month (闰二月 starts 2023-03-22); 2025 has a leap 6th month (starts 2025-07-25).
    assert calendar_cn.lunar_birthday_in_year(2023, 2, 1, leap=True) == dt.date(2023, 3, 22)
    assert calendar_cn.lunar_birthday_in_year(2023, 2, 1, leap=False) == dt.date(2023, 2, 20)
    # 2024 has no leap 2nd month: the leap-month birthday falls in the regular 2nd month.
    assert calendar_cn.lunar_birthday_in_year(2024, 2, 1, leap=True) == calendar_cn.lunar_to_solar(2024, 2, 1)
    assert calendar_cn.lunar_birthday_in_year(2025, 6, 1, leap=True) == dt.date(2025, 7, 25)
    assert calendar_cn.lunar_birthday_in_year(2026, 6, 1, leap=True) == calendar_cn.lunar_to_solar(2026, 6, 1)


def test_day_30_in_a_29_day_month_falls_on_day_29():
    from borax.calendars.lunardate import LCalendars

    short = next((y, m) for y in range(2024, 2040) for m in range(1, 13) if LCalendars.ndays(y, m, 0) == 29)
    long = next((y, m) for y in range(2024, 2040) for m in range(1, 13) if LCalendars.ndays(y, m, 0) == 30)
    assert calendar_cn.lunar_birthday_in_year(*short, 30) == calendar_cn.lunar_to_solar(*short, 29)
    assert calendar_cn.lunar_birthday_in_year(*long, 30) == calendar_cn.lunar_to_solar(*long, 30)
    with pytest.raises(ValueError, match="no day 30"):
        calendar_cn.lunar_to_solar(*short, 30)


def test_lunar_keys_for_day_are_the_exact_inverse_of_the_yearly_conversion():
    """Every stored (month, day, leap) maps to exactly the days whose keys contain it (2023–2025)."""
    start, end = dt.date(2023, 1, 1), dt.date(2025, 12, 31)
    keys_by_day = {}
    d = start
    while d <= end:
        keys_by_day[d] = calendar_cn.lunar_keys_for_day(d)
        d += dt.timedelta(days=1)
    for month in range(1, 13):
        for day in range(1, 31):
            for leap in (False, True):
                expected = {
                    calendar_cn.lunar_birthday_in_year(y, month, day, leap)
                    for y in (2022, 2023, 2024, 2025, 2026)
                }
                expected = {x for x in expected if start <= x <= end}
                found = {x for x, keys in keys_by_day.items() if (month, day, leap) in keys}
                assert found == expected, (month, day, leap)


def test_29_february_falls_on_28_february_in_common_years():
    assert calendar_cn.solar_anniversary(2, 29, 2025) == dt.date(2025, 2, 28)
    assert calendar_cn.solar_anniversary(2, 29, 2028) == dt.date(2028, 2, 29)


def test_impossible_and_out_of_range_dates_are_refused():
    assert not calendar_cn.valid_lunar_date(13, 1, False)
    assert not calendar_cn.valid_lunar_date(1, 31, False)
    with pytest.raises(ValueError, match="no leap month"):
        calendar_cn.lunar_to_solar(2024, 2, 1, leap=True)
    with pytest.raises(calendar_cn.CalendarRangeError):
        calendar_cn.lunar_birthday_in_year(1850, 1, 1)
