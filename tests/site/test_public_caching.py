"""HTTP caching of everything public for visitors: ETag and Last-Modified from the public version,
304s on conditional requests without running the page, Cache-Control for browsers and a CDN;
the validator changes whenever what the pages show changes; signed-in people still get no-store."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from awards.models import LedgerEntryKind, PotLedgerEntry
from governance.models import CallStatus
from reporting.register.public_version import public_version
from tests.factories.governance import CallFactory, UserFactory
from tests.reporting.register_builders import Scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    return Scene()


def public_paths(scene) -> list[str]:
    call = CallFactory(status=CallStatus.OPEN, published_at=timezone.now() - dt.timedelta(days=2),
                       opens_at=timezone.now() - dt.timedelta(days=1), closes_at=timezone.now() + dt.timedelta(days=20))
    return ["/", "/calls/", f"/calls/{call.slug}/", "/register/", "/register/?q=ward", f"/register/{scene.a1.reference}/",
            "/reports/", "/register/360giving.json", "/register/awards.csv", "/register/awards.xlsx",
            "/api/v1/", "/api/v1/awards/", f"/api/v1/awards/{scene.a1.reference}/", "/api/v1/calls/",
            "/api/v1/reports/"]


def drain(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_every_public_page_gets_a_validator_and_cache_control_and_a_304(client, scene):
    for path in public_paths(scene):
        first = client.get(path)
        drain(first)
        assert first.status_code == 200, path
        control = first["Cache-Control"]
        for part in ("public", "max-age=", "s-maxage="):
            assert part in control, (path, control)
        for part in ("no-store", "no-cache"):
            assert part not in control, (path, control)
        assert "Cookie" in first["Vary"], path
        assert first["ETag"].startswith('"'), path
        assert first["Last-Modified"].endswith("GMT"), path
        # The same copy, asked again: a 304 with the same validator, no body, one query.
        with CaptureQueriesContext(connection) as captured:
            again = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304, path
        assert again["ETag"] == first["ETag"]
        assert not drain(again)
        assert len(captured.captured_queries) == 1, (path, [q["sql"] for q in captured.captured_queries])
        assert client.get(path, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304, path


def test_different_pages_and_queries_have_different_validators(client, scene):
    etags = {client.get(path)["ETag"] for path in ["/register/", "/register/?q=ward", "/register/?page=2", "/calls/"]}
    assert len(etags) == 4


def test_a_change_to_the_data_changes_the_validator(client, scene):
    paths = ["/register/", f"/register/{scene.a1.reference}/", "/register/awards.csv", "/api/v1/awards/", "/"]
    before = {path: client.get(path)["ETag"] for path in paths}

    def all_changed(what: str) -> None:
        for path in paths:
            response = client.get(path, HTTP_IF_NONE_MATCH=before[path])
            assert response.status_code == 200, (what, path)
            assert response["ETag"] != before[path], (what, path)
            before[path] = response["ETag"]

    # A payment (the amount paid shown on the register and award page).
    PotLedgerEntry.objects.create(pot=scene.a1.pot, financial_year=scene.a1.years[0], kind=LedgerEntryKind.PAYMENT,
                                  amount=Decimal("5.00"), award=scene.a1)
    all_changed("payment")
    # An award saved (a status change, a new amount).
    scene.a1.save()
    all_changed("award saved")
    # A call saved (published, extended, closed).
    scene.a1.bid.call.save()
    all_changed("call saved")
    # An organisation renamed.
    scene.a1.recipient.name = "Renamed NHS Trust"
    scene.a1.recipient.save()
    all_changed("organisation renamed")


def test_the_validator_changes_when_a_call_opens_without_any_row_changing(scene):
    now = timezone.now()
    CallFactory(status=CallStatus.OPEN, published_at=now - dt.timedelta(days=2), opens_at=now + dt.timedelta(hours=1),
                closes_at=now + dt.timedelta(days=20))
    before, after = public_version(now), public_version(now + dt.timedelta(hours=1, seconds=1))
    assert before.token != after.token
    assert public_version(now).token == public_version(now + dt.timedelta(minutes=59)).token
    assert before.next_change == now + dt.timedelta(hours=1)


def test_no_copy_outlives_the_next_opening_or_closing(client, scene, settings):
    settings.PUBLIC_CACHE_MAX_AGE = settings.PUBLIC_CACHE_S_MAXAGE = 600
    now = timezone.now()
    CallFactory(status=CallStatus.OPEN, published_at=now - dt.timedelta(days=2), opens_at=now - dt.timedelta(days=1),
                closes_at=now + dt.timedelta(seconds=90))
    control = client.get("/")["Cache-Control"]
    assert "max-age=600" not in control
    ages = [int(part.split("=")[1]) for part in control.split(", ") if "max-age" in part]
    assert ages
    assert all(0 <= age <= 90 for age in ages)


def test_signed_in_people_get_no_store_and_no_304_from_the_visitors_copy(client, scene):
    etag = client.get("/register/")["ETag"]
    client.force_login(UserFactory())
    for path in ["/", "/register/", f"/register/{scene.a1.reference}/", "/register/awards.csv"]:
        response = client.get(path, HTTP_IF_NONE_MATCH=etag)
        drain(response)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path
        assert "public" not in response["Cache-Control"], path
        assert "ETag" not in response or response["ETag"] != etag


def test_pages_that_set_a_cookie_are_not_shared(client, scene):
    """The sign-in page hands out a CSRF token: never a public copy."""
    response = client.get("/accounts/login/")
    assert "public" not in response.get("Cache-Control", "")
