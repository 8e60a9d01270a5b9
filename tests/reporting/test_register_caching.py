"""The register's kept parts (``reporting/register/public_cache.py``), its keyset pages and its search cap.

A page the public asks for again while nothing public changed is served from its kept part (one
query: the public version); anything that changes what it shows moves the version, so the next
request shows the change. "Next" and "Previous" carry a cursor and read the rows beside it.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.models import InnovationType
from reporting.models import RegisterEntry
from reporting.register import selectors as reg, views as views_register
from reporting.register.public_version import public_version
from reporting.register.selectors import (
    SEARCH_NEWEST_FIRST,
    decode_cursor,
    encode_cursor,
    keyset_order,
)
from tests.factories.governance import UserFactory
from tests.reporting.register_builders import Scene

pytestmark = pytest.mark.django_db
URL = "/register/"


@pytest.fixture
def scene():
    return Scene()


def references(response) -> list[str]:
    return re.findall(r'href="/register/([^/"]+)/"', response.content.decode())


def link(response, rel: str) -> str | None:
    found = re.search(rf'href="([^"]+)"[^>]*>\s*<span class="nhsuk-pagination__title">{rel}</span>', response.content.decode())
    if not found:
        found = re.search(rf'class="nhsuk-pagination__link nhsuk-pagination__link--{rel[:4].lower()}[^"]*" href="([^"]+)"',
                          response.content.decode())
    return html.unescape(found.group(1)) if found else None


def queries(client, path, data=None) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, data or {})
    assert response.status_code == 200
    return response, [query["sql"] for query in captured.captured_queries]


# Kept parts ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [URL, f"{URL}?q=ward&fund=adoption-fund", "AWARD", "/api/v1/awards/"])
def test_a_page_asked_for_again_costs_only_the_public_version(client, scene, path):
    path = f"/register/{scene.a1.reference}/" if path == "AWARD" else path
    first, _ = queries(client, path)
    again, sql = queries(client, path)
    assert len(sql) == 1
    assert "MAX(updated_at)" in sql[0]
    assert again.content == first.content


def test_a_different_query_is_a_different_part(client, scene):
    assert references(client.get(URL, {"fund": "adoption-fund"})) == [scene.a2.reference, scene.a1.reference]
    assert references(client.get(URL, {"fund": "spread-fund"})) == [scene.a3.reference]
    # Unknown parameters and empty filters are the same page.
    assert references(client.get(URL, {"fund": "spread-fund", "utm_source": "x", "q": ""})) == [scene.a3.reference]


def test_a_change_to_an_award_shows_on_the_next_request(client, scene):
    assert "Remote monitoring for frailty at home" in client.get(URL).content.decode()
    assert "Remote monitoring" in client.get(f"/register/{scene.a1.reference}/").content.decode()
    scene.a1.title = "Home monitoring for people living with frailty"
    scene.a1.save()
    assert "Home monitoring for people living with frailty" in client.get(URL).content.decode()
    assert "Home monitoring for people" in client.get(f"/register/{scene.a1.reference}/").content.decode()
    assert scene.a1.reference in references(client.get("/api/v1/awards/", {"q": "home monitoring"})) or \
        "Home monitoring for people" in client.get("/api/v1/awards/").content.decode()


def test_a_change_the_award_row_does_not_carry_moves_the_version_too(client, scene):
    """A bid's type of innovation is in the read model, not on the award: the register's version
    is part of the public version, so the filtered page follows it."""
    before = public_version().token
    assert references(client.get(URL, {"innovation_type": InnovationType.DEVICE})) == [scene.a3.reference]
    bid = scene.a1.bid
    bid.innovation_type = InnovationType.DEVICE
    bid.save()
    assert public_version().token != before
    assert set(references(client.get(URL, {"innovation_type": InnovationType.DEVICE}))) == {scene.a1.reference, scene.a3.reference}


def test_an_award_leaving_the_register_is_a_404_at_once(client, scene):
    path = f"/register/{scene.a1.reference}/"
    assert client.get(path).status_code == 200
    decision = scene.a1.decision
    decision.released_at = None
    decision.save()
    assert client.get(path).status_code == 404
    assert scene.a1.reference not in references(client.get(URL))


def test_a_scheduled_release_moves_the_version_when_it_falls_due(client, scene):
    due = RegisterEntry.objects.get(award=scene.hidden[4]).visible_from
    version = public_version()
    assert version.next_change is not None
    assert version.next_change <= due
    assert scene.hidden[4].reference not in references(client.get(URL))
    with time_machine.travel(due + dt.timedelta(minutes=1), tick=True):
        assert public_version().token != version.token
        assert scene.hidden[4].reference in references(client.get(URL))


def test_a_signed_in_person_gets_the_same_list_with_their_own_header_and_no_store(client, scene):
    visitor = client.get(URL).content.decode()
    user = UserFactory(email="reader@example.com")
    client.force_login(user)
    response = client.get(URL)
    body = response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert "Sign in" not in body
    assert "Sign in" in visitor
    assert references(response) == re.findall(r'href="/register/([^/"]+)/"', visitor)
    assert user.email not in visitor


# Keyset pages ----------------------------------------------------------------------------


def walk(client, params: dict, rel: str = "Next", start: str | None = None) -> list[str]:
    """Every reference, one page at a time, following the links."""
    response = client.get(start or URL, None if start else params)
    seen = references(response)
    while (following := link(response, rel)) is not None:
        response = client.get(following)
        seen += references(response)
    return seen


@pytest.mark.parametrize("sort", ["", "newest", "oldest", "amount_desc", "amount_asc", "title", "recipient"])
def test_next_and_previous_links_walk_every_row_in_order(client, scene, monkeypatch, sort):
    monkeypatch.setattr(views_register, "PAGE_SIZE", 1)
    params = {"sort": sort} if sort else {}
    by_position = [references(client.get(URL, {**params, "page": n}))[0] for n in (1, 2, 3)]
    forward = walk(client, params)
    assert forward == by_position
    last = client.get(URL, {**params, "page": 3})
    back = references(last)
    response = last
    while (previous := link(response, "Previous")) is not None:
        response = client.get(previous)
        back += references(response)
    assert back == by_position[::-1]


def test_next_links_carry_a_cursor_and_read_rows_after_it(client, scene, monkeypatch):
    monkeypatch.setattr(views_register, "PAGE_SIZE", 1)
    following = link(client.get(URL), "Next")
    assert "page=2" in following
    assert "after=" in following
    with CaptureQueriesContext(connection) as captured:
        client.get(following)
    # The page's rows are read from the cursor on, not counted from the start.
    rows = [sql for sql in (q["sql"] for q in captured.captured_queries) if "reporting_registerentry" in sql and "LIMIT" in sql]
    assert rows
    assert all("OFFSET" not in sql for sql in rows)


def test_the_cursor_holds_its_place_when_a_newer_award_arrives(client, scene, monkeypatch):
    monkeypatch.setattr(views_register, "PAGE_SIZE", 1)
    following = link(client.get(URL), "Next")  # after a3, the newest
    decision = scene.hidden[0].decision  # decided and released now: the newest award of all
    decision.released_at = decision.decided_at = timezone.now()
    decision.save()
    assert references(client.get(following)) == [scene.a2.reference]
    assert references(client.get(URL, {"page": 2})) == [scene.a3.reference]  # by position, it moved


@pytest.mark.parametrize("cursor", ["", "not-base64!", encode_cursor(["x"]), encode_cursor(["2026-01-01T00:00:00", "1"]),
                                    encode_cursor(["yesterday", "1"]), "e30"])
def test_a_cursor_that_is_not_one_falls_back_to_the_page_number(client, scene, monkeypatch, cursor):
    monkeypatch.setattr(views_register, "PAGE_SIZE", 1)
    assert references(client.get(URL, {"page": 2, "after": cursor})) == [scene.a2.reference]


def test_cursors_round_trip_for_every_order(scene):
    entries = RegisterEntry.objects.all()
    for sort in ("newest", "oldest", "amount_desc", "amount_asc", "title", "recipient"):
        ordered = reg.sort_awards(entries, sort, None, views_register.RegisterFilter.COLUMNS)
        order = keyset_order(ordered)
        assert order is not None
        row = ordered.values_list(*reg.keyset_values(ordered, order)).first()
        assert decode_cursor(encode_cursor(row), ordered, order) == list(row)
    assert keyset_order(reg.rank_by_relevance(entries, "ward", views_register.RegisterFilter.COLUMNS)) in (None, ["-decided_at", "-pk"])


# The search cap ---------------------------------------------------------------------------


def test_a_search_matching_more_than_the_cap_is_listed_newest_first_and_says_so(client, scene, monkeypatch):
    params = {"q": "ward OR frailty OR falls" if connection.vendor == "postgresql" else "e"}
    assert len(references(client.get(URL, params))) >= 2
    assert SEARCH_NEWEST_FIRST not in html.unescape(client.get(URL, params).content.decode())
    monkeypatch.setattr(reg, "SEARCH_RANK_LIMIT", 1)
    from django.core.cache import cache

    cache.clear()
    response = client.get(URL, params)
    assert SEARCH_NEWEST_FIRST in html.unescape(response.content.decode())
    newest = [a.reference for a in sorted(scene.published, key=lambda a: a.decision.decided_at, reverse=True)]
    assert references(response) == [ref for ref in newest if ref in references(response)]


def test_the_cap_is_the_documented_number():
    assert reg.SEARCH_RANK_LIMIT == 1000
    assert "1,000" in SEARCH_NEWEST_FIRST
