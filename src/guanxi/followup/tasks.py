"""Background jobs of the follow-up engine. Each takes ids (or nothing) and calls a service; each is
idempotent, so the periodic tick may run it twice, or two workers at once."""

from __future__ import annotations

from django_tasks import task

from guanxi.followup import reminders


@task()
def generate_reminders() -> int:
    """Birthday, anniversary and festival reminders for the coming days (unique rows: runs twice safely)."""
    return reminders.reminders_generate()


@task()
def send_greeting(greeting_id: int) -> bool:
    """Send one queued greeting e-mail; a greeting already claimed or sent is left alone."""
    return reminders.greeting_deliver(greeting_id)


@task()
def send_due_greetings() -> int:
    """Greetings scheduled for today (and any queued one whose immediate job was lost)."""
    return sum(reminders.greeting_deliver(greeting_id) for greeting_id in reminders.greetings_due())
