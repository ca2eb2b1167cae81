from __future__ import annotations

import random

from guanxi.dataio.dedupe import Candidate, core_name, duplicates_for_user, score_candidates
from guanxi.dataio.importing.documents import fast_normalise_phone, fast_syllables
from guanxi.demo import vocab
from guanxi.testing.factories import make_contact, make_customer


def test_core_name_strips_region_and_company_suffixes():
    assert core_name("深圳市腾达贸易有限公司", province="广东", city="深圳") == "腾达贸易"
    assert core_name("腾达贸易股份有限公司") == core_name("腾达贸易（深圳）有限公司") == "腾达贸易"
    assert core_name("Tengda Trading Co., Ltd.") == "tengdatrading"


def _candidate(i: int, name: str, province: str, city: str, phone: str = "", email: str = "") -> Candidate:
    cand = Candidate(i, name, province, city)
    core = core_name(name, province=province, city=city)
    cand.keys["name"].add(f"{province}|{core}")
    cand.keys["name_pinyin"].add(f"{province}|{''.join(fast_syllables(core))}")
    if phone:
        cand.keys["phone"].add(fast_normalise_phone(phone)[0])
    if email:
        cand.keys["email"].add(email.lower())
    return cand


def test_precision_and_recall_on_a_generated_set():
    rng = random.Random(7)
    cities = list(vocab.CITIES)[:12]
    candidates, truth, next_id = [], set(), 1
    used = set()
    for _ in range(600):
        city = rng.choice(cities)
        while True:
            brand = rng.choice(vocab.BRAND_FIRST) + rng.choice(vocab.BRAND_SECOND)
            if brand not in used:
                used.add(brand)
                break
        trade = rng.choice(vocab.TRADES)[0]
        name = f"{city.name}{brand}{trade}有限公司"
        phone = f"139{rng.randrange(10**8):08d}"
        base = _candidate(next_id, name, city.province, city.name, phone=phone, email=f"info{next_id}@x.cn")
        candidates.append(base)
        next_id += 1
        roll = rng.random()
        if roll < 0.3:  # a duplicate: another suffix, no region, same phone written differently
            dup = _candidate(
                next_id,
                f"{brand}{trade}股份有限公司",
                city.province,
                city.name,
                phone=f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}",
            )
            truth.add((base.id, next_id))
            candidates.append(dup)
            next_id += 1
        elif roll < 0.4:  # same name, typed again without a phone
            dup = _candidate(next_id, f"{brand}{trade}公司", city.province, city.name)
            truth.add((base.id, next_id))
            candidates.append(dup)
            next_id += 1
        elif roll < 0.5:  # the same brand in another province: a different company
            other = rng.choice([c for c in cities if c.province != city.province])
            candidates.append(
                _candidate(next_id, f"{other.name}{brand}{trade}有限公司", other.province, other.name)
            )
            next_id += 1
    found = {(p.a, p.b) for p in score_candidates(candidates)}
    true_positive = len(found & truth)
    precision = true_positive / len(found)
    recall = true_positive / len(truth)
    assert precision >= 0.95, precision
    assert recall >= 0.95, recall


def test_scan_explains_and_respects_visibility(world):
    dup = make_customer(world.owner, name="华为技术股份有限公司", province="广东", city="深圳")
    make_contact(dup, name="张伟", phones=["+86 139-0013-9000"])
    other = make_customer(world.outsider, name="华为技术有限公司", province="广东", city="深圳")
    pairs = duplicates_for_user(user=world.owner)
    assert [(p.a, p.b) for p in pairs] == [(world.customer.pk, dup.pk)]
    assert pairs[0].score == 1.0
    assert set(pairs[0].signals) == {"phone", "name", "same_city"}
    assert any("电话相同" in r for r in pairs[0].reasons)
    admin_pairs = {(p.a, p.b) for p in duplicates_for_user(user=world.admin)}
    assert (world.customer.pk, other.pk) in admin_pairs
    assert all(other.pk not in (p.a, p.b) for p in pairs)
