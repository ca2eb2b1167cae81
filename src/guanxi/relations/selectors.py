"""Every read of the relationship data. Visibility comes from the customers package's one rule:
a node (a contact, a customer) appears only when its customer is visible to the user, and an edge
only when both of its ends are — so nothing about an invisible customer leaks through a link or a
referral, not even as a count (referral values are computed over visible customers only).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.core.errors import NotFound
from guanxi.customers.models import Contact, Customer, CustomerKind, CustomerStatus, RelationshipType
from guanxi.customers.selectors import customer_queryset_for_user, customer_visible_check, visibility_branches
from guanxi.engagement.models import Interaction
from guanxi.relations.models import (
    ContactStanding,
    DecisionRole,
    DecisionRoleKind,
    PersonLink,
    Playbook,
    Referral,
    ReferrerKind,
    Stance,
    Warmth,
)

DEFAULT_CADENCE_DAYS = 30

# --- Playbooks and cadence ---------------------------------------------------------------------


def playbook_list() -> list[Playbook]:
    order = {t: i for i, t in enumerate(RelationshipType.values)}
    return sorted(Playbook.objects.select_related("updated_by"), key=lambda p: order[p.relationship_type])


def playbook_get(*, relationship_type: str) -> Playbook:
    playbook = Playbook.objects.filter(relationship_type=relationship_type).first()
    if playbook is None:
        raise NotFound("维护手册", "playbook")
    return playbook


def playbook_cadences() -> dict[str, int]:
    """Recommended contact cadence (days) per relationship type."""
    cadences = dict(Playbook.objects.values_list("relationship_type", "cadence_days"))
    return {t: cadences.get(t, DEFAULT_CADENCE_DAYS) for t in RelationshipType.values}


def cadence_days_for(customer: Customer, cadences: dict[str, int] | None = None) -> int:
    """How many days a key contact may go without being reached.

    Today: the playbook's recommended cadence for the customer's relationship type. A per-customer
    cadence (issue 5) replaces this one function.
    """
    cadences = cadences if cadences is not None else playbook_cadences()
    return cadences.get(customer.relationship_type, DEFAULT_CADENCE_DAYS)


# --- Gaps in a relationship ----------------------------------------------------------------------

KEY_ROLES = frozenset({DecisionRoleKind.DECISION_MAKER})


@dataclass(frozen=True)
class ContactFacts:
    """What gap detection needs to know about one contact."""

    id: int
    name: str
    is_key: bool
    roles: frozenset[str]
    stance: str
    last_reached_at: dt.datetime | None
    created_at: dt.datetime | None = None  # a person added recently is not overdue yet


@dataclass(frozen=True)
class Gap:
    code: str
    severity: str  # "high" | "medium"
    message_zh: str
    message_en: str
    contact_ids: tuple[int, ...] = ()

    def message(self, language: str | None = None) -> str:
        return self.message_en if (language or "").startswith("en") else self.message_zh


GAP_CODES = (
    "no_contacts",
    "decision_maker_unknown",
    "decision_maker_not_reached",
    "decision_maker_opposes",
    "single_threaded",
    "key_contact_stale",
)


def detect_gaps(
    *, kind: str, contacts: Iterable[ContactFacts], cadence_days: int, now: dt.datetime
) -> list[Gap]:
    """The holes in a customer's relationship, most serious first (pure: no database).

    * no contact at all, or only one (a single thread: if that person leaves, the customer goes too);
    * no decision maker known, or none of them ever reached, or one who opposes us;
    * a key contact (marked key, or a decision maker) not reached for longer than the cadence.
    A private person (kind = person) is their own decision maker: only staleness applies.
    """
    people = list(contacts)
    gaps: list[Gap] = []
    if kind == CustomerKind.PERSON:
        people = [
            ContactFacts(c.id, c.name, True, c.roles, c.stance, c.last_reached_at, c.created_at)
            for c in people
        ]
    elif not people:
        return [Gap("no_contacts", "high", "还没有任何联系人", "no contacts recorded yet")]
    else:
        deciders = [c for c in people if DecisionRoleKind.DECISION_MAKER in c.roles]
        if not deciders:
            gaps.append(
                Gap(
                    "decision_maker_unknown",
                    "high",
                    "不知道谁拍板：还没有标记拍板者",
                    "no decision maker identified",
                )
            )
        elif all(c.last_reached_at is None for c in deciders):
            gaps.append(
                Gap(
                    "decision_maker_not_reached",
                    "high",
                    "从未与拍板者直接联系过",
                    "we have never been in contact with the decision maker",
                    tuple(c.id for c in deciders),
                )
            )
        opponents = [c for c in deciders if c.stance == Stance.OPPONENT]
        if opponents:
            names = "、".join(c.name for c in opponents)
            gaps.append(
                Gap(
                    "decision_maker_opposes",
                    "high",
                    f"拍板者持反对态度：{names}",
                    f"a decision maker opposes us: {names}",
                    tuple(c.id for c in opponents),
                )
            )
        if len(people) == 1:
            gaps.append(
                Gap(
                    "single_threaded",
                    "medium",
                    f"单线联系：只认识 {people[0].name} 一个人",
                    f"single-threaded: {people[0].name} is our only contact",
                    (people[0].id,),
                )
            )
    cutoff = now - dt.timedelta(days=cadence_days)

    def overdue(c: ContactFacts) -> bool:
        since = c.last_reached_at or c.created_at
        return since is None or since < cutoff

    stale = [c for c in people if (c.is_key or c.roles & KEY_ROLES) and overdue(c)]
    if stale:
        names = "、".join(c.name for c in stale)
        gaps.append(
            Gap(
                "key_contact_stale",
                "medium",
                f"关键联系人超过 {cadence_days} 天未联系：{names}",
                f"key contact not reached for over {cadence_days} days: {names}",
                tuple(c.id for c in stale),
            )
        )
    return gaps


def _contact_facts(customer_ids: list[int]) -> dict[int, list[ContactFacts]]:
    """ContactFacts of every contact of these customers, in four queries whatever their number."""
    contacts = list(
        Contact.objects.filter(customer_id__in=customer_ids)
        .order_by("customer_id", "-is_key", "sort_key", "id")
        .values_list("id", "customer_id", "name", "is_key", "created_at")
    )
    roles: dict[int, set[str]] = defaultdict(set)
    for contact_id, role in DecisionRole.objects.filter(customer_id__in=customer_ids).values_list(
        "contact_id", "role"
    ):
        roles[contact_id].add(role)
    stances = dict(
        ContactStanding.objects.filter(customer_id__in=customer_ids).values_list("contact_id", "stance")
    )
    through: Any = Interaction.contacts.through
    reached: dict[int, dt.datetime] = dict(
        through.objects.filter(interaction__customer_id__in=customer_ids)
        .values_list("contact_id")
        .annotate(last=Max("interaction__occurred_at"))
        .order_by()
    )
    result: dict[int, list[ContactFacts]] = defaultdict(list)
    for contact_id, customer_id, name, is_key, created_at in contacts:
        result[customer_id].append(
            ContactFacts(
                contact_id,
                name,
                is_key,
                frozenset(roles.get(contact_id, ())),
                stances.get(contact_id, Stance.UNKNOWN),
                reached.get(contact_id),
                created_at,
            )
        )
    return result


@dataclass
class CustomerGaps:
    customer: Customer
    cadence_days: int
    gaps: list[Gap]


# Customers whose relationship is over or parked are not checked for gaps.
GAP_STATUSES = (CustomerStatus.PROSPECT, CustomerStatus.ACTIVE, CustomerStatus.DORMANT)


def gaps_for_owner(*, user: User, limit: int = 100) -> list[CustomerGaps]:
    """Gaps of the ``limit`` most recently contacted open customers the user owns (bounded work)."""
    customers = list(
        customer_queryset_for_user(user)
        .filter(owner_id=user.pk, status__in=GAP_STATUSES)
        .select_related("owner")
        .defer("search_doc")
        .order_by(Coalesce("last_interaction_at", "created_at").desc(), "-id")[:limit]
    )
    facts = _contact_facts([c.pk for c in customers])
    cadences = playbook_cadences()
    now = timezone.now()
    result = []
    for customer in customers:
        cadence = cadence_days_for(customer, cadences)
        gaps = detect_gaps(
            kind=customer.kind, contacts=facts.get(customer.pk, []), cadence_days=cadence, now=now
        )
        if gaps:
            result.append(CustomerGaps(customer, cadence, gaps))
    return result


# --- The relationship map (关系图谱) --------------------------------------------------------------


@dataclass
class MapNode:
    id: str  # "contact:12", "user:3"
    kind: str  # "contact" (this customer), "external" (a contact at another visible customer), "user"
    ref_id: int
    name: str
    title: str = ""
    customer_id: int | None = None
    customer_name: str = ""
    roles: list[str] = field(default_factory=list)
    stance: str = Stance.UNKNOWN
    warmth: int = Warmth.UNKNOWN
    is_key: bool = False
    personality: str = ""
    last_reached_at: dt.datetime | None = None


@dataclass
class MapEdge:
    source: str
    target: str
    kind: str  # a LinkKind, or "knows" (one of our users has been in contact with the person)
    strength: int
    link_id: int | None = None
    count: int = 0  # "knows": how many interactions
    last_at: dt.datetime | None = None


@dataclass
class RelationshipMap:
    customer: Customer
    cadence_days: int
    nodes: list[MapNode]
    edges: list[MapEdge]
    gaps: list[Gap]
    playbook: Playbook | None


def _customer_for_user(user: User, customer_id: int) -> Customer:
    customer = (
        customer_queryset_for_user(user)
        .select_related("owner")
        .defer("search_doc")
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        raise NotFound("客户", "customer")
    return customer


def relationship_map(*, user: User, customer_id: int) -> RelationshipMap:
    """The customer's people, their roles, stances and links, and which of our users knows whom.

    A fixed number of queries (about eight) whatever the number of contacts and links. Links to
    contacts at customers the user cannot see are left out entirely.
    """
    customer = _customer_for_user(user, customer_id)
    contacts = list(
        customer.contacts.order_by("-is_key", "sort_key", "id").only(
            "id", "name", "title", "department", "is_key", "personality", "customer_id", "created_at"
        )
    )
    roles: dict[int, list[str]] = defaultdict(list)
    for contact_id, role in (
        DecisionRole.objects.filter(customer_id=customer.pk).order_by("id").values_list("contact_id", "role")
    ):
        roles[contact_id].append(role)
    standings = {
        s["contact_id"]: s
        for s in ContactStanding.objects.filter(customer_id=customer.pk).values(
            "contact_id", "stance", "warmth"
        )
    }
    # One row per (contact, user) pair with how often and how lately that user reached the contact.
    knows = [
        row
        for row in Interaction.objects.filter(customer_id=customer.pk)
        .values("contacts", "participants", "participants__display_name", "participants__username")
        .annotate(n=Count("id"), last=Max("occurred_at"))
        .order_by("contacts", "participants")
        if row["contacts"] is not None
    ]
    last_reached: dict[int, dt.datetime] = {}
    for row in knows:
        when = row["last"]
        if row["contacts"] not in last_reached or when > last_reached[row["contacts"]]:
            last_reached[row["contacts"]] = when

    nodes: list[MapNode] = []
    for c in contacts:
        standing: dict[str, Any] = dict(standings.get(c.pk, {}))
        nodes.append(
            MapNode(
                id=f"contact:{c.pk}",
                kind="contact",
                ref_id=c.pk,
                name=c.name,
                title=" ".join(p for p in (c.title, c.department) if p),
                customer_id=customer.pk,
                customer_name=customer.name,
                roles=roles.get(c.pk, []),
                stance=standing.get("stance", Stance.UNKNOWN),
                warmth=standing.get("warmth", Warmth.UNKNOWN),
                is_key=c.is_key,
                personality=c.personality,
                last_reached_at=last_reached.get(c.pk),
            )
        )

    links: list[dict[str, Any]] = [
        dict(row)
        for row in PersonLink.objects.filter(Q(from_customer_id=customer.pk) | Q(to_customer_id=customer.pk))
        .order_by("id")
        .values(
            "id",
            "kind",
            "strength",
            "from_contact_id",
            "to_contact_id",
            "from_customer_id",
            "to_customer_id",
            "from_contact__name",
            "to_contact__name",
            "from_contact__title",
            "to_contact__title",
            "from_customer__name",
            "to_customer__name",
        )
    ]
    others = {
        link[f"{end}_customer_id"]
        for link in links
        for end in ("from", "to")
        if link[f"{end}_customer_id"] != customer.pk
    }
    visible_others = set(customer_queryset_for_user(user).filter(pk__in=others).values_list("pk", flat=True))
    edges: list[MapEdge] = []
    external: dict[int, MapNode] = {}
    for link in links:
        ends = []
        for end in ("from", "to"):
            cust = link[f"{end}_customer_id"]
            if cust != customer.pk and cust not in visible_others:
                break
            contact_id = link[f"{end}_contact_id"]
            if cust != customer.pk and contact_id not in external:
                external[contact_id] = MapNode(
                    id=f"contact:{contact_id}",
                    kind="external",
                    ref_id=contact_id,
                    name=link[f"{end}_contact__name"],
                    title=link[f"{end}_contact__title"],
                    customer_id=cust,
                    customer_name=link[f"{end}_customer__name"],
                )
            ends.append(f"contact:{contact_id}")
        else:
            edges.append(MapEdge(ends[0], ends[1], link["kind"], link["strength"], link_id=link["id"]))
    nodes += external.values()

    users: dict[int, MapNode] = {}
    for row in knows:
        uid = row["participants"]
        if uid is None:
            continue
        if uid not in users:
            users[uid] = MapNode(
                id=f"user:{uid}",
                kind="user",
                ref_id=uid,
                name=row["participants__display_name"] or row["participants__username"],
            )
        edges.append(
            MapEdge(
                f"user:{uid}",
                f"contact:{row['contacts']}",
                "knows",
                min(5, 1 + row["n"] // 3),
                count=row["n"],
                last_at=row["last"],
            )
        )
    nodes += users.values()

    playbook = Playbook.objects.filter(relationship_type=customer.relationship_type).first()
    cadence = playbook.cadence_days if playbook else DEFAULT_CADENCE_DAYS
    created = {c.pk: c.created_at for c in contacts}
    facts = [
        ContactFacts(
            n.ref_id, n.name, n.is_key, frozenset(n.roles), n.stance, n.last_reached_at, created[n.ref_id]
        )
        for n in nodes
        if n.kind == "contact"
    ]
    gaps = detect_gaps(kind=customer.kind, contacts=facts, cadence_days=cadence, now=timezone.now())
    return RelationshipMap(customer, cadence, nodes, edges, gaps, playbook)


# --- Decision chain, links ------------------------------------------------------------------------


@dataclass
class Decision:
    contact: Contact
    roles: list[str]
    stance: str
    warmth: int


def decision_for_contact(contact: Contact) -> Decision:
    roles = list(DecisionRole.objects.filter(contact=contact).order_by("id").values_list("role", flat=True))
    standing: dict[str, Any] = dict(
        ContactStanding.objects.filter(contact=contact).values("stance", "warmth").first() or {}
    )
    return Decision(
        contact,
        roles,
        standing.get("stance", Stance.UNKNOWN),
        standing.get("warmth", Warmth.UNKNOWN),
    )


def _links_visible_q(user: User) -> Q:
    visible = customer_queryset_for_user(user).values("pk")
    return Q(from_customer__in=visible) & Q(to_customer__in=visible)


def person_link_queryset_for_user(user: User) -> QuerySet[PersonLink]:
    if user.is_admin:
        return PersonLink.objects.all()
    return PersonLink.objects.filter(_links_visible_q(user))


def person_link_get_for_user(*, user: User, link_id: int) -> PersonLink:
    link = (
        person_link_queryset_for_user(user)
        .select_related("from_contact", "to_contact", "from_customer", "to_customer")
        .filter(pk=link_id)
        .first()
    )
    if link is None:
        raise NotFound("人脉关系", "link")
    return link


def person_link_list(*, user: User, customer_id: int, limit: int = 500) -> list[PersonLink]:
    _customer_for_user(user, customer_id)
    return list(
        person_link_queryset_for_user(user)
        .filter(Q(from_customer_id=customer_id) | Q(to_customer_id=customer_id))
        .select_related("from_contact", "to_contact", "from_customer", "to_customer")
        .order_by("id")[:limit]
    )


# --- Referrals ------------------------------------------------------------------------------------


def referral_queryset_for_user(user: User) -> QuerySet[Referral]:
    """Referrals whose referred customer and (when a customer or contact referred) referrer customer
    are both visible."""
    if user.is_admin:
        return Referral.objects.all()
    visible = customer_queryset_for_user(user).values("pk")
    return Referral.objects.filter(customer__in=visible).filter(
        Q(referrer_customer__isnull=True) | Q(referrer_customer__in=visible)
    )


def referral_get_for_user(*, user: User, referral_id: int) -> Referral:
    referral = (
        referral_queryset_for_user(user)
        .select_related("customer", "contact", "referrer_customer", "referrer_contact", "referrer_user")
        .filter(pk=referral_id)
        .first()
    )
    if referral is None:
        raise NotFound("转介绍", "referral")
    return referral


def referrals_of_customer(*, user: User, customer_id: int) -> tuple[list[Referral], list[Referral]]:
    """(who referred this customer, whom this customer or its people referred), visible ones only."""
    _customer_for_user(user, customer_id)
    qs = referral_queryset_for_user(user).select_related(
        "customer", "contact", "referrer_customer", "referrer_contact", "referrer_user"
    )
    referred_by = list(qs.filter(customer_id=customer_id).order_by("-referred_on", "-id"))
    referred = list(qs.filter(referrer_customer_id=customer_id).order_by("-referred_on", "-id"))
    return referred_by, referred


@dataclass(frozen=True)
class ReferralEdge:
    id: int
    customer_id: int
    customer_name: str
    customer_status: str
    customer_revenue: Decimal
    customer_type: str
    contact_name: str
    referrer_key: str  # "customer:5", "user:2", "external:某某"
    referrer_kind: str
    referrer_label: str
    referrer_customer_id: int | None
    referrer_contact_name: str
    referred_on: dt.date


_EDGE_FIELDS = (
    "id",
    "customer_id",
    "customer__name",
    "customer__status",
    "customer__revenue_total",
    "customer__relationship_type",
    "contact__name",
    "referrer_kind",
    "referrer_customer_id",
    "referrer_customer__name",
    "referrer_contact__name",
    "referrer_user_id",
    "referrer_user__display_name",
    "referrer_user__username",
    "referrer_name",
    "referred_on",
)


def _edge(row: dict[str, Any]) -> ReferralEdge:
    kind = row["referrer_kind"]
    if kind in (ReferrerKind.CUSTOMER, ReferrerKind.CONTACT):
        key, label = f"customer:{row['referrer_customer_id']}", row["referrer_customer__name"]
    elif kind == ReferrerKind.USER:
        key = f"user:{row['referrer_user_id']}"
        label = row["referrer_user__display_name"] or row["referrer_user__username"]
    else:
        key, label = f"external:{row['referrer_name']}", row["referrer_name"]
    return ReferralEdge(
        id=row["id"],
        customer_id=row["customer_id"],
        customer_name=row["customer__name"],
        customer_status=row["customer__status"],
        customer_revenue=row["customer__revenue_total"],
        customer_type=row["customer__relationship_type"],
        contact_name=row["contact__name"] or "",
        referrer_key=key,
        referrer_kind=kind,
        referrer_label=label,
        referrer_customer_id=row["referrer_customer_id"],
        referrer_contact_name=row["referrer_contact__name"] or "",
        referred_on=row["referred_on"],
    )


def referral_edges(*, user: User, limit: int | None = None) -> list[ReferralEdge]:
    """Visible referrals (newest first; the newest ``limit`` of each visibility branch), as rows.

    Read from the user's side, one indexed read per visibility branch (the referrals of my
    customers, of each managed team's, of those shared with me); a referring customer is then
    checked in memory with ``customer_visible_check``. At 1M customers the single OR-subquery form
    made PostgreSQL test every referral (30 s).
    """
    fields = (*_EDGE_FIELDS, "referrer_customer__owner_id", "referrer_customer__team_id")
    visible = customer_visible_check(user)
    branches = visibility_branches(user)
    batch = limit
    while True:
        rows: dict[int, dict[str, Any]] = {}
        exhausted = True
        for branch in branches:
            qs = Referral.objects.filter(customer__in=branch.customers.values("id"))
            qs = qs.order_by("-referred_on", "-id").values(*fields)
            part = list(qs[:batch] if batch is not None else qs)
            exhausted = exhausted and (batch is None or len(part) < batch)
            rows.update((row["id"], row) for row in part)
        kept = [
            r
            for r in rows.values()
            if r["referrer_customer_id"] is None
            or visible(
                r["referrer_customer_id"], r["referrer_customer__owner_id"], r["referrer_customer__team_id"]
            )
        ]
        # With a limit, read further only when hidden referrers left too few rows to fill it.
        if limit is None or batch is None or len(kept) >= limit or exhausted:
            break
        batch *= 4
    kept.sort(key=lambda r: (r["referred_on"], r["id"]), reverse=True)
    return [_edge(row) for row in kept[:limit]]


@dataclass
class ReferrerValue:
    """What came through one referrer (转介绍价值): customers and their revenue, direct and indirect."""

    key: str
    kind: str
    label: str
    customer_id: int | None
    customer_status: str
    people: list[str]  # the contacts of a referring customer who made the introductions
    direct_customers: int
    direct_revenue: Decimal
    indirect_customers: int
    indirect_revenue: Decimal
    latest_referral_on: dt.date

    @property
    def total_customers(self) -> int:
        return self.direct_customers + self.indirect_customers

    @property
    def total_revenue(self) -> Decimal:
        return self.direct_revenue + self.indirect_revenue


@dataclass
class ReferralGraph:
    edges: list[ReferralEdge]
    children: dict[str, set[int]]  # referrer key -> customers it referred directly
    revenue: dict[int, Decimal]
    names: dict[int, str]
    statuses: dict[int, str]

    def reach(self, key: str) -> tuple[set[int], set[int]]:
        """(direct, indirect) customers that came through ``key``: a breadth-first walk that visits each
        customer once, so a cycle (A referred B, B referred A) ends instead of looping; the referrer
        itself is never counted as its own result."""
        direct = set(self.children.get(key, ()))
        own = int(key.split(":", 1)[1]) if key.startswith("customer:") else None
        seen = set(direct)
        queue = deque(direct)
        while queue:
            current = queue.popleft()
            for nxt in self.children.get(f"customer:{current}", ()):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        seen.discard(own)  # type: ignore[arg-type]
        direct.discard(own)  # type: ignore[arg-type]
        return direct, seen - direct


def referral_graph(*, user: User) -> ReferralGraph:
    edges = referral_edges(user=user)
    children: dict[str, set[int]] = defaultdict(set)
    revenue: dict[int, Decimal] = {}
    names: dict[int, str] = {}
    statuses: dict[int, str] = {}
    for e in edges:
        children[e.referrer_key].add(e.customer_id)
        revenue[e.customer_id] = e.customer_revenue
        names[e.customer_id] = e.customer_name
        statuses[e.customer_id] = e.customer_status
    return ReferralGraph(edges, dict(children), revenue, names, statuses)


def referral_values(*, user: User, top: int | None = None) -> list[ReferrerValue]:
    """Every visible referrer with the customers and revenue that came through them, best first.

    Computed over the visible referral graph only (one query, then a walk in memory): an invisible
    customer is neither counted nor walked through.
    """
    graph = referral_graph(user=user)
    info: dict[str, dict[str, Any]] = {}
    for e in graph.edges:
        entry = info.setdefault(
            e.referrer_key,
            {
                "kind": ReferrerKind.CUSTOMER if e.referrer_customer_id else e.referrer_kind,
                "label": e.referrer_label,
                "customer_id": e.referrer_customer_id,
                "people": [],
                "latest": e.referred_on,
            },
        )
        if e.referrer_contact_name and e.referrer_contact_name not in entry["people"]:
            entry["people"].append(e.referrer_contact_name)
        entry["latest"] = max(entry["latest"], e.referred_on)
    statuses = dict(
        Customer.objects.filter(
            pk__in=[i["customer_id"] for i in info.values() if i["customer_id"]]
        ).values_list("pk", "status")
    )
    values = []
    for key, entry in info.items():
        direct, indirect = graph.reach(key)
        values.append(
            ReferrerValue(
                key=key,
                kind=entry["kind"],
                label=entry["label"],
                customer_id=entry["customer_id"],
                customer_status=statuses.get(entry["customer_id"], ""),
                people=entry["people"],
                direct_customers=len(direct),
                direct_revenue=sum((graph.revenue[c] for c in direct), Decimal(0)),
                indirect_customers=len(indirect),
                indirect_revenue=sum((graph.revenue[c] for c in indirect), Decimal(0)),
                latest_referral_on=entry["latest"],
            )
        )
    values.sort(key=lambda v: (-v.total_revenue, -v.total_customers, v.label))
    return values[:top] if top else values


# A referrer is worth thanking when what came through them has brought revenue, or when they
# introduced someone recently (thank before the first order, not only after it).
THANK_RECENT_DAYS = 90


def worth_thanking(values: list[ReferrerValue], *, today: dt.date) -> list[ReferrerValue]:
    recent = today - dt.timedelta(days=THANK_RECENT_DAYS)
    return [
        v
        for v in values
        if v.customer_status not in (CustomerStatus.LOST, CustomerStatus.ARCHIVED)
        and (v.total_revenue > 0 or v.latest_referral_on >= recent)
    ]


@dataclass
class Downstream:
    """The "250" view (DOMAIN §1): the customers who came through one customer."""

    customer: Customer
    direct: list[tuple[int, str, Decimal, str]]  # id, name, revenue, status
    indirect: list[tuple[int, str, Decimal, str]]

    @property
    def revenue(self) -> Decimal:
        return sum((r for _, _, r, _ in self.direct + self.indirect), Decimal(0))

    @property
    def count(self) -> int:
        return len(self.direct) + len(self.indirect)


def referral_downstream(*, user: User, customer_id: int) -> Downstream:
    """Everyone who came through the customer, walked level by level from it (one indexed read per
    level) over visible customers only, so its cost follows the customer's own referral tree, not
    the user's whole graph. A cycle ends the walk; the customer is never its own result."""
    customer = _customer_for_user(user, customer_id)
    visible = customer_visible_check(user)
    found: dict[int, tuple[int, str, Decimal, str]] = {}
    direct: set[int] = set()
    seen, frontier, first = {customer.pk}, {customer.pk}, True
    while frontier:
        rows = Referral.objects.filter(referrer_customer_id__in=frontier).values_list(
            "customer_id",
            "customer__name",
            "customer__revenue_total",
            "customer__status",
            "customer__owner_id",
            "customer__team_id",
        )
        frontier = set()
        for cid, name, revenue, status, owner, team in rows:
            if cid in seen or not visible(cid, owner, team):
                continue
            seen.add(cid)
            frontier.add(cid)
            found[cid] = (cid, name, revenue, status)
            if first:
                direct.add(cid)
        first = False

    def rows_of(ids: set[int]) -> list[tuple[int, str, Decimal, str]]:
        return sorted((found[i] for i in ids), key=lambda r: (-r[2], r[1]))

    return Downstream(customer, rows_of(direct), rows_of(set(found) - direct))


