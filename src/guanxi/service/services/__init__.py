"""Every write of the service package, one module per topic; re-exported here for callers."""

from guanxi.service.services.absences import absence_create, absence_delete
from guanxi.service.services.complaints import (
    complaint_acknowledge,
    complaint_add_action,
    complaint_check_deadlines,
    complaint_create,
    complaint_escalate,
    complaint_record_satisfaction,
    complaint_reopen,
    complaint_resolve,
    complaint_update,
)
from guanxi.service.services.objections import objection_create, objection_update
from guanxi.service.services.promises import (
    promise_close,
    promise_create,
    promise_remind_due,
    promise_update,
)
from guanxi.service.services.surveys import (
    survey_answer,
    survey_invitation_create,
    survey_invitation_deliver,
    survey_invitation_revoke,
    survey_invitations_queued,
)

__all__ = [
    "absence_create",
    "absence_delete",
    "complaint_acknowledge",
    "complaint_add_action",
    "complaint_check_deadlines",
    "complaint_create",
    "complaint_escalate",
    "complaint_record_satisfaction",
    "complaint_reopen",
    "complaint_resolve",
    "complaint_update",
    "objection_create",
    "objection_update",
    "promise_close",
    "promise_create",
    "promise_remind_due",
    "promise_update",
    "survey_answer",
    "survey_invitation_create",
    "survey_invitation_deliver",
    "survey_invitation_revoke",
    "survey_invitations_queued",
]
