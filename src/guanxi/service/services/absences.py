"""Absences: a manager away routes escalations one level up (DOMAIN §6: complaints never wait)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record
from guanxi.core.errors import PermissionDenied, require
from guanxi.service.models import Absence
from guanxi.service.services import common


def _may_manage(actor: User, user: User) -> bool:
    if actor.pk == user.pk or actor.is_admin:
        return True
    if actor.is_manager:
        from guanxi.accounts.selectors import managed_team_ids

        return user.team_id in managed_team_ids(actor)
    return False


@transaction.atomic
def absence_create(
    *, actor: User, source: Source, user: User, starts_on: dt.date, ends_on: dt.date, note: str = ""
) -> Absence:
    if not _may_manage(actor, user):
        raise PermissionDenied(
            "只能登记自己或下属的休假", "you may only record your own or your team's absences"
        )
    common.date(starts_on, "starts_on")
    common.date(ends_on, "ends_on")
    require(starts_on <= ends_on, "结束日期早于开始日期", "ends_on is before starts_on", field="ends_on")
    note = common.text(note, "note", label_zh="备注", max_length=200)
    absence = Absence.objects.create(
        user=user, starts_on=starts_on, ends_on=ends_on, note=note, created_by=actor
    )
    audit_record(
        actor=actor,
        source=source,
        action="absence.create",
        obj=absence,
        changes={
            "user": [None, user.pk],
            "starts_on": [None, starts_on.isoformat()],
            "ends_on": [None, ends_on.isoformat()],
        },
    )
    return absence


@transaction.atomic
def absence_delete(*, actor: User, source: Source, absence: Absence) -> None:
    if not _may_manage(actor, absence.user):
        raise PermissionDenied(
            "只能删除自己或下属的休假", "you may only delete your own or your team's absences"
        )
    audit_record(actor=actor, source=source, action="absence.delete", obj=absence)
    absence.delete()