# Unhappy or lost customers: what is at stake is everyone who came through them.
AT_RISK_STATUSES = (CustomerStatus.LOST, CustomerStatus.DORMANT)


def referrers_at_risk(values: list[ReferrerValue]) -> list[ReferrerValue]:
    return [v for v in values if v.customer_status in AT_RISK_STATUSES and v.total_customers]


# Above this many referrals the graph shows the newest ones only (a picture of 10,000 edges says
# nothing on a phone); the value figures always use all of them.
MAX_GRAPH_EDGES = 600


def referral_graph_view(*, user: User, limit: int = MAX_GRAPH_EDGES) -> tuple[list[ReferralEdge], bool]:
    edges = referral_edges(user=user, limit=limit + 1)
    return edges[:limit], len(edges) > limit


# --- Stale profiles -------------------------------------------------------------------------------


def profile_review_days() -> int:
    return int(settings.GUANXI_PROFILE_REVIEW_DAYS)


def profile_is_stale(customer: Customer, *, today: dt.date | None = None, days: int | None = None) -> bool:
    today = today or timezone.localdate()
    days = days or profile_review_days()
    reviewed = customer.profile_reviewed_on or timezone.localdate(customer.created_at)
    return (today - reviewed).days > days


def stale_profiles(*, user: User, days: int | None = None, limit: int = 200) -> list[Customer]:
    """Customers the user owns whose profile was not reviewed (or, never reviewed, not created) within
    ``days`` (default: the GUANXI_PROFILE_REVIEW_DAYS setting), the longest-unreviewed first."""
    days = days or profile_review_days()
    cutoff = timezone.localdate() - dt.timedelta(days=days)
    cutoff_at = timezone.now() - dt.timedelta(days=days)
    return list(
        customer_queryset_for_user(user)
        .filter(owner_id=user.pk)
        .exclude(status=CustomerStatus.ARCHIVED)
        .filter(
            Q(profile_reviewed_on__lt=cutoff) | Q(profile_reviewed_on__isnull=True, created_at__lt=cutoff_at)
        )
        .select_related("owner")
        .defer("search_doc")
        .order_by(Coalesce("profile_reviewed_on", TruncDate("created_at")).asc(), "id")[:limit]
    )
