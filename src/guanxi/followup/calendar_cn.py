"""Chinese calendar arithmetic: lunar (农历) birthdays each year, and the festival dates of any year.

The lunar calendar comes from borax (tables for 1900–2100); Qingming (清明) is a solar term, also
from borax's tables. Everything here is pure and deterministic; nothing touches the database.

Rules for a lunar birthday in a given lunar year (documented in the README as well):

* a birthday in a **leap month** X (闰X月) is kept in the leap month in years that have leap month X,
  and falls in the regular month X in years without it (the common custom: most years have no leap
  month X at all);
* a birthday in the regular month X stays in the regular month X even in a year with a leap month X
  (it is celebrated once, in the first month X);
* day 30 in a month that has only 29 days that year is celebrated on day 29 (the month's last day).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from borax.calendars.lunardate import LCalendars, LunarDate, TermUtils

# borax's tables cover lunar years 1900–2100; the first and last are partial.
MIN_YEAR = 1901
MAX_YEAR = 2099


class CalendarRangeError(ValueError):
    """A date outside the years the lunar tables cover."""


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CalendarRangeError(f"year {year} outside {MIN_YEAR}–{MAX_YEAR}")


def valid_lunar_date(month: int, day: int, leap: bool) -> bool:
    """Whether (month, day, leap) can be a lunar birthday at all (any year: months 1–12, days 1–30)."""
    return 1 <= month <= 12 and 1 <= day <= 30 and isinstance(leap, bool)


def lunar_to_solar(year: int, month: int, day: int, leap: bool = False) -> dt.date:
    """The Gregorian date of an exact lunar date; raises ValueError when it does not exist."""
    _check_year(year)
    if leap and LCalendars.leap_month(year) != month:
        raise ValueError(f"lunar year {year} has no leap month {month}")
    if day > LCalendars.ndays(year, month, int(leap)):
        raise ValueError(f"lunar {year}-{month} has no day {day}")
    return LunarDate(year, month, day, int(leap)).to_solar_date()  # type: ignore[no-any-return]


def solar_to_lunar(day: dt.date) -> tuple[int, int, int, bool]:
    """(lunar year, month, day, is leap month) of a Gregorian date."""
    _check_year(day.year)
    ld = LunarDate.from_solar_date(day.year, day.month, day.day)
    return ld.year, ld.month, ld.day, bool(ld.leap)


def lunar_birthday_in_year(lunar_year: int, month: int, day: int, leap: bool = False) -> dt.date:
    """The Gregorian date a lunar birthday (month, day, leap) falls on in ``lunar_year`` (rules above)."""
    _check_year(lunar_year)
    if not valid_lunar_date(month, day, leap):
        raise ValueError(f"invalid lunar month/day {month}/{day}")
    if leap and LCalendars.leap_month(lunar_year) != month:
        leap = False
    day = min(day, LCalendars.ndays(lunar_year, month, int(leap)))
    return LunarDate(lunar_year, month, day, int(leap)).to_solar_date()  # type: ignore[no-any-return]


def next_lunar_birthday(month: int, day: int, leap: bool, on_or_after: dt.date) -> dt.date:
    """The first occurrence of a lunar birthday on or after a Gregorian date."""
    year = solar_to_lunar(on_or_after)[0]
    for lunar_year in (year - 1, year, year + 1):
        if MIN_YEAR <= lunar_year <= MAX_YEAR:
            when = lunar_birthday_in_year(lunar_year, month, day, leap)
            if when >= on_or_after:
                return when
    raise CalendarRangeError(f"no lunar birthday after {on_or_after}")


def solar_anniversary(month: int, day: int, year: int) -> dt.date:
    """A yearly date in ``year``; 29 February falls on 28 February in common years."""
    if month == 2 and day == 29:
        try:
            return dt.date(year, 2, 29)
        except ValueError:
            return dt.date(year, 2, 28)
    return dt.date(year, month, day)


def next_solar_anniversary(month: int, day: int, on_or_after: dt.date) -> dt.date:
    when = solar_anniversary(month, day, on_or_after.year)
    return when if when >= on_or_after else solar_anniversary(month, day, on_or_after.year + 1)


def lunar_keys_for_day(day: dt.date) -> set[tuple[int, int, bool]]:
    """Every stored lunar birthday (month, day, leap) that is celebrated on this Gregorian day.

    The inverse of ``lunar_birthday_in_year``, used to find the contacts whose birthday is on a given
    day with one indexed-free but set-based query instead of converting every contact's birthday.
    """
    year, month, lday, leap = solar_to_lunar(day)
    keys = {(month, lday, leap)}
    if not leap and LCalendars.leap_month(year) != month:
        keys.add((month, lday, True))  # a leap-month birthday in a year without that leap month
    if lday == LCalendars.ndays(year, month, int(leap)) and lday == 29:
        keys.add((month, 30, leap))  # day 30 in a 29-day month
        if (month, 30, True) not in keys and not leap and LCalendars.leap_month(year) != month:
            keys.add((month, 30, True))
    return keys


@dataclass(frozen=True)
class Festival:
    """A festival (节日) or an administrator-defined date, in either calendar."""

    code: str
    name_zh: str
    name_en: str
    calendar: str  # "solar" | "lunar" | "term"
    month: int = 0
    day: int = 0
    term: str = ""
    lead_days: int = 7
    greeting_zh: str = ""
    greeting_en: str = ""

    def date_in(self, year: int) -> dt.date:
        """The festival's Gregorian date in Gregorian ``year``."""
        if self.calendar == "solar":
            return solar_anniversary(self.month, self.day, year)
        _check_year(year)
        if self.calendar == "term":
            return TermUtils.nth_term_day(year, term_name=self.term)  # type: ignore[no-any-return]
        # Lunar festivals in lunar year Y fall in Gregorian Y, except late lunar-12th-month dates,
        # which can fall in January of Y + 1: take the occurrence inside the Gregorian year.
        for lunar_year in (year, year - 1):
            if MIN_YEAR <= lunar_year <= MAX_YEAR:
                when = lunar_birthday_in_year(lunar_year, self.month, self.day, False)
                if when.year == year:
                    return when
        raise CalendarRangeError(f"{self.code} has no date in {year}")

    def occurrences(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Dates of this festival between ``start`` and ``end`` inclusive."""
        out = []
        for year in range(start.year, end.year + 1):
            try:
                when = self.date_in(year)
            except (CalendarRangeError, ValueError):
                continue
            if start <= when <= end:
                out.append(when)
        return out


BUILTIN_FESTIVALS: tuple[Festival, ...] = (
    Festival(
        "new_year",
        "元旦",
        "New Year's Day",
        "solar",
        1,
        1,
        lead_days=5,
        greeting_zh="{name}您好！值此元旦佳节，祝您新年快乐，万事如意！感谢一年来的支持与信任。——{sender}",
        greeting_en="Dear {name}, happy New Year! Thank you for your trust and support this past year. "
        "— {sender}",
    ),
    Festival(
        "spring",
        "春节",
        "Spring Festival",
        "lunar",
        1,
        1,
        lead_days=10,
        greeting_zh="{name}您好！春节将至，祝您和家人新春快乐，阖家幸福，生意兴隆！——{sender}",
        greeting_en="Dear {name}, happy Chinese New Year! Wishing you and your family health, happiness "
        "and prosperity. — {sender}",
    ),
    Festival(
        "lantern",
        "元宵节",
        "Lantern Festival",
        "lunar",
        1,
        15,
        lead_days=3,
        greeting_zh="{name}您好！元宵佳节，祝您团团圆圆，事事顺心！——{sender}",
        greeting_en="Dear {name}, best wishes for the Lantern Festival! — {sender}",
    ),
    Festival(
        "qingming",
        "清明节",
        "Qingming Festival",
        "term",
        term="清明",
        lead_days=3,
        greeting_zh="{name}您好！清明时节，祝您和家人平安安康。——{sender}",
        greeting_en="Dear {name}, wishing you and your family peace and good health this Qingming. "
        "— {sender}",
    ),
    Festival(
        "dragon_boat",
        "端午节",
        "Dragon Boat Festival",
        "lunar",
        5,
        5,
        lead_days=5,
        greeting_zh="{name}您好！端午安康！祝您节日愉快，工作顺利！——{sender}",
        greeting_en="Dear {name}, happy Dragon Boat Festival! — {sender}",
    ),
    Festival(
        "mid_autumn",
        "中秋节",
        "Mid-Autumn Festival",
        "lunar",
        8,
        15,
        lead_days=7,
        greeting_zh="{name}您好！中秋佳节，月圆人圆，祝您和家人团圆美满，生活幸福！——{sender}",
        greeting_en="Dear {name}, happy Mid-Autumn Festival! May you and your family enjoy a happy "
        "reunion. — {sender}",
    ),
    Festival(
        "national_day",
        "国庆节",
        "National Day",
        "solar",
        10,
        1,
        lead_days=5,
        greeting_zh="{name}您好！国庆快乐！祝您假期愉快，万事顺意！——{sender}",
        greeting_en="Dear {name}, happy National Day holiday! — {sender}",
    ),
)
