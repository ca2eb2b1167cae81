"""Small deterministic generators of Chinese names, phones and addresses (shared by demo and bench).

Every function takes the caller's ``random.Random`` so a fixed seed always gives the same data.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

from guanxi.demo import vocab
from guanxi.search.pinyin import syllables

T = TypeVar("T")


class Picker(Generic[T]):
    """Weighted choice with one random draw and a binary search (fast enough for millions of rows)."""

    def __init__(self, items: Sequence[tuple[T, float]]) -> None:
        self.items = [item for item, _ in items]
        self.cum: list[float] = []
        total = 0.0
        for _, weight in items:
            total += weight
            self.cum.append(total)
        self.total = total

    def __call__(self, rng: random.Random) -> T:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


CITY = Picker([(c, c.weight) for c in vocab.CITIES])
SURNAME = Picker(list(vocab.SURNAMES))
SUFFIX = Picker(list(vocab.SUFFIXES))
CHANNEL = Picker(list(vocab.CHANNEL_WEIGHTS))


@dataclass(frozen=True)
class CompanyName:
    city: str
    brand: str
    trade: str
    suffix: str
    industry: str

    @property
    def name(self) -> str:
        return self.city + self.brand + self.trade + self.suffix

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(p for p in (self.city, self.brand, self.trade, self.suffix) if p)


def company_name(rng: random.Random, city: vocab.City) -> CompanyName:
    brand = rng.choice(vocab.BRAND_FIRST) + rng.choice(vocab.BRAND_SECOND)
    trade, industry = rng.choice(vocab.TRADES)
    suffix = SUFFIX(rng)
    if suffix == "科技有限公司" and trade.endswith(("科技", "技术", "服务", "管理", "代理", "租赁")):
        suffix = "有限公司"  # not 农业科技科技有限公司
    if suffix == "集团" and rng.random() < 0.5:
        trade = ""
    return CompanyName(city.name, brand, trade, suffix, industry)


def person_name(rng: random.Random, gender: str | None = None) -> tuple[str, str]:
    """A Chinese person's name and gender ("m"/"f")."""
    if gender is None:
        gender = "m" if rng.random() < 0.55 else "f"
    given = rng.choice(vocab.GIVEN_MALE if gender == "m" else vocab.GIVEN_FEMALE)
    return SURNAME(rng) + given, gender


def mobile(rng: random.Random) -> str:
    return rng.choice(vocab.MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"


def landline(rng: random.Random, city: vocab.City) -> str:
    digits, first = vocab.LANDLINES.get(city.name, vocab.DEFAULT_LANDLINE)
    rest = rng.randrange(10 ** (digits - 1))
    return f"{city.area_code}-{rng.choice(first)}{rest:0{digits - 1}d}"


@lru_cache(maxsize=100_000)
def pinyin_of(text: str, person: bool = False) -> str:
    return "".join(syllables(text, person=person))


def company_domain(rng: random.Random, company: CompanyName) -> str:
    return pinyin_of(company.brand) + rng.choice(vocab.EMAIL_TLDS)


def person_email(rng: random.Random, name: str, domain: str | None) -> str:
    local = pinyin_of(name, True)
    if rng.random() < 0.3:
        local += str(rng.randrange(1, 100))
    return f"{local}@{domain or rng.choice(vocab.WEB_MAIL)}"


def wechat_id(rng: random.Random, name: str) -> str:
    if rng.random() < 0.4:
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        return "wxid_" + "".join(rng.choice(alphabet) for _ in range(10))
    return pinyin_of(name, True) + str(rng.randrange(1960, 2010))


_AUTONOMOUS = {"内蒙古": "内蒙古自治区", "广西": "广西壮族自治区", "新疆": "新疆维吾尔自治区"}


def address(rng: random.Random, city: vocab.City, district: str) -> str:
    """A postal address: 浙江省杭州市西湖区文化路88号A座 (municipalities have no province part)."""
    if city.province == city.name:
        head = f"{city.name}市"
    else:
        head = _AUTONOMOUS.get(city.province, city.province + "省") + city.name + "市"
    road = rng.choice(vocab.ROADS)
    return f"{head}{district}{road}{rng.randrange(1, 999)}号{rng.choice(vocab.BUILDINGS)}"


def jitter(rng: random.Random, value: float, spread: float = 0.08) -> float:
    return round(value + rng.uniform(-spread, spread), 6)
