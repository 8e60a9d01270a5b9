"""The deadline holds: a save or submission is on time if the request reached the front of the
service before the closing time, however long it then waited for a worker.

Behind a trusted proxy (``TRUSTED_PROXY_COUNT`` > 0) that is the proxy's ``X-Request-Start``;
otherwise the moment Django received the request. A forged header is ignored without a proxy."""

import datetime as dt

import pytest
from django.test import RequestFactory, override_settings
from django.utils import timezone

from applications import services
from applications.models import Bid, BidSection, BidStatus
from governance.models import AuditEvent
from governance.request_time import RequestReceivedMiddleware, request_started_at
from tests.applications.conftest import version

pytestmark = pytest.mark.django_db

DECLARATIONS = {"declarations": ["accurate", "authority", "partners", "conflicts"]}


def start_header(moment: dt.datetime) -> dict:
    """What docker-compose's nginx sends: ``t=`` seconds since the epoch with milliseconds."""
    return {"HTTP_X_REQUEST_START": f"t={moment.timestamp():.3f}"}


@pytest.fixture
def closed_a_moment_ago(world):
    """The call closed 5 seconds ago: a request that queued behind others arrives late."""
    world.call.closes_at = timezone.now() - dt.timedelta(seconds=5)
    world.call.save()
    return world.call.closes_at


@pytest.fixture
def applicant_client(client, world):
    client.force_login(world.applicant)
    return client


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_submission_that_reached_the_proxy_before_closing_is_on_time(applicant_client, ready, closed_a_moment_ago):
    arrived = closed_a_moment_ago - dt.timedelta(seconds=2)
    response = applicant_client.post(f"/bids/{ready.pk}/check/", DECLARATIONS, **start_header(arrived))
    assert response.status_code == 302
    assert response["Location"] == f"/bids/{ready.pk}/submitted/"
    bid = Bid.objects.get(pk=ready.pk)
    assert bid.status == BidStatus.SUBMITTED
    # The time recorded is when it arrived (to the millisecond), before the closing time.
    assert abs(bid.submitted_at - arrived) < dt.timedelta(milliseconds=1)
    assert bid.submitted_at < closed_a_moment_ago
    assert AuditEvent.objects.filter(action="bid.submitted").count() == 1


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_submission_that_reached_the_proxy_after_closing_is_refused(applicant_client, ready, closed_a_moment_ago):
    arrived = closed_a_moment_ago + dt.timedelta(seconds=1)
    response = applicant_client.post(f"/bids/{ready.pk}/check/", DECLARATIONS, follow=True, **start_header(arrived))
    assert "the bid can no longer be changed" in response.content.decode()
    assert Bid.objects.get(pk=ready.pk).status == BidStatus.DRAFT


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_a_forged_start_header_without_a_trusted_proxy_is_ignored(applicant_client, ready, closed_a_moment_ago):
    forged = closed_a_moment_ago - dt.timedelta(seconds=2)
    response = applicant_client.post(f"/bids/{ready.pk}/check/", DECLARATIONS, follow=True, **start_header(forged))
    assert "the bid can no longer be changed" in response.content.decode()
    assert Bid.objects.get(pk=ready.pk).status == BidStatus.DRAFT


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_section_save_that_reached_the_proxy_before_closing_is_saved(applicant_client, world, ready,
                                                                        closed_a_moment_ago):
    arrived = closed_a_moment_ago - dt.timedelta(milliseconds=300)
    data = {"version": version(ready, BidSection.SUMMARY), "save": "", "title": "Frailty at home, revised",
            "summary": "Monitoring at home.", "problem": "Admissions.",
            "start_date_day": ready.start_date.day, "start_date_month": ready.start_date.month,
            "start_date_year": ready.start_date.year, "end_date_day": ready.end_date.day,
            "end_date_month": ready.end_date.month, "end_date_year": ready.end_date.year}
    response = applicant_client.post(f"/bids/{ready.pk}/sections/summary/", data, **start_header(arrived))
    assert response.status_code == 302
    assert response["Location"] == f"/bids/{ready.pk}/"
    assert Bid.objects.get(pk=ready.pk).title == "Frailty at home, revised"
    # Too late by the proxy's clock: refused, nothing changes.
    late = {**data, "version": version(ready, BidSection.SUMMARY), "title": "Too late"}
    applicant_client.post(f"/bids/{ready.pk}/sections/summary/", late,
                          **start_header(closed_a_moment_ago + dt.timedelta(milliseconds=1)))
    assert Bid.objects.get(pk=ready.pk).title == "Frailty at home, revised"


def test_the_save_services_judge_the_closing_time_by_the_moment_given(world, ready):
    closes = world.call.closes_at
    services.bid_summary_save(actor=world.applicant, bid=ready, version=version(ready, BidSection.SUMMARY),
                              title="On time", now=closes - dt.timedelta(seconds=1))
    assert Bid.objects.get(pk=ready.pk).title == "On time"
    with pytest.raises(services.ValidationError):
        services.bid_summary_save(actor=world.applicant, bid=ready, version=version(ready, BidSection.SUMMARY),
                                  title="Late", now=closes)


def received(meta: dict) -> dt.datetime:
    request = RequestFactory().get("/", **meta)
    RequestReceivedMiddleware(lambda request: None)(request)
    return request_started_at(request)


@override_settings(TRUSTED_PROXY_COUNT=1, REQUEST_START_MAX_AGE=300)
def test_the_proxy_time_is_believed_only_when_it_makes_sense():
    now = timezone.now()
    earlier = now - dt.timedelta(seconds=30)
    assert abs(received(start_header(earlier)) - earlier) < dt.timedelta(milliseconds=1)
    # Milliseconds and microseconds since the epoch, as other proxies send them.
    assert abs(received({"HTTP_X_REQUEST_START": f"t={int(earlier.timestamp() * 1000)}"}) - earlier) < dt.timedelta(
        milliseconds=1)
    assert abs(received({"HTTP_X_REQUEST_START": str(int(earlier.timestamp() * 1_000_000))}) - earlier) < dt.timedelta(
        milliseconds=1)
    # A time after Django received it (clocks apart) gives Django's; nonsense, or older than
    # any queue, is not believed.
    for meta in (start_header(now + dt.timedelta(seconds=60)), {"HTTP_X_REQUEST_START": "t=soon"},
                 start_header(now - dt.timedelta(seconds=301)), {}):
        assert received(meta) >= now
