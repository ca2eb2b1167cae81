"""Gap detection (关系缺口) on hand-made facts: no database involved."""

from __future__ import annotations

import datetime as dt

from guanxi.relations.selectors import ContactFacts, detect_gaps

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
LONG_AGO = NOW - dt.timedelta(days=400)
RECENT = NOW - dt.timedelta(days=3)


def person(
    pk: int,
    roles: tuple[str, ...] = (),
    *,
    stance: str = "unknown",
    reached: dt.datetime | None = RECENT,
    key: bool = False,
) -> ContactFacts:
    return ContactFacts(pk, f"人{pk}", key, frozenset(roles), stance, reached, LONG_AGO)


def codes(*people: ContactFacts, kind: str = "company", cadence: int = 30) -> list[str]:
    return [g.code for g in detect_gaps(kind=kind, contacts=people, cadence_days=cadence, now=NOW)]


def test_a_well_covered_customer_has_no_gaps():
    assert codes(person(1, ("decision_maker",), stance="supporter"), person(2, ("influencer",))) == []


def test_no_contacts_at_all():
    assert codes() == ["no_contacts"]


def test_no_decision_maker_identified():
    assert codes(person(1, ("purchaser",)), person(2, ("user",))) == ["decision_maker_unknown"]


def test_decision_maker_never_reached_is_also_a_stale_key_contact():
    gaps = detect_gaps(
        kind="company",
        contacts=[person(1, ("decision_maker",), reached=None), person(2, ("purchaser",))],
        cadence_days=30,
        now=NOW,
    )
    assert [g.code for g in gaps] == ["decision_maker_not_reached", "key_contact_stale"]
    assert gaps[0].contact_ids == (1,)
    assert gaps[0].severity == "high"


def test_decision_maker_who_opposes_is_named():
    gaps = detect_gaps(
        kind="company",
        contacts=[person(1, ("decision_maker",), stance="opponent"), person(2)],
        cadence_days=30,
        now=NOW,
    )
    assert [g.code for g in gaps] == ["decision_maker_opposes"]
    assert "人1" in gaps[0].message_zh and "人1" in gaps[0].message_en


def test_single_threaded_relationship():
    assert codes(person(1, ("decision_maker", "purchaser"))) == ["single_threaded"]


def test_key_contact_not_reached_within_the_cadence():
    stale = person(1, ("decision_maker",), reached=NOW - dt.timedelta(days=31))
    assert codes(stale, person(2), cadence=30) == ["key_contact_stale"]
    assert codes(stale, person(2), cadence=45) == []
    marked_key = person(3, key=True, reached=NOW - dt.timedelta(days=31))
    assert codes(person(1, ("decision_maker",)), marked_key, cadence=30) == ["key_contact_stale"]


def test_a_key_contact_added_recently_is_not_overdue_yet():
    new = ContactFacts(1, "新人", True, frozenset({"decision_maker"}), "unknown", None, RECENT)
    assert "key_contact_stale" not in codes(new, person(2))


def test_a_private_person_is_not_asked_for_a_decision_chain():
    assert codes(person(1), kind="person") == []
    assert codes(person(1, reached=LONG_AGO), kind="person") == ["key_contact_stale"]
