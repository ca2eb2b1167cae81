"""The demo workspace (演示数据): a believable Chinese sales organisation, generated deterministically.

Two steps: ``build_plan`` turns a seed into plain data (no database, fully deterministic: the same
seed and day always give the same plan), ``apply_plan`` writes it through the services, so audit
events, search documents and the maintained columns (last interaction, revenue…) are exactly what
real use would produce. ``generate`` does both in one transaction.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from guanxi.accounts.models import Role, Team, User
from guanxi.accounts.services import team_create, user_create, user_update
from guanxi.audit.models import Source
from guanxi.customers.models import Contact, Customer
from guanxi.customers.services import contact_create, customer_create
from guanxi.demo import fake, vocab
from guanxi.demo.relations import RelationsPlan, apply_relations, build_relations
from guanxi.engagement.services import interaction_log
from guanxi.sales.models import Product
from guanxi.sales.services import LineInput, order_create, product_create

DEMO_PASSWORD = "guanxi-demo"  # noqa: S105 - the documented demo password
DEFAULT_SEED = 2026
DEFAULT_CUSTOMERS = 300

# username, display name, role, team ("east"/"north"/None)
USERS: tuple[tuple[str, str, str, str | None], ...] = (
    ("admin", "管理员", Role.ADMIN, None),
    ("manager", "赵经理", Role.MANAGER, "east"),
    ("wang", "王芳", Role.SALESPERSON, "east"),
    ("zhang", "张磊", Role.SALESPERSON, "east"),
    ("li", "李强", Role.SALESPERSON, "north"),
    ("liu", "刘洋", Role.SALESPERSON, "north"),
)
DEMO_USERNAMES = tuple(u[0] for u in USERS)
TEAMS = (("east", "华东组"), ("north", "华北组"))
SALES_BY_REGION = {"east": ("wang", "zhang"), "north": ("li", "liu")}

RELATIONSHIP = fake.Picker([("end", 48), ("channel", 32), ("partner", 12), ("upstream", 8)])
STATUS = fake.Picker([("active", 60), ("prospect", 19), ("dormant", 12), ("lost", 6), ("archived", 3)])
LEAD_SOURCE = fake.Picker(
    [
        ("referral", 22),
        ("exhibition", 18),
        ("cold_call", 20),
        ("website", 16),
        ("advertising", 8),
        ("partner", 10),
        ("other", 6),
    ]
)
CREDIT = fake.Picker([("AAA", 10), ("AA", 25), ("A", 35), ("B", 20), ("C", 10)])
CONTACT_COUNT = fake.Picker([(1, 30), (2, 30), (3, 22), (4, 12), (5, 6)])
ORDER_STATUS = fake.Picker([("completed", 72), ("shipped", 10), ("confirmed", 12), ("cancelled", 6)])
NOTES_TEXT = (
    "老板很重视售后服务，响应要快",
    "竞品报价比我们低5%左右",
    "每年年底有一笔设备更新预算",
    "春节前集中采购",
    "付款流程长，需要提前开票",
    "采购和技术部门意见不一致，需分别沟通",
    "去年因交期问题有过投诉，已解决",
)


@dataclass
class ContactPlan:
    fields: dict[str, Any]
    phones: list[str]
    emails: list[str]


@dataclass
class InteractionPlan:
    occurred_at: dt.datetime
    channel: str
    direction: str
    duration_minutes: int | None
    summary: str
    outcome: str
    next_step: str
    next_step_due: dt.date | None
    contact_indexes: list[int]
    with_manager: bool


@dataclass
class OrderPlan:
    ordered_on: dt.date
    status: str
    lines: list[tuple[int, int, Decimal | None]]  # product index, quantity, unit price (None: list price)
    notes: str


@dataclass
class CustomerPlan:
    owner: str
    fields: dict[str, Any]
    tags: list[str]
    contacts: list[ContactPlan] = field(default_factory=list)
    interactions: list[InteractionPlan] = field(default_factory=list)
    orders: list[OrderPlan] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.fields["name"])


@dataclass
class DemoPlan:
    seed: int
    today: dt.date
    products: list[dict[str, Any]]
    customers: list[CustomerPlan]
    relations: RelationsPlan = field(default_factory=RelationsPlan)


@dataclass
class DemoSummary:
    users: int
    teams: int
    products: int
    customers: int
    contacts: int
    interactions: int
    orders: int
    revenue: Decimal
    seconds: float

    def lines(self) -> list[str]:
        return [
            f"用户 users: {self.users} (password / 密码: {DEMO_PASSWORD})",
            f"团队 teams: {self.teams}",
            f"产品 products: {self.products}",
            f"客户 customers: {self.customers}",
            f"联系人 contacts: {self.contacts}",
            f"联系记录 interactions: {self.interactions}",
            f"订单 orders: {self.orders} (¥{self.revenue:,.2f} excl. cancelled / 不含已取消)",
            f"耗时 took {self.seconds:.1f} s",
        ]


# --- Plan ---------------------------------------------------------------------------------------


def _at(
    rng: random.Random, today: dt.date, days_ago: int, tz: dt.tzinfo, evening: bool = False
) -> dt.datetime:
    hour = rng.randint(19, 21) if evening else rng.randint(8, 18)
    day = today - dt.timedelta(days=max(1, days_ago))
    return dt.datetime.combine(day, dt.time(hour, rng.randrange(60)), tzinfo=tz)


def _owner_for(rng: random.Random, city: vocab.City, weight: float) -> str:
    if weight > 25 and rng.random() < 0.3:
        return "manager"  # a few key accounts stay with the manager
    region = city.region if city.region in SALES_BY_REGION else rng.choice(("east", "north"))
    return rng.choice(SALES_BY_REGION[region])


def _contact(
    rng: random.Random, customer: dict[str, Any], city: vocab.City, domain: str | None, index: int
) -> ContactPlan:
    title, department, decides = rng.choice(vocab.TITLES)
    if index == 0:
        title, department, decides = rng.choice(vocab.TITLES[:6])
    name, gender = fake.person_name(rng)
    fields: dict[str, Any] = {
        "name": name,
        "gender": gender,
        "title": title,
        "department": department,
        "is_key": decides or index == 0,
        "work_location": customer.get("address", ""),
    }
    if rng.random() < 0.6:
        fields["wechat_id"] = fake.wechat_id(rng, name)
    if rng.random() < 0.75:
        year = rng.randint(1962, 1996)
        if rng.random() < 0.27:
            # Lunar birthday (农历): the field holds the lunar month/day; day ≤ 29 exists in every month.
            month = rng.randint(1, 12)
            fields["birthday"] = dt.date(year, month, rng.randint(1, 28 if month == 2 else 29))
            fields["birthday_is_lunar"] = True
        else:
            fields["birthday"] = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
    if rng.random() < 0.65:
        fields["hobbies"] = "、".join(rng.sample(vocab.HOBBIES, rng.randint(1, 3)))
    if rng.random() < 0.45:
        fields["preferences"] = "，".join(rng.sample(vocab.PREFERENCES, rng.randint(1, 2)))
    if rng.random() < 0.55:
        fields["personality"] = rng.choice(vocab.PERSONALITIES)
    if rng.random() < 0.45:
        fields["communication_style"] = rng.choice(vocab.COMMUNICATION_STYLES)
    if rng.random() < 0.3:
        fields["background"] = rng.choice(vocab.BACKGROUNDS)
    if rng.random() < 0.3:
        fields["home_location"] = f"{city.name}{rng.choice(city.districts)}"
    phones = [fake.mobile(rng)] if rng.random() < 0.95 else []
    if rng.random() < 0.3 and customer["kind"] == "company":
        phones.append(fake.landline(rng, city))
    emails = [fake.person_email(rng, name, domain)] if rng.random() < 0.6 else []
    return ContactPlan(fields, phones, emails)


def _interactions(
    rng: random.Random,
    today: dt.date,
    tz: dt.tzinfo,
    status: str,
    weight: float,
    contacts: int,
    kind: str,
) -> list[InteractionPlan]:
    if status == "active":
        count, span = 3 + min(30, int(3 * math.sqrt(weight))) + rng.randint(0, 3), (1, 365)
    elif status == "prospect":
        count, span = rng.choice((0, 0, 1, 2, 3, 4)), (1, 90)
    elif status == "dormant":
        count, span = rng.randint(1, 5), (120, 365)
    elif status == "lost":
        count, span = rng.randint(1, 3), (200, 365)
    else:
        count, span = rng.randint(0, 2), (250, 365)
    result = []
    for _ in range(count):
        # Recent contact is more frequent than old contact: skew the age towards today.
        days = span[0] + int((span[1] - span[0]) * rng.random() ** 1.4)
        channel = fake.CHANNEL(rng)
        if kind == "person" and channel in ("fax", "event", "video"):
            channel = "wechat"
        summary, outcome, next_step = rng.choice(vocab.NOTES[channel])
        due = None
        if next_step and days > 3:
            due = today - dt.timedelta(days=days) + dt.timedelta(days=rng.randint(2, 14))
        evening = channel == "wechat" and rng.random() < 0.2
        result.append(
            InteractionPlan(
                occurred_at=_at(rng, today, days, tz, evening=evening),
                channel=channel,
                direction="in" if rng.random() < 0.25 else "out",
                duration_minutes=rng.choice((15, 30, 45, 60, 90, 120)) if channel == "visit" else None,
                summary=summary,
                outcome=outcome,
                next_step=next_step,
                next_step_due=due,
                contact_indexes=[rng.randrange(contacts)] if contacts and channel != "sms" else [],
                with_manager=channel == "visit" and weight > 20 and rng.random() < 0.3,
            )
        )
    return result


def _orders(
    rng: random.Random,
    today: dt.date,
    status: str,
    weight: float,
    relationship: str,
    products: list[dict[str, Any]],
) -> list[OrderPlan]:
    if status == "active":
        count, span = max(1, min(24, int(1 + 1.5 * math.sqrt(weight)))), (1, 365)
    elif status == "dormant":
        count, span = (rng.randint(1, 2) if rng.random() < 0.6 else 0), (150, 365)
    elif status == "lost":
        count, span = (1 if rng.random() < 0.5 else 0), (250, 365)
    else:
        return []
    revenue = 15_000 * weight * (2.0 if relationship == "channel" else 1.0)
    result = []
    for _ in range(count):
        target = revenue / count * rng.uniform(0.6, 1.4)
        lines = []
        chosen = rng.sample(range(len(products)), rng.choice((1, 1, 2, 2, 3)))
        for product_index in chosen:
            price = Decimal(products[product_index]["price"])
            quantity = max(1, round(target / len(chosen) / float(price)))
            unit_price = None
            if rng.random() < 0.3:
                unit_price = (price * Decimal(str(rng.choice((0.85, 0.9, 0.95))))).quantize(Decimal("0.01"))
            lines.append((product_index, min(quantity, 5000), unit_price))
        result.append(
            OrderPlan(
                ordered_on=today - dt.timedelta(days=span[0] + rng.randrange(span[1] - span[0] + 1)),
                status=ORDER_STATUS(rng),
                lines=lines,
                notes=rng.choice(("", "", "", "加急", "分批发货", "含税价", "年度框架协议下单")),
            )
        )
    return result


def _customer(
    rng: random.Random, today: dt.date, tz: dt.tzinfo, products: list[dict[str, Any]]
) -> CustomerPlan:
    city = fake.CITY(rng)
    district = rng.choice(city.districts)
    # Revenue weight: Pareto (α≈1.2) so that about a fifth of the customers bring most of the revenue.
    weight = min(rng.paretovariate(1.2), 120.0)
    status = STATUS(rng)
    person = rng.random() < 0.1
    fields: dict[str, Any] = {
        "province": city.province,
        "city": city.name,
        "district": district,
        "address": fake.address(rng, city, district),
        "latitude": Decimal(str(fake.jitter(rng, city.lat))),
        "longitude": Decimal(str(fake.jitter(rng, city.lon))),
        "lead_source": LEAD_SOURCE(rng),
        "status": status,
    }
    domain = None
    if person:
        name, _ = fake.person_name(rng)
        fields.update(
            kind="person",
            name=name,
            relationship_type="channel" if rng.random() < 0.25 else "end",
            phone=fake.mobile(rng),
            notes=rng.choice(("个体经销商", "个人客户，熟人介绍", "个人采购，注重性价比", "")),
        )
    else:
        company = fake.company_name(rng, city)
        domain = fake.company_domain(rng, company)
        size = "large" if weight > 30 else rng.choice(("micro", "small", "small", "medium", "medium"))
        fields.update(
            kind="company",
            name=company.name,
            short_name=company.brand if rng.random() < 0.7 else company.brand + company.trade,
            industry=company.industry,
            business_scope=vocab.INDUSTRY_SCOPES.get(company.industry, ""),
            size=size,
            relationship_type=RELATIONSHIP(rng),
            credit_rating=CREDIT(rng) if status != "prospect" or rng.random() < 0.3 else "",
            founded_on=dt.date(rng.randint(1988, 2022), rng.randint(1, 12), rng.randint(1, 28)),
            phone=fake.landline(rng, city) if rng.random() < 0.75 else "",
        )
        if rng.random() < 0.5:
            fields["website"] = "www." + domain
        if rng.random() < 0.4:
            fields["email"] = rng.choice(("info@", "sales@", "service@")) + domain
        if rng.random() < 0.35:
            fields["financial_notes"] = (
                f"年营业额约{rng.randint(3, 900) * 10}万元，回款周期{rng.choice((30, 45, 60, 90))}天"
            )
        if rng.random() < 0.25:
            fields["notes"] = rng.choice(NOTES_TEXT)
    tags = []
    if weight > 8:
        tags.append("重点")
    if weight > 40:
        tags.append("VIP")
    if status == "active" and rng.random() < 0.3:
        tags.append("老客户")
    if fields["lead_source"] == "exhibition":
        tags.append("展会")
    if fields["lead_source"] == "referral":
        tags.append("转介绍")
    if rng.random() < 0.15:
        tags.append("价格敏感")
    if fields.get("relationship_type") in ("upstream", "partner") and rng.random() < 0.3:
        tags.append("战略合作")
    if status == "active" and rng.random() < 0.08:
        tags.append("回款慢")
    if status == "prospect" and rng.random() < 0.4:
        tags.append("新客户")
    if status == "dormant" and rng.random() < 0.5:
        tags.append("需维护")

    plan = CustomerPlan(owner=_owner_for(rng, city, weight), fields=fields, tags=tags)
    if person:
        contact = _contact(rng, fields, city, None, 0)
        contact.fields.update(name=fields["name"], title="", department="", work_location="")
        contact.phones = [fields["phone"]]
        plan.contacts.append(contact)
    else:
        count = CONTACT_COUNT(rng) + (1 if weight > 10 else 0)
        plan.contacts = [_contact(rng, fields, city, domain, i) for i in range(count)]
    plan.interactions = _interactions(rng, today, tz, status, weight, len(plan.contacts), fields["kind"])
    plan.orders = _orders(rng, today, status, weight, fields["relationship_type"], products)
    return plan


def build_plan(
    *, seed: int = DEFAULT_SEED, customers: int = DEFAULT_CUSTOMERS, today: dt.date | None = None
) -> DemoPlan:
    """Everything the demo will create, as plain data. Same seed and day → same plan."""
    today = today or timezone.localdate()
    tz = timezone.get_current_timezone()
    rng = random.Random(seed)
    # Unit costs (for margins in guanxi.value): hardware 65 % of the list price, the rest 40 %.
    products = [
        {
            "code": code,
            "name": name,
            "category": category,
            "unit": unit,
            "price": price,
            "cost": (Decimal(price) * (Decimal("0.65") if category == "硬件" else Decimal("0.40"))).quantize(
                Decimal("0.01")
            ),
        }
        for code, name, category, unit, price in vocab.PRODUCTS
    ]
    plans = [_customer(rng, today, tz, products) for _ in range(customers)]
    relations = build_relations(plans, seed, today)
    return DemoPlan(seed=seed, today=today, products=products, customers=plans, relations=relations)


# --- Apply --------------------------------------------------------------------------------------


def apply_plan(plan: DemoPlan) -> DemoSummary:
    """Write the plan through the services (audited, search documents and figures maintained)."""
    started = time.perf_counter()
    cli = Source.CLI
    users: dict[str, User] = {}
    for username, display, role, _team in USERS:
        users[username] = user_create(
            actor=None,
            source=cli,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            display_name=display,
            email=f"{username}@demo.guanxi.local",
            check_password=False,
        )
    admin, manager = users["admin"], users["manager"]
    teams: dict[str, Team] = {
        key: team_create(actor=admin, source=cli, name=name, manager=manager) for key, name in TEAMS
    }
    for username, _display, _role, team in USERS:
        if team:
            users[username] = user_update(actor=admin, source=cli, user=users[username], team=teams[team])
    products: list[Product] = [product_create(actor=admin, source=cli, **p) for p in plan.products]

    contacts_n = interactions_n = orders_n = 0
    created: list[Customer] = []
    created_contacts: list[list[Contact]] = []
    for cp in plan.customers:
        owner = users[cp.owner]
        customer = customer_create(actor=owner, source=cli, owner=owner, tags=cp.tags, **cp.fields)
        contacts: list[Contact] = []
        created.append(customer)
        created_contacts.append(contacts)
        for ct in cp.contacts:
            contacts.append(
                contact_create(
                    actor=owner,
                    source=cli,
                    customer=customer,
                    phones=ct.phones,
                    emails=ct.emails,
                    **ct.fields,
                )
            )
        contacts_n += len(contacts)
        for it in sorted(cp.interactions, key=lambda i: i.occurred_at):
            interaction_log(
                actor=owner,
                source=cli,
                customer=customer,
                contacts=[contacts[i] for i in it.contact_indexes],
                participants=[manager] if it.with_manager and owner.pk != manager.pk else [],
                channel=it.channel,
                direction=it.direction,
                occurred_at=it.occurred_at,
                duration_minutes=it.duration_minutes,
                summary=it.summary,
                outcome=it.outcome,
                next_step=it.next_step,
                next_step_due=it.next_step_due,
            )
        interactions_n += len(cp.interactions)
        for op in sorted(cp.orders, key=lambda o: o.ordered_on):
            order_create(
                actor=owner,
                source=cli,
                customer=customer,
                lines=[
                    LineInput(product=products[i], quantity=Decimal(q), unit_price=price)
                    for i, q, price in op.lines
                ],
                ordered_on=op.ordered_on,
                status=op.status,
                notes=op.notes,
            )
        orders_n += len(cp.orders)
    apply_relations(
        plan.relations, created, created_contacts, [users[cp.owner] for cp in plan.customers], users
    )

    from guanxi.demo.followup import apply_followup

    apply_followup(users, plan.today, plan.seed)
    from guanxi.demo.pipeline import apply_pipeline

    apply_pipeline(users, plan.today, plan.seed)
    revenue = sum((c.revenue_total for c in Customer.objects.only("revenue_total")), Decimal(0))
    return DemoSummary(
        users=len(users),
        teams=len(teams),
        products=len(products),
        customers=len(plan.customers),
        contacts=contacts_n,
        interactions=interactions_n,
        orders=orders_n,
        revenue=revenue,
        seconds=time.perf_counter() - started,
    )


def generate(
    *, seed: int = DEFAULT_SEED, customers: int = DEFAULT_CUSTOMERS, today: dt.date | None = None
) -> DemoSummary:
    plan = build_plan(seed=seed, customers=customers, today=today)
    with transaction.atomic():
        return apply_plan(plan)
