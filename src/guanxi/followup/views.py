"""Follow-up pages: Today, tasks, appointments, greetings, the visit plan with its preparation and
"log this visit", route settings and the calendar subscription."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.core.errors import GuanxiError
from guanxi.core.forms import add_service_error, form_status, save_form
from guanxi.core.http import HtmxHttpRequest
from guanxi.customers.models import Contact
from guanxi.customers.selectors import contact_get_for_user, customer_contacts, customer_get_for_user
from guanxi.engagement.forms import InteractionForm
from guanxi.followup import cadence, ical, reminders, selectors, services, visits
from guanxi.followup.forms import (
    AppointmentForm,
    CancelForm,
    ContactDateForm,
    PlanForm,
    PlannerForm,
    PrepForm,
    RescheduleForm,
    SnoozeForm,
    TaskForm,
    qa_text,
)
from guanxi.followup.models import ChecklistTemplate, GreetingChannel, PlannerProfile


def _user(request: HtmxHttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _day(raw: str | None, default: dt.date) -> dt.date:
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise Http404("bad date") from None


# --- Today ---------------------------------------------------------------------------------------


@login_required
def today(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    data = selectors.today_for_user(user)
    return render(
        request,
        "followup/today.html",
        {"t": data, "stops": selectors.visit_stops(data.plan, user) if data.plan else []},
    )


# --- Tasks ---------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def task_list(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    customer = None
    if request.GET.get("customer") or request.POST.get("customer"):
        try:
            customer_id = int(request.POST.get("customer") or request.GET.get("customer") or 0)
        except ValueError:
            raise Http404("bad customer") from None
        customer = customer_get_for_user(user=user, customer_id=customer_id)
    contact = None
    if request.GET.get("contact"):
        try:
            contact = Contact.objects.filter(customer=customer, pk=int(request.GET["contact"])).first()
        except ValueError:
            contact = None
    form = TaskForm(request.POST or None, initial={"due_on": timezone.localdate() + dt.timedelta(days=1)})
    saved = save_form(
        request,
        form,
        lambda d: services.task_create(actor=user, source=Source.UI, customer=customer, contact=contact, **d),
    )
    if saved:
        return redirect(reverse("followup:tasks") + (f"?customer={customer.pk}" if customer else ""))
    status = request.GET.get("status", "open")
    if status not in ("open", "done", "cancelled"):
        status = "open"
    tasks = selectors.task_list(
        user=user,
        status=status,
        customer_id=customer.pk if customer else None,
        assignee=None if customer else user,
    )
    return render(
        request,
        "followup/tasks.html",
        {"form": form, "tasks": tasks, "customer": customer, "status": status, "today": timezone.localdate()},
        status=form_status(request) if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def task_edit(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    user = _user(request)
    task = selectors.task_get_for_user(user=user, task_id=task_id)
    form = TaskForm(
        request.POST or None, initial={"title": task.title, "due_on": task.due_on, "notes": task.notes}
    )
    saved = save_form(
        request, form, lambda d: services.task_update(actor=user, source=Source.UI, task=task, **d)
    )
    if saved:
        return redirect("followup:tasks")
    return render(
        request,
        "followup/task_form.html",
        {"form": form, "task": task, "snooze_form": SnoozeForm()},
        status=form_status(request),
    )


@login_required
@require_POST
def task_action(request: HtmxHttpRequest, task_id: int, action: str) -> HttpResponse:
    user = _user(request)
    task = selectors.task_get_for_user(user=user, task_id=task_id)
    if action == "done":
        services.task_complete(actor=user, source=Source.UI, task=task)
    elif action == "reopen":
        services.task_reopen(actor=user, source=Source.UI, task=task)
    elif action == "cancel":
        services.task_cancel(actor=user, source=Source.UI, task=task)
    else:
        form = SnoozeForm(request.POST)
        if not form.is_valid():
            return render(
                request,
                "followup/task_form.html",
                {
                    "form": TaskForm(initial={"title": task.title, "due_on": task.due_on}),
                    "task": task,
                    "snooze_form": form,
                },
                status=400,
            )
        services.task_snooze(actor=user, source=Source.UI, task=task, until=form.cleaned_data["until"])
    target = request.POST.get("next", "")
    return redirect(target if target in ("/today/", reverse("followup:tasks")) else reverse("followup:tasks"))


# --- Appointments --------------------------------------------------------------------------------


@login_required
def appointment_list(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    start, _end = selectors.day_bounds(timezone.localdate())
    items = selectors.appointments_between(user, start, start + dt.timedelta(days=30), include_cancelled=True)
    return render(request, "followup/appointments.html", {"appointments": items})


@login_required
@require_http_methods(["GET", "POST"])
def appointment_create(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    start = (timezone.localtime() + dt.timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    form = AppointmentForm(
        request.POST or None,
        customer=customer,
        initial={
            "starts_at": start.replace(tzinfo=None),
            "ends_at": (start + dt.timedelta(hours=1)).replace(tzinfo=None),
            "place": customer.address,
            "title": _("拜访"),
        },
    )
    saved = save_form(
        request,
        form,
        lambda d: services.appointment_create(actor=user, source=Source.UI, customer=customer, **d),
    )
    if saved:
        return redirect("followup:appointment", appointment_id=saved.pk)
    return render(
        request,
        "followup/appointment_form.html",
        {"form": form, "customer": customer},
        status=form_status(request),
    )


@login_required
@require_http_methods(["GET", "POST"])
def appointment_detail(request: HtmxHttpRequest, appointment_id: int) -> HttpResponse:
    user = _user(request)
    appointment = selectors.appointment_get_for_user(user=user, appointment_id=appointment_id)
    action = request.POST.get("action", "")
    local_start = timezone.localtime(appointment.starts_at).replace(tzinfo=None)
    local_end = timezone.localtime(appointment.ends_at).replace(tzinfo=None)
    reschedule = RescheduleForm(
        request.POST if action == "reschedule" else None,
        initial={"starts_at": local_start, "ends_at": local_end},
    )
    cancel = CancelForm(request.POST if action == "cancel" else None)
    if action == "reschedule" and save_form(
        request,
        reschedule,
        lambda d: (
            services.appointment_reschedule(actor=user, source=Source.UI, appointment=appointment, **d)
            is not None
        ),
    ):
        return redirect("followup:appointment", appointment_id=appointment.pk)
    if action == "cancel" and save_form(
        request,
        cancel,
        lambda d: (
            services.appointment_cancel(actor=user, source=Source.UI, appointment=appointment, **d)
            is not None
        ),
    ):
        return redirect("followup:appointment", appointment_id=appointment.pk)
    if request.method == "POST" and action not in ("reschedule", "cancel"):
        raise Http404("unknown action")
    return render(
        request,
        "followup/appointment_detail.html",
        {"a": appointment, "reschedule": reschedule, "cancel": cancel},
        status=form_status(request),
    )


@login_required
@require_GET
def appointment_ics(request: HtmxHttpRequest, appointment_id: int) -> HttpResponse:
    appointment = selectors.appointment_get_for_user(user=_user(request), appointment_id=appointment_id)
    response = HttpResponse(ical.appointment_ics(appointment), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="guanxi-appointment-{appointment.pk}.ics"'
    return response


# --- Reminders and greetings ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def reminder_detail(request: HtmxHttpRequest, reminder_id: int) -> HttpResponse:
    user = _user(request)
    reminder = selectors.reminder_get_for_user(user=user, reminder_id=reminder_id)
    recipients = selectors.greeting_recipients(user, reminder)
    error = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in ("dismissed", "done", "pending"):
                reminders.reminder_set_status(actor=user, source=Source.UI, reminder=reminder, status=action)
                return redirect("followup:today")
            if action not in GreetingChannel.values:
                raise Http404("unknown action")
            contact = next((c for c in recipients if str(c.pk) == request.POST.get("contact")), None)
            if contact is None:
                raise Http404("no such recipient")
            greeting = reminders.greeting_create(
                actor=user,
                source=Source.UI,
                reminder=reminder,
                contact=contact,
                channel=action,
                subject=request.POST.get("subject", "")[:200] or None,
                body=request.POST.get("body", "")[:5000] or None,
            )
            if greeting.channel == GreetingChannel.EMAIL:
                messages.success(request, _("祝福邮件已排队发送：%(name)s") % {"name": contact.name})
            else:
                messages.success(request, _("已记录微信祝福：%(name)s") % {"name": contact.name})
            return redirect("followup:reminder", reminder_id=reminder.pk)
        except GuanxiError as exc:
            error = exc.message(request.LANGUAGE_CODE)  # type: ignore[attr-defined]
    sent = {(g.contact_id, g.channel): g for g in reminder.greetings.all()}
    drafts = []
    for contact in recipients:
        language, subject, body = reminders.greeting_draft(reminder, contact, user)
        emails = [p.value for p in contact.points.all() if p.kind == "email"]
        drafts.append(
            {
                "contact": contact,
                "language": language,
                "subject": subject,
                "body": body,
                "email": emails[0] if emails else "",
                "sent_email": sent.get((contact.pk, "email")),
                "sent_wechat": sent.get((contact.pk, "wechat")),
            }
        )
    return render(
        request,
        "followup/reminder.html",
        {"reminder": reminder, "drafts": drafts, "error": error},
        status=400 if error else 200,
    )


# --- Visit plan ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def plan(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    profile = selectors.planner_profile(user)
    day = _day(request.GET.get("day"), timezone.localdate())
    form = PlanForm(
        request.POST or None,
        initial={
            "day": day,
            "start_point": "office",
            "available_minutes": profile.available_minutes,
            "start_time": profile.day_starts,
        },
    )
    built = save_form(
        request,
        form,
        lambda d: visits.visit_plan_build(
            actor=user,
            source=Source.UI,
            day=d["day"],
            start_point=d["start_point"],
            available_minutes=d["available_minutes"],
            start_time=d["start_time"],
        ),
    )
    if built:
        return redirect(reverse("followup:plan") + f"?day={built.day.isoformat()}")
    if request.method == "POST":
        day = form.cleaned_data.get("day", day) if hasattr(form, "cleaned_data") else day
    current = selectors.visit_plan_for_user(user=user, day=day)
    stops = selectors.visit_stops(current, user) if current else []
    return render(
        request,
        "followup/plan.html",
        {
            "form": form,
            "day": day,
            "plan": current,
            "routed": [s for s in stops if s.position > 0],
            "unrouted": [s for s in stops if s.position == 0],
            "has_start": profile.office_latitude is not None or profile.home_latitude is not None,
        },
        status=form_status(request),
    )


@login_required
@require_POST
def plan_move(request: HtmxHttpRequest, plan_id: int, stop_id: int) -> HttpResponse:
    user = _user(request)
    current = selectors.visit_plan_get_for_user(user=user, plan_id=plan_id)
    if not current.stops.filter(pk=stop_id).exists():
        raise Http404("no such stop")
    offset = -1 if request.POST.get("direction") == "up" else 1
    visits.visit_plan_move(actor=user, source=Source.UI, plan=current, stop_id=stop_id, offset=offset)
    return redirect(reverse("followup:plan") + f"?day={current.day.isoformat()}")


@login_required
@require_POST
def plan_optimise(request: HtmxHttpRequest, plan_id: int) -> HttpResponse:
    user = _user(request)
    current = selectors.visit_plan_get_for_user(user=user, plan_id=plan_id)
    visits.visit_plan_optimise(actor=user, source=Source.UI, plan=current)
    return redirect(reverse("followup:plan") + f"?day={current.day.isoformat()}")


# --- Preparation and "log this visit" ------------------------------------------------------------


@login_required
@require_POST
def prep_open(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    day = _day(request.POST.get("day"), timezone.localdate())
    prep = visits.visit_prep_open(actor=user, source=Source.UI, customer=customer, day=day)
    return redirect("followup:prep", prep_id=prep.pk)


@login_required
@require_http_methods(["GET", "POST"])
def prep_detail(request: HtmxHttpRequest, prep_id: int) -> HttpResponse:
    user = _user(request)
    prep = selectors.visit_prep_get_for_user(user=user, prep_id=prep_id)
    form = PrepForm(request.POST or None, initial={"key_points": prep.key_points, "qa": qa_text(prep.qa)})

    def save(d: dict[str, Any]) -> Any:
        checklist = [
            {"text": item["text"], "done": f"item-{i}" in request.POST}
            for i, item in enumerate(prep.checklist)
            if f"remove-{i}" not in request.POST
        ]
        template: ChecklistTemplate | None = d.get("template")
        if template is not None:
            en = user.language.startswith("en")
            known = {i["text"] for i in checklist}
            for item in template.items:
                text = item.get("en") if en and item.get("en") else item.get("zh", "")
                if text and text not in known:
                    checklist.append({"text": text, "done": False})
        checklist += [
            {"text": line.strip(), "done": False} for line in d["extra_items"].splitlines() if line.strip()
        ]
        return visits.visit_prep_update(
            actor=user,
            source=Source.UI,
            prep=prep,
            checklist=checklist,
            key_points=d["key_points"],
            qa=d["qa"],
        )

    if save_form(request, form, save):
        return redirect("followup:prep", prep_id=prep.pk)
    contacts = customer_contacts(prep.customer)
    return render(
        request,
        "followup/prep.html",
        {
            "prep": prep,
            "form": form,
            "contacts": contacts,
            "cadence_days": cadence.cadence_days(prep.customer),
        },
        status=form_status(request),
    )


@login_required
@require_GET
def prep_print(request: HtmxHttpRequest, prep_id: int) -> HttpResponse:
    user = _user(request)
    prep = selectors.visit_prep_get_for_user(user=user, prep_id=prep_id)
    customer = customer_get_for_user(user=user, customer_id=prep.customer_id)
    return render(
        request,
        "followup/prep_print.html",
        {"prep": prep, "customer": customer, "contacts": customer_contacts(customer)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def visit_log(request: HtmxHttpRequest, customer_id: int) -> HttpResponse:
    """ "Log this visit": the interaction form, pre-filled from the day's appointment and preparation."""
    user = _user(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    day = _day(request.GET.get("day") or request.POST.get("day"), timezone.localdate())
    contacts = customer_contacts(customer)
    form = InteractionForm(
        request.POST or None,
        customer=customer,
        contacts=contacts,
        initial=visits.visit_log_initial(customer=customer, day=day, user=user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            visits.visit_log(
                actor=user,
                source=Source.UI,
                customer=customer,
                day=day,
                contacts=form.cleaned_data["contacts"],
                **form.service_data(),
            )
        except GuanxiError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("已记录拜访：%(name)s") % {"name": customer.name})
            return redirect(reverse("followup:plan") + f"?day={day.isoformat()}")
    return render(
        request,
        "followup/visit_log.html",
        {"customer": customer, "log_form": form, "day": day},
        status=form_status(request),
    )


# --- A contact's yearly dates ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def contact_dates(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    user = _user(request)
    contact = contact_get_for_user(user=user, contact_id=contact_id)
    form = ContactDateForm(request.POST or None)
    if save_form(
        request,
        form,
        lambda d: services.contact_date_add(actor=user, source=Source.UI, contact=contact, **d) is not None,
    ):
        return redirect("followup:contact_dates", contact_id=contact.pk)
    items = [
        (d, services.contact_date_next(d)) for d in contact.dates.order_by("date__month", "date__day", "id")
    ]
    return render(
        request,
        "followup/contact_dates.html",
        {"contact": contact, "customer": contact.customer, "items": items, "form": form},
        status=form_status(request),
    )


# --- Settings and the calendar feed --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    action = request.POST.get("action", "")
    new_url = None
    if action == "token_create":
        _token, raw = services.calendar_token_create(actor=user, source=Source.UI)
        new_url = request.build_absolute_uri(reverse("calendar_feed", args=[raw]))
    elif action == "token_revoke":
        services.calendar_token_revoke(actor=user, source=Source.UI)
        messages.success(request, _("日历订阅已停用"))
        return redirect("followup:settings")
    instance = PlannerProfile.objects.filter(user=user).first() or PlannerProfile(user=user)
    form = PlannerForm(request.POST if action == "planner" else None, instance=instance)
    if action == "planner" and save_form(
        request,
        form,
        lambda d: services.planner_update(actor=user, source=Source.UI, user=user, **d) is not None,
    ):
        messages.success(request, _("已保存"))
        return redirect("followup:settings")
    if request.method == "POST" and action not in ("planner", "token_create"):
        raise Http404("unknown action")
    return render(
        request,
        "followup/settings.html",
        {"form": form, "token": selectors.calendar_token_active(user), "new_url": new_url},
        status=400 if action == "planner" else 200,
    )


@never_cache
@require_GET
def calendar_feed(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The iCalendar subscription: no login, the secret in the URL; revoked or unknown → 404."""
    user = selectors.user_for_calendar_token(token)
    if user is None:
        raise Http404("no such calendar")
    response = HttpResponse(ical.user_feed(user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="guanxi.ics"'
    return response
