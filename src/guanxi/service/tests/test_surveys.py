from __future__ import annotations

import datetime as dt
import re
from email import message_from_bytes

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from guanxi.audit.models import AuditEvent, Source
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.engagement.selectors import customer_timeline
from guanxi.service import services
from guanxi.service.models import EmailStatus, SurveyInvitation, SurveyResponse, SurveyTemplate
from guanxi.service.selectors import surveys as sel
from guanxi.testing.factories import make_contact, make_customer

NEUTRAL = "链接无效或已失效"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(db):
    cache.clear()
    yield
    cache.clear()


def _link(world, **kw):
    invitation, link = services.survey_invitation_create(
        actor=world.owner, source=Source.UI, customer=world.customer, channel="link", **kw
    )
    assert link is not None
    return invitation, link.split("localhost:8000", 1)[-1]


def _public() -> Client:
    return Client(enforce_csrf_checks=True)


def _answer(client: Client, path: str, data: dict) -> object:
    page = client.get(path)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    return client.post(path, {"csrfmiddlewaretoken": token, **data})


def test_only_the_hash_of_the_token_is_stored(world):
    invitation, path = _link(world)
    raw = path.strip("/").split("/")[-1]
    assert len(raw) == 43
    invitation.refresh_from_db()
    assert invitation.token_hash == SurveyInvitation.hash_token(raw) and raw not in invitation.token_hash
    assert not AuditEvent.objects.filter(changes__icontains=raw).exists()


def test_public_page_shows_only_its_own_question_sheet(world):
    contact = make_contact(world.customer, name="赵敏", emails=["zm@example.com"])
    other = make_customer(world.owner, name="另一家客户有限公司")
    services.survey_invitation_create(actor=world.owner, source=Source.UI, customer=other, channel="link")
    _, path = _link(world, contact=contact)
    resp = _public().get(path)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "您为什么选择了我们" in html and 'name="recommend"' in html
    for secret in ("华为", "赵敏", "zm@example.com", "另一家", "王丽", "alice", "/customers/", "/service/"):
        assert secret not in html, secret
    assert resp["Referrer-Policy"] == "same-origin" and "noindex" in resp["X-Robots-Tag"]
    assert "no-cache" in resp["Cache-Control"] or "no-store" in resp["Cache-Control"]


def test_answer_once_then_the_token_opens_nothing(world):
    invitation, path = _link(world)
    client = _public()
    resp = _answer(client, path, {"why_chose": "质量稳定", "recommend": "9", "improve": "交货再快一点"})
    assert resp.status_code == 200 and "谢谢" in resp.content.decode()
    response = SurveyResponse.objects.get(invitation=invitation)
    assert response.nps == 9 and response.answers["why_chose"] == "质量稳定"
    # reuse: the same neutral 404 for GET and POST, and no second answer
    again = client.get(path)
    assert again.status_code == 404 and NEUTRAL in again.content.decode()
    assert _public().post(path, {"recommend": "0"}).status_code in (403, 404)
    assert SurveyResponse.objects.count() == 1
    with pytest.raises(NotFound):
        services.survey_answer(invitation=invitation, answers={"recommend": "1"})
    # the answer is on the customer's timeline
    assert any(
        e.kind == "event" and e.event.action == "survey.answer" for e in customer_timeline(world.customer)
    )


def test_forged_unknown_expired_and_revoked_tokens_get_the_same_neutral_page(world):
    invitation, path = _link(world)
    raw = path.strip("/").split("/")[-1]
    forged = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    _, expired_path = _link(world, valid_days=1)
    revoked, revoked_path = _link(world)
    services.survey_invitation_revoke(actor=world.owner, source=Source.UI, invitation=revoked)
    pages = []
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=2), tick=False):
        for p in (f"/s/{forged}/", "/s/short/", "/s/" + "x" * 200 + "/", expired_path, revoked_path):
            resp = _public().get(p)
            assert resp.status_code == 404, p
            pages.append(resp.content)
    assert len(set(pages)) == 1 and NEUTRAL in pages[0].decode()
    assert sel.invitation_for_token(forged) is None
    assert sel.invitation_for_token(raw) == invitation


def test_post_without_csrf_token_is_refused(world):
    _, path = _link(world)
    resp = _public().post(path, {"recommend": "9"})
    assert resp.status_code == 403
    assert not SurveyResponse.objects.exists()


