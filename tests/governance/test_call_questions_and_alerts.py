"""Questions on an open call (asked until the published deadline, answered and published without
the asker's name, everyone with a bid or an alert told once) and public alerts of new calls
(double opt-in, signed expiring links, one-click unsubscribe, rate limit, told once)."""

import datetime as dt

import pytest
from django.core import mail, signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from governance import services
from governance.models import (
    AuditEvent,
    CallAlertSubscription,
    CallPurpose,
    CallQuestion,
    CallStatus,
    Notification,
)
from governance.services import (
    QUESTIONS_CLOSE_OUTSIDE_CALL,
    QUESTIONS_CLOSED,
    call_alert_confirm,
    call_alert_subscribe,
    call_alert_unsubscribe,
    call_question_answer,
    call_question_ask,
    call_question_publish,
)
from tests.factories.applications import BidFactory
from tests.factories.governance import CallFactory, MembershipFactory, UserFactory
from tests.notification_checks import assert_sent_once, reword


@pytest.fixture
def open_call(world):
    return CallFactory(fund=world.fund, host_network=world.host, slug="open-call", title="Open call",
                       pots=[world.host_pot], panel=world.panel,
                       questions_close_at=timezone.now() + dt.timedelta(days=7))


def _confirmed(email="public@example.com", **filters):
    subscription = call_alert_subscribe(email=email, **filters)
    return call_alert_confirm(token=signing.dumps(subscription.pk, salt=services.ALERT_SALT_CONFIRM))


@pytest.mark.django_db
def test_a_question_is_asked_answered_and_published_anonymously_and_everyone_told_once(client, world, open_call):
    bid = BidFactory(call=open_call, lead_organisation=world.trust)
    subscriber = _confirmed(email="watcher@example.com")
    reword(world.fund, "call_question_answered")
    question = call_question_ask(actor=world.people.applicant, call=open_call, question="May a PCN lead?")
    assert_sent_once("call_question_asked", world.people.manager)
    question = call_question_answer(actor=world.people.manager, question=question, answer="Yes, with a trust.")
    # Answered but not published: not public.
    page = client.get(open_call.get_absolute_url()).content.decode()
    assert "May a PCN lead?" not in page
    call_question_publish(actor=world.people.manager, question=question)
    with pytest.raises(ValidationError):
        call_question_publish(actor=world.people.manager, question=question)  # once
    page = client.get(open_call.get_absolute_url()).content.decode()
    assert "May a PCN lead?" in page
    assert "Yes, with a trust." in page
    assert world.people.applicant.full_name not in page
    assert world.people.applicant.email not in page
    assert bid.lead_organisation.memberships.filter(user=world.people.applicant).exists()
    assert_sent_once("call_question_answered", world.people.applicant, marker="FUND WORDING")
    assert_sent_once("call_question_answered", email=subscriber.email, marker="FUND WORDING")
    assert not Notification.objects.filter(kind="call_question_answered", user=world.people.other_applicant).exists()
    actions = set(AuditEvent.objects.filter(target_type="governance.callquestion").values_list("action", flat=True))
    assert actions == {"call_question.asked", "call_question.answered", "call_question.published"}


@pytest.mark.django_db
def test_questions_stop_at_the_published_deadline(world, open_call, time_machine):
    time_machine.move_to(open_call.questions_close_at + dt.timedelta(minutes=1))
    with pytest.raises(ValidationError) as refused:
        call_question_ask(actor=world.people.applicant, call=open_call, question="Too late?")
    assert refused.value.message_dict == {"question": [QUESTIONS_CLOSED]}
    assert not CallQuestion.objects.exists()


@pytest.mark.django_db
def test_the_question_deadline_must_fall_inside_the_call(world, open_call):
    with pytest.raises(ValidationError) as refused:
        services.call_update(actor=world.people.manager, call=open_call,
                             questions_close_at=open_call.closes_at + dt.timedelta(hours=1))
    assert refused.value.message_dict["questions_close_at"] == [QUESTIONS_CLOSE_OUTSIDE_CALL]
    moved = services.call_update(actor=world.people.manager, call=open_call,
                                 questions_close_at=open_call.closes_at - dt.timedelta(days=2))
    assert moved.questions_close_at == open_call.closes_at - dt.timedelta(days=2)


@pytest.mark.django_db
def test_the_call_runners_cannot_ask_and_bidders_cannot_answer(world, open_call):
    with pytest.raises(PermissionDenied):
        call_question_ask(actor=world.people.manager, call=open_call, question="Self?")
    question = call_question_ask(actor=world.people.applicant, call=open_call, question="Q?")
    with pytest.raises(PermissionDenied):
        call_question_answer(actor=world.people.applicant, question=question, answer="A")
    with pytest.raises(PermissionDenied):
        call_question_publish(actor=world.people.other_manager, question=question)


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "ask", "see", "answer"), [
    (None, 302, 302, 302),
    ("applicant", 200, 403, 403),
    ("other_applicant", 200, 403, 403),
    ("manager", 403, 200, 200),
    ("partner_manager", 403, 200, 403),
    ("other_manager", 200, 403, 403),
    ("auditor", 403, 200, 403),
    ("admin", 200, 200, 200),
])
def test_who_may_ask_see_and_answer_questions(client, world, open_call, who, ask, see, answer):
    question = call_question_ask(actor=world.people.other_applicant, call=open_call, question="Hidden question")
    if who:
        client.force_login(getattr(world.people, who))
    assert client.get(reverse("governance:call_question_ask", args=[open_call.slug])).status_code == ask
    assert client.get(reverse("governance:call_questions", args=[open_call.slug])).status_code == see
    url = reverse("governance:call_question_answer", args=[open_call.slug, question.pk])
    assert client.get(url).status_code == answer


