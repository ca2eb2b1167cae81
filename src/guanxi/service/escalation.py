"""Who a complaint goes to when it is escalated, and the notices that tell them.

The chain (DOMAIN §6: what the salesperson cannot solve goes to the manager at once): the manager
of the handler's team; if that manager is inactive, away (an ``Absence`` covering today) or is the
person escalating, the manager of the parent team, and so on up the team tree; with no one left, an
active administrator. A second escalation (the resolution deadline passing after the first) starts
from the person it was escalated to, so it climbs one more level.

Notices are rows with a unique key: the periodic tick may create the same one any number of times,
and the e-mail goes out once, after commit, claimed by a guarded UPDATE.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation

from guanxi.accounts.models import Role, Team, User
from guanxi.service.models import Absence, Complaint, EmailStatus, Notice, Promise

log = logging.getLogger(__name__)

MAX_TREE_DEPTH = 32  # a guard against a (forbidden, but possible by hand) cycle in the team tree


def absent_user_ids(day: dt.date, user_ids: set[int]) -> set[int]:
    return set(
        Absence.objects.filter(user_id__in=user_ids, starts_on__lte=day, ends_on__gte=day).values_list(
            "user_id", flat=True
        )
    )


def _available(user: User | None, skip: set[int], day: dt.date) -> bool:
    return user is not None and user.is_active and user.pk not in skip and not absent_user_ids(day, {user.pk})


def _start_teams(user: User) -> list[Team]:
    """Where to look for ``user``'s manager: the parents of the teams they manage, then their own team."""
    managed = list(Team.objects.filter(manager=user).select_related("parent__manager"))
    out = [t.parent for t in managed if t.parent is not None]
    if user.team_id:
        team = Team.objects.select_related("manager", "parent").get(pk=user.team_id)
        out.append(team)
    return [t for t in out if t is not None]


def escalation_target(user: User, *, skip: set[int] | None = None, day: dt.date | None = None) -> User | None:
    """The next person up from ``user``: a manager up the team tree who is present, else an admin."""
    day = day or timezone.localdate()
    skip = set(skip or set()) | {user.pk}
    seen: set[int] = set()
    for team in _start_teams(user):
        current: Team | None = team
        depth = 0
        while current is not None and current.pk not in seen and depth < MAX_TREE_DEPTH:
            seen.add(current.pk)
            depth += 1
            manager = current.manager if current.manager_id else None
            if _available(manager, skip, day):
                return manager
            current = (
                Team.objects.select_related("manager").filter(pk=current.parent_id).first()
                if current.parent_id
                else None
            )
    admins = User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True).exclude(
        pk__in=skip
    )
    away = absent_user_ids(day, set(admins.values_list("pk", flat=True)))
    return admins.exclude(pk__in=away).order_by("id").first()


def escalation_chain(user: User, *, day: dt.date | None = None, limit: int = 6) -> list[User]:
    """The people a complaint would climb through from ``user`` (shown on the complaint page)."""
    chain: list[User] = []
    current = user
    skip: set[int] = set()
    while len(chain) < limit:
        nxt = escalation_target(current, skip=skip, day=day)
        if nxt is None:
            break
        chain.append(nxt)
        skip.add(nxt.pk)
        if nxt.is_admin:
            break
        current = nxt
    return chain


def notice_create(
    *,
    user: User,
    kind: str,
    key: str,
    subject: str,
    body: str,
    complaint: Complaint | None = None,
    promise: Promise | None = None,
) -> Notice | None:
    """Create the notice unless one with ``key`` exists; the e-mail is queued when the user has an
    address and goes out after the transaction commits. Returns the new notice, or None."""
    if Notice.objects.filter(key=key).exists():
        return None
    try:
        with transaction.atomic():
            notice = Notice.objects.create(
                user=user,
                kind=kind,
                key=key,
                subject=subject[:200],
                body=body,
                complaint=complaint,
                promise=promise,
                email_status=EmailStatus.QUEUED if user.email else EmailStatus.NONE,
                created_at=timezone.now(),
            )
    except IntegrityError:
        return None
    if notice.email_status == EmailStatus.QUEUED:
        from guanxi.service.tasks import send_notice

        transaction.on_commit(lambda: send_notice.enqueue(notice.pk))
    return notice


def notice_deliver(notice_id: int) -> bool:
    """Send one queued notice e-mail; True when this call sent it. Safe to call any number of times."""
    claimed = Notice.objects.filter(pk=notice_id, email_status=EmailStatus.QUEUED).update(
        email_status=EmailStatus.SENDING
    )
    if claimed != 1:
        return False
    notice = Notice.objects.select_related("user").get(pk=notice_id)
    with translation.override(notice.user.language or "zh-hans"):
        message = EmailMessage(
            subject=notice.subject,
            body=notice.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notice.user.email],
            headers={"X-Guanxi-Notice": str(notice.pk)},
        )
    try:
        message.send(fail_silently=False)
    except (OSError, ValueError) as exc:  # smtplib.SMTPException is an OSError
        log.warning("notice %s not sent: %s", notice_id, exc)
        Notice.objects.filter(pk=notice_id).update(
            email_status=EmailStatus.FAILED, email_error=str(exc)[:300]
        )
        return False
    Notice.objects.filter(pk=notice_id).update(email_status=EmailStatus.SENT, sent_at=timezone.now())
    return True


def notices_queued() -> list[int]:
    return list(
        Notice.objects.filter(email_status=EmailStatus.QUEUED)
        .order_by("id")
        .values_list("id", flat=True)[:500]
    )
