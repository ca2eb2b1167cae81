"""Background jobs of the service package. Each takes ids (or nothing) and calls a service; each is
idempotent, so the periodic tick may run it twice, or two workers at once."""

from __future__ import annotations

from django_tasks import task

from guanxi.service import escalation, services


@task()
def check_deadlines() -> dict[str, int]:
    """Complaint deadline warnings and escalations, promise due reminders, and any queued e-mail whose
    immediate job was lost."""
    counts = services.complaint_check_deadlines()
    counts["promise_reminders"] = services.promise_remind_due()
    counts["notices_sent"] = sum(escalation.notice_deliver(pk) for pk in escalation.notices_queued())
    counts["surveys_sent"] = sum(
        services.survey_invitation_deliver(pk) for pk in services.survey_invitations_queued()
    )
    return counts


@task()
def send_notice(notice_id: int) -> bool:
    return escalation.notice_deliver(notice_id)


@task()
def send_survey_invitation(invitation_id: int) -> bool:
    return services.survey_invitation_deliver(invitation_id)