def test_bad_answers_are_rejected_clearly_and_nothing_saved(world):
    invitation, path = _link(world)
    client = _public()
    resp = _answer(client, path, {"recommend": "11", "improve": "长" * 2001})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "0–10" in html and "2000" in html
    assert not SurveyResponse.objects.exists()
    invitation.refresh_from_db()
    assert invitation.answered_at is None
    resp = _answer(client, path, {"why_chose": "价格"})  # the 0–10 score is required
    assert resp.status_code == 400 and "请回答这个问题" in resp.content.decode()
    with pytest.raises(ValidationFailed) as exc:
        services.survey_answer(invitation=invitation, answers={"recommend": "ten"})
    assert exc.value.message_en


def test_oversized_body_is_refused(world):
    _, path = _link(world)
    resp = _answer(_public(), path, {"improve": "x" * 40_000, "recommend": "9"})
    assert resp.status_code == 413 and NEUTRAL in resp.content.decode()


def test_probing_tokens_is_rate_limited(world):
    _, path = _link(world)
    client = _public()
    for i in range(10):
        assert client.get(f"/s/{'a' * 42}{i % 10}/").status_code == 404
    # after ten misses from this address even a valid token answers 429 for a while
    assert client.get(path).status_code == 429


def test_email_invitation_mints_its_token_when_sent_and_is_sent_once(
    world, smtp_server, django_capture_on_commit_callbacks
):
    make_contact(world.customer, name="钱多多", emails=["qdd@example.com"])
    contact = world.customer.contacts.get(name="钱多多")
    with django_capture_on_commit_callbacks(execute=True):
        invitation, link = services.survey_invitation_create(
            actor=world.owner, source=Source.UI, customer=world.customer, channel="email", contact=contact
        )
    assert link is None
    invitation.refresh_from_db()
    assert invitation.email_status == EmailStatus.SENT and invitation.to_address == "qdd@example.com"
    assert len(smtp_server.messages) == 1
    msg = message_from_bytes(smtp_server.messages[0].original_content)
    body = msg.get_payload(decode=True).decode(msg.get_content_charset())
    path = re.search(r"(/s/[A-Za-z0-9_-]{43}/)", body).group(1)
    assert "钱多多" in body
    assert services.survey_invitation_deliver(invitation.pk) is False  # idempotent
    assert len(smtp_server.messages) == 1
    resp = _answer(_public(), path, {"recommend": "10"})
    assert resp.status_code == 200


def test_bad_email_address_is_rejected(world):
    with pytest.raises(ValidationFailed) as exc:
        services.survey_invitation_create(
            actor=world.owner,
            source=Source.UI,
            customer=world.customer,
            channel="email",
            to_address="not-an-email",
        )
    assert exc.value.field == "to_address"
    assert not SurveyInvitation.objects.exists()


def test_complaint_survey_records_satisfaction_on_the_complaint(world):
    c = services.complaint_create(
        actor=world.owner, source=Source.UI, customer=world.customer, summary="漏发货", category="delivery"
    )
    with pytest.raises(ValidationFailed):
        services.survey_invitation_create(
            actor=world.owner, source=Source.UI, customer=world.customer, channel="link", complaint=c
        )
    services.complaint_resolve(actor=world.owner, source=Source.UI, complaint=c, resolution="已补发")
    invitation, path = _link(world, complaint=c)
    assert invitation.template == SurveyTemplate.objects.get(for_complaints=True)
    assert _answer(_public(), path, {"satisfaction": "5", "comment": "处理很快"}).status_code == 200
    c.refresh_from_db()
    assert c.satisfaction == "5" and c.satisfaction_note == "处理很快"


def test_nps_per_segment_and_visibility(world):
    for score in (10, 9, 7, 3):
        invitation, _ = _link(world)
        services.survey_answer(invitation=invitation, answers={"recommend": str(score)})
    results = sel.survey_results(world.owner)
    assert results["overall"]["nps"] == 25.0  # 2 promoters, 1 detractor of 4
    assert results["by_segment"][0]["key"] == "channel"
    assert len(results["by_month"]) == 1
    assert sel.survey_results(world.outsider)["overall"]["answers"] == 0
    assert sel.survey_results(world.teammate)["overall"]["answers"] == 0
    assert sel.survey_results(world.manager)["overall"]["answers"] == 4


def test_outsider_cannot_invite_or_see_invitations(world):
    invitation, _ = _link(world)
    with pytest.raises(NotFound):
        services.survey_invitation_create(
            actor=world.outsider, source=Source.UI, customer=world.customer, channel="link"
        )
    with pytest.raises(NotFound):
        sel.invitation_get_for_user(user=world.outsider, invitation_id=invitation.pk)
