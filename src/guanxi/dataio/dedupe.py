"""Finding duplicate customers (查重) over the whole database, scored and explained.

Blocking keeps it linear: only customers that share a *key* are compared — a normalised phone
number, an e-mail address, a WeChat id (of the customer or any of its contacts), or a name key
within the same province: the name with its region prefix and company suffixes (有限公司,
股份有限公司, 集团 …) stripped, both as characters and as pinyin (同音字: 华信 / 华新). A key shared
by very many customers (a switchboard, a 400 number) tells nothing and is skipped. Each candidate
pair is then scored from every signal it has, and each signal is named in the explanation.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from django.db.models import QuerySet

from guanxi.accounts.models import User
from guanxi.customers.models import Contact, ContactPoint, ContactPointKind, Customer
from guanxi.dataio.importing.documents import fast_normalise_phone, fast_syllables

# Longest first so 股份有限公司 is stripped whole, not as 有限公司 leaving 股份.
COMPANY_SUFFIXES = sorted(
    [
        "股份有限公司",
        "有限责任公司",
        "集团股份有限公司",
        "集团有限公司",
        "有限公司",
        "集团公司",
        "集团",
        "总公司",
        "分公司",
        "公司",
        "股份公司",
        "实业",
        "工作室",
        "商行",
        "经营部",
        "门市部",
        "厂",
        "co.,ltd.",
        "co., ltd.",
        "co.,ltd",
        "co. ltd",
        "ltd.",
        "ltd",
        "inc.",
        "inc",
        "llc",
        "limited",
        "corp.",
        "corporation",
        "group",
    ],
    key=len,
    reverse=True,
)
_BRACKETS = re.compile(r"[(（][^)）]*[)）]")
_SPACES = re.compile(r"[\s·.,，、\-_/]+")
MAX_BLOCK = 50
THRESHOLD = 0.5

WEIGHTS = {
    "phone": 0.6,
    "email": 0.6,
    "wechat": 0.6,
    "name": 0.5,
    "name_pinyin": 0.35,
    "same_city": 0.1,
    "other_city": -0.3,
}
REASONS = {
    "phone": ("电话相同", "same phone"),
    "email": ("邮箱相同", "same e-mail"),
    "wechat": ("微信相同", "same WeChat id"),
    "name": ("名称相同（去掉地区和公司后缀后）", "same name (without region and company suffix)"),
    "name_pinyin": ("名称读音相同", "names sound the same (pinyin)"),
    "same_city": ("同一城市", "same city"),
    "other_city": ("不同城市", "different cities"),
}


def core_name(name: str, *, province: str = "", city: str = "") -> str:
    """The distinctive part of a name: NFKC, lower case, no brackets (（中国）), no region prefix, no
    company suffix, no spaces or punctuation."""
    text = unicodedata.normalize("NFKC", name or "").lower().strip()
    text = _BRACKETS.sub("", text)
    text = _SPACES.sub("", text)
    for _ in range(2):
        for suffix in COMPANY_SUFFIXES:
            s = _SPACES.sub("", suffix)
            if text.endswith(s) and len(text) > len(s) + 1:
                text = text[: -len(s)]
                break
    for region in (province, city):
        region = (region or "").strip()
        for prefix in (region + "省", region + "市", region):
            if prefix and text.startswith(prefix) and len(text) > len(prefix) + 1:
                text = text[len(prefix) :]
                break
    return text


@dataclass
class Candidate:
    id: int
    name: str
    province: str
    city: str
    keys: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


@dataclass
class DuplicatePair:
    a: int
    b: int
    a_name: str
    b_name: str
    score: float
    signals: list[str]

    @property
    def reasons(self) -> list[str]:
        return [f"{REASONS[s][0]} / {REASONS[s][1]}" for s in self.signals]

    def as_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "a_name": self.a_name,
            "b_name": self.b_name,
            "score": round(self.score, 2),
            "signals": self.signals,
            "reasons": self.reasons,
        }


def _load(customers: QuerySet[Customer]) -> dict[int, Candidate]:
    candidates: dict[int, Candidate] = {}
    ids = customers.values("pk")
    for pk, name, province, city, phone, email in customers.values_list(
        "pk", "name", "province", "city", "phone", "email"
    ).iterator(chunk_size=5000):
        cand = Candidate(pk, name, province, city)
        core = core_name(name, province=province, city=city)
        if core:
            cand.keys["name"].add(f"{province}|{core}")
            cand.keys["name_pinyin"].add(f"{province}|{''.join(fast_syllables(core))}")
        if phone:
            value = fast_normalise_phone(phone)[0]
            if value and len(re.sub(r"\D", "", value)) >= 7:
                cand.keys["phone"].add(value)
        if email:
            cand.keys["email"].add(email.strip().lower())
        candidates[pk] = cand
    for customer_id, kind, value in (
        ContactPoint.objects.filter(contact__customer__in=ids)
        .values_list("contact__customer_id", "kind", "value")
        .iterator(chunk_size=5000)
    ):
        point_owner = candidates.get(customer_id)
        if point_owner is not None and value:
            point_owner.keys["phone" if kind == ContactPointKind.PHONE else "email"].add(value)
    for customer_id, wechat in (
        Contact.objects.filter(customer__in=ids).exclude(wechat_id="").values_list("customer_id", "wechat_id")
    ).iterator(chunk_size=5000):
        wechat_owner = candidates.get(customer_id)
        if wechat_owner is not None:
            wechat_owner.keys["wechat"].add(wechat.strip().lower())
    return candidates


def find_duplicates(
    customers: QuerySet[Customer], *, threshold: float = THRESHOLD, limit: int | None = None
) -> list[DuplicatePair]:
    candidates = _load(customers)
    return score_candidates(candidates.values(), threshold=threshold, limit=limit)


def score_candidates(
    candidates: Iterable[Candidate], *, threshold: float = THRESHOLD, limit: int | None = None
) -> list[DuplicatePair]:
    by_id = {c.id: c for c in candidates}
    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for cand in by_id.values():
        for signal, keys in cand.keys.items():
            for key in keys:
                blocks[(signal, key)].append(cand.id)
    shared: dict[tuple[int, int], set[str]] = defaultdict(set)
    for (signal, _key), members in blocks.items():
        if len(members) < 2 or len(members) > MAX_BLOCK:
            continue
        for a, b in combinations(sorted(set(members)), 2):
            shared[(a, b)].add(signal)
    pairs = []
    for (a, b), signals in shared.items():
        ca, cb = by_id[a], by_id[b]
        if "name" in signals:
            signals.discard("name_pinyin")
        if ca.city and cb.city:
            signals.add("same_city" if ca.city == cb.city else "other_city")
        score = min(1.0, sum(WEIGHTS[s] for s in signals))
        if score >= threshold:
            ordered = sorted(signals, key=lambda s: -WEIGHTS[s])
            pairs.append(DuplicatePair(a, b, ca.name, cb.name, score, ordered))
    pairs.sort(key=lambda p: (-p.score, p.a, p.b))
    return pairs[:limit] if limit else pairs


def duplicates_for_user(
    *, user: User, threshold: float = THRESHOLD, limit: int | None = 500
) -> list[DuplicatePair]:
    """Duplicate pairs among the customers ``user`` can see."""
    from guanxi.customers.selectors import customer_queryset_for_user

    return find_duplicates(customer_queryset_for_user(user), threshold=threshold, limit=limit)


def contact_duplicates(customer: Customer) -> list[tuple[Contact, Contact, list[str]]]:
    """Contacts of one customer that are the same person: same name, phone, e-mail or WeChat id."""
    contacts = list(customer.contacts.prefetch_related("points"))
    out = []
    for a, b in combinations(contacts, 2):
        signals = []
        if a.name.strip() and a.name.strip() == b.name.strip():
            signals.append("同名 / same name")
        if {p.value for p in a.points.all()} & {p.value for p in b.points.all()}:
            signals.append("电话或邮箱相同 / same phone or e-mail")
        if a.wechat_id and a.wechat_id == b.wechat_id:
            signals.append("微信相同 / same WeChat id")
        if signals:
            out.append((a, b, signals))
    return out