@pytest.mark.django_db
def test_asking_through_the_page_shows_errors_next_to_the_field(client, world, open_call):
    client.force_login(world.people.applicant)
    url = reverse("governance:call_question_ask", args=[open_call.slug])
    page = client.post(url, {"question": ""})
    assert page.status_code == 200
    assert "Error:" in page.content.decode()
    assert client.post(url, {"question": "How long may a project run?"}).status_code == 302
    assert CallQuestion.objects.get().asked_by == world.people.applicant


@pytest.mark.django_db
def test_alerts_need_confirming_then_tell_matching_subscribers_once_when_a_call_opens(world, mailoutbox,
                                                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pending = call_alert_subscribe(email="Pending@Example.com")
    assert pending.email == "pending@example.com"
    (confirm,) = mailoutbox
    assert "/calls/alerts/confirm/" in confirm.body
    matching = _confirmed(email="match@example.com", purposes=[CallPurpose.ADOPTION], networks=[world.host])
    _confirmed(email="other-purpose@example.com", purposes=[CallPurpose.DIFFUSION])
    _confirmed(email="other-network@example.com", networks=[world.other])
    region = _confirmed(email="region@example.com", regions=[world.host.region] if world.host.region else [])
    gone = _confirmed(email="gone@example.com")
    call_alert_unsubscribe(token=signing.dumps(gone.pk, salt=services.ALERT_SALT_UNSUBSCRIBE))
    reword(world.fund, "call_published")
    call = world.call
    call.status = CallStatus.SCHEDULED
    call.opens_at = timezone.now() - dt.timedelta(minutes=1)
    call.closes_at = timezone.now() + dt.timedelta(days=30)
    call.save()
    services.calls_advance()
    services.calls_advance()
    told = set(Notification.objects.filter(kind="call_published").values_list("email", flat=True))
    assert told == {"match@example.com", "region@example.com"}
    note = assert_sent_once("call_published", email=matching.email, marker="FUND WORDING")
    assert "/calls/alerts/unsubscribe/" in note.unsubscribe_link
    assert region.is_active


@pytest.mark.django_db
def test_confirmation_links_expire_and_unsubscribe_is_one_click(client, settings, time_machine):
    subscription = call_alert_subscribe(email="someone@example.com")
    link = services.call_alert_confirm_link(subscription)
    time_machine.move_to(timezone.now() + dt.timedelta(seconds=settings.CALL_ALERT_CONFIRM_MAX_AGE + 60))
    page = client.get(link)
    assert page.status_code == 400
    assert "expired" in page.content.decode()
    assert client.get(link.replace("confirm/", "confirm/x")).status_code == 400
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None
    fresh = call_alert_subscribe(email="someone@example.com")
    assert client.get(services.call_alert_confirm_link(fresh)).status_code == 200
    fresh.refresh_from_db()
    assert fresh.is_active
    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" without a CSRF token.
    unsubscribe = services.call_alert_unsubscribe_link(fresh)
    from django.test import Client
    response = Client(enforce_csrf_checks=True).post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    fresh.refresh_from_db()
    assert fresh.unsubscribed_at is not None
    assert not fresh.is_active


@pytest.mark.django_db
def test_alert_requests_are_rate_limited(settings):
    from django.core.cache import cache

    cache.clear()
    settings.CALL_ALERT_REQUESTS_PER_HOUR = 2
    call_alert_subscribe(email="a@example.com", client="10.0.0.1")
    call_alert_subscribe(email="b@example.com", client="10.0.0.1")
    with pytest.raises(ValidationError) as refused:
        call_alert_subscribe(email="c@example.com", client="10.0.0.1")
    assert refused.value.message_dict == {"email": [services.ALERT_RATE_LIMITED]}
    assert CallAlertSubscription.objects.count() == 2
    cache.clear()


@pytest.mark.django_db
def test_the_subscribe_page_is_public_and_shows_errors(client):
    from django.core.cache import cache

    cache.clear()
    url = reverse("governance:call_alert_subscribe")
    assert client.get(url).status_code == 200
    page = client.post(url, {"email": "not an email"})
    assert page.status_code == 200
    assert "Error:" in page.content.decode()
    page = client.post(url, {"email": "ok@example.com", "purposes": ["adoption"]})
    assert page.status_code == 200
    assert "Check your email" in page.content.decode()
    assert CallAlertSubscription.objects.get().purposes == ["adoption"]
    assert len(mail.outbox) <= 1


@pytest.mark.django_db
def test_members_of_organisations_without_a_bid_are_not_told_of_answers(world, open_call):
    MembershipFactory(user=UserFactory(), organisation=world.trust)
    assert services.call_bid_holders(open_call) == []
