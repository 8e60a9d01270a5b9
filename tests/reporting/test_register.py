"""The register page: what is published, search, every filter, sorting, paging, totals and bad input."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from awards.models import Award
from awards.visibility import is_published, published_awards
from governance import fy
from governance.money import NOT_MONEY
from reporting.register import selectors as reg, views as views_register
from tests.reporting.register_builders import Scene, profile_and_pay, published_award

pytestmark = pytest.mark.django_db
URL = "/register/"


@pytest.fixture
def scene():
    return Scene()


def references(response) -> list[str]:
    """The references of the awards listed on a register page, in order."""
    return re.findall(r'href="/register/([^/"]+)/"', response.content.decode())


def refs(*awards) -> set[str]:
    return {a.reference for a in awards}


# What is published -----------------------------------------------------------------------


def test_only_released_awards_that_were_not_declined_or_lapsed_are_published(scene):
    assert set(published_awards()) == set(scene.published)
    for award in scene.hidden:
        assert not is_published(award)


def test_the_register_lists_every_published_award_and_nothing_else(client, scene):
    response = client.get(URL)
    assert response.status_code == 200
    assert set(references(response)) == refs(*scene.published)
    body = response.content.decode()
    assert "Secret" not in body


def test_totals_are_for_the_filtered_set(client, scene):
    response = client.get(URL)
    totals = response.context["totals"]
    assert totals.count == 3
    assert totals.awarded == Decimal("950000.00")
    assert totals.paid == Decimal("105000.00")  # hidden awards' payments are not counted
    body = response.content.decode()
    assert "£950,000" in body
    assert "£105,000" in body
    filtered = client.get(URL, {"fund": "adoption-fund"}).context["totals"]
    assert (filtered.count, filtered.awarded, filtered.paid) == (2, Decimal("350000.00"), Decimal("105000.00"))


def test_a_released_award_appears_once_its_call_and_decision_are_out(client, scene):
    hidden = scene.hidden[0]
    assert hidden.reference not in references(client.get(URL))
    hidden.decision.released_at = timezone.now()
    hidden.decision.save()
    assert hidden.reference in references(client.get(URL))


# Search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("monitoring", ["a1"]),            # title
        ("wearables", ["a1"]),             # summary
        ("Hackney", ["a2"]),               # recipient
        ("Kernow", ["a2"]),                # partner
        ("sensors", ["a3"]),               # title and recipient
        ("nothing-like-this", []),
    ],
)
def test_search_covers_titles_summaries_recipients_and_partners(client, scene, words, expected):
    response = client.get(URL, {"q": words})
    assert response.status_code == 200
    assert set(references(response)) == refs(*[getattr(scene, name) for name in expected])


def test_search_finds_an_award_by_its_reference(client, scene):
    assert references(client.get(URL, {"q": scene.a2.reference})) == [scene.a2.reference]


def test_search_never_finds_unpublished_awards(client, scene):
    assert references(client.get(URL, {"q": "Secret"})) == []


# Filters: each one, and together ---------------------------------------------------------


def _fy(award: Award) -> int:
    return fy.FinancialYear.of(timezone.localtime(award.decision.decided_at).date()).start_year


FILTERS = [
    ({"fund": "adoption-fund"}, ["a1", "a2"]),
    ({"fund": "spread-fund"}, ["a3"]),
    ({"call": "frailty-call"}, ["a1", "a2"]),
    ({"call": "spread-call"}, ["a3"]),
    ({"network": "HISW"}, ["a1"]),
    ({"network": "UCLP"}, ["a2"]),
    ({"region": "E40000003"}, ["a2"]),
    ({"region": "E40000012"}, ["a3"]),
    ({"recipient": "tamar valley"}, ["a1"]),
    ({"recipient": "F84001"}, ["a2"]),
    ({"org_kind": "gp_practice"}, ["a2"]),
    ({"org_kind": "company"}, ["a3"]),
    ({"purpose": "adoption"}, ["a1", "a2"]),
    ({"purpose": "diffusion"}, ["a3"]),
    ({"purpose": "pump_priming"}, []),
    ({"innovation_type": "digital"}, ["a1"]),
    ({"innovation_type": "device"}, ["a3"]),
    ({"min_amount": "250000"}, ["a2", "a3"]),
    ({"max_amount": "£250,000"}, ["a1", "a2"]),
    ({"min_amount": "100000", "max_amount": "300000"}, ["a2", "a1"]),
    ({"status": "closed"}, ["a2"]),
    ({"status": "withdrawn"}, ["a3"]),
    ({"status": "active"}, ["a1"]),
]


@pytest.mark.parametrize(("params", "expected"), FILTERS, ids=[str(p) for p, _ in FILTERS])
def test_each_filter_selects_the_matching_awards(client, scene, params, expected):
    response = client.get(URL, params)
    assert response.status_code == 200
    assert not response.context["form"].errors
    assert set(references(response)) == refs(*[getattr(scene, name) for name in expected])


def test_the_financial_year_filter_uses_the_year_of_the_award_decision(client, scene):
    for award in scene.published:
        year = _fy(award)
        expected = {a.reference for a in scene.published if _fy(a) == year}
        assert set(references(client.get(URL, {"year": year}))) == expected


def test_filters_combine(client, scene):
    params = {"fund": "adoption-fund", "min_amount": "200000", "org_kind": "gp_practice", "q": "ward"}
    assert references(client.get(URL, params)) == [scene.a2.reference]
    assert references(client.get(URL, {**params, "status": "active"})) == []


def test_filters_stay_in_the_links_for_paging_sorting_and_downloads(client, scene, monkeypatch):
    monkeypatch.setattr(views_register, "PAGE_SIZE", 1)
    response = client.get(URL, {"fund": "adoption-fund", "sort": "amount_desc"})
    body = response.content.decode()
    assert references(response) == [scene.a2.reference]
    # "Next" keeps the filters and order, and carries the page number and the last row's cursor.
    nxt = re.search(r'href="(/register/\?fund=adoption-fund&amp;sort=amount_desc&amp;page=2&amp;after=[\w-]+)"', body)
    assert nxt
    assert references(client.get(html.unescape(nxt.group(1)))) == [scene.a1.reference]
    for name in ("awards.csv", "awards.xlsx", "360giving.json"):
        assert f'href="/register/{name}?fund=adoption-fund"' in body
    # The form shows the chosen values again.
    assert re.search(r"<option value=\"adoption-fund\" selected\s*>", body)
    second = client.get(URL, {"fund": "adoption-fund", "sort": "amount_desc", "page": 2})
    assert references(second) == [scene.a1.reference]


# Sorting and paging ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["a3", "a2", "a1"]),
        ("newest", ["a3", "a2", "a1"]),
        ("oldest", ["a1", "a2", "a3"]),
        ("amount_desc", ["a3", "a2", "a1"]),
        ("amount_asc", ["a1", "a2", "a3"]),
        ("title", ["a3", "a2", "a1"]),
        ("recipient", ["a2", "a1", "a3"]),
    ],
)
def test_sorting(client, scene, sort, expected):
    assert references(client.get(URL, {"sort": sort})) == [getattr(scene, name).reference for name in expected]


def test_pages_split_the_list(client, scene, monkeypatch):
    monkeypatch.setattr(views_register, "PAGE_SIZE", 2)
    first, second = client.get(URL), client.get(URL, {"page": 2})
    assert len(references(first)) == 2
    assert len(references(second)) == 1
    assert set(references(first) + references(second)) == refs(*scene.published)
    assert "Awards 3 to 3 of 3" in second.content.decode()


# Bad input: a normal page with a clear message, never an error -------------------------------


BAD_VALUES = [
    ({"fund": "no-such-fund"}, reg.UNKNOWN_FUND),
    ({"call": "no-such-call"}, reg.UNKNOWN_CALL),
    ({"network": "NOPE"}, reg.UNKNOWN_NETWORK),
    ({"region": "E99999999"}, reg.UNKNOWN_REGION),
    ({"org_kind": "alien"}, reg.UNKNOWN_KIND),
    ({"purpose": "profit"}, reg.UNKNOWN_PURPOSE),
    ({"innovation_type": "magic"}, reg.UNKNOWN_INNOVATION),
    ({"year": "20x5"}, reg.UNKNOWN_YEAR),
    ({"year": "1800"}, reg.UNKNOWN_YEAR),
    ({"status": "declined"}, reg.UNKNOWN_STATUS),  # real status, but never public
    ({"sort": "random()"}, reg.UNKNOWN_SORT),
    ({"min_amount": "abc"}, NOT_MONEY),
    ({"min_amount": "1e999"}, "under £1 billion"),
    ({"max_amount": "12.345"}, "2 decimal places"),
    ({"max_amount": "-5"}, "£0 or more"),
    ({"min_amount": "NaN"}, NOT_MONEY),
    ({"min_amount": "500", "max_amount": "100"}, reg.AMOUNT_RANGE_BACKWARDS),
    ({"q": "x" * 10_000}, reg.SEARCH_TOO_LONG),
    ({"recipient": "y" * 500}, reg.RECIPIENT_TOO_LONG),
    ({"q": "frail\x00ty"}, "Null characters are not allowed"),
]


@pytest.mark.parametrize(("params", "message"), BAD_VALUES, ids=[str(p)[:60] for p, _ in BAD_VALUES])
def test_bad_filter_values_give_a_message_next_to_the_field_and_the_rest_still_work(client, scene, params, message):
    response = client.get(URL, {**params, "fund": params.get("fund", "adoption-fund")})
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert "nhsuk-error-summary" in body
    assert "nhsuk-error-message" in body
    assert response.context["form"].errors
    assert "<title>Error: " in body
    # The filters that could be used still apply (here: the fund, unless it was the bad one).
    expected = refs(*scene.published) if "fund" in params else refs(scene.a1, scene.a2)
    assert set(references(response)) == expected
    assert Award.objects.count() == len(scene.published) + len(scene.hidden)


def test_unknown_parameters_are_ignored(client, scene):
    response = client.get(URL, {"colour": "blue", "fund__slug": "x", "page_size": "9999999"})
    assert response.status_code == 200
    assert set(references(response)) == refs(*scene.published)


@pytest.mark.parametrize(("page", "message"), [
    ("abc", views_register.PAGE_NOT_A_NUMBER), ("-1", views_register.PAGE_NOT_A_NUMBER),
    ("0", views_register.PAGE_NOT_A_NUMBER), ("99999999999999999999", "There is no page 99999999999999999999"),
    ("2", "There is no page 2. Showing page 1, the last page."), ("1.5", views_register.PAGE_NOT_A_NUMBER),
])
def test_page_numbers_out_of_range_show_a_real_page_and_say_so(client, scene, page, message):
    response = client.get(URL, {"page": page})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert set(references(response)) == refs(*scene.published)


def test_sql_in_the_search_box_is_just_words(client, scene):
    for text in ["'; DROP TABLE awards_award; --", "\" OR 1=1 --", "monitoring' OR '1'='1", "%_%", "\\", "!!! & | :* <->"]:
        response = client.get(URL, {"q": text})
        assert response.status_code == 200
    assert Award.objects.count() == len(scene.published) + len(scene.hidden)
    assert references(client.get(URL, {"q": "%"})) == []


def test_html_in_the_search_box_is_shown_as_text(client, scene):
    response = client.get(URL, {"q": '<script>alert("x")</script>'})
    assert response.status_code == 200
    body = response.content.decode()
    assert '<script>alert("x")</script>' not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body


def test_an_empty_register_says_so(client, db):
    response = client.get(URL)
    assert response.status_code == 200
    assert "No awards have been published yet" in response.content.decode()


# Speed: the page's queries do not grow with the number of awards -----------------------------


def _queries(client, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL, params or {}).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("params", [{}, {"q": "frailty"}, {"fund": "adoption-fund", "region": "E40000006", "min_amount": "1000"}])
def test_the_number_of_queries_is_the_same_for_3_or_30_awards(client, scene, params):
    before = _queries(client, params)
    for index in range(27):
        award = published_award(call=scene.call_a, recipient=scene.trust, title=f"Frailty service {index}")
        profile_and_pay(award, {award.years[0]: Decimal("10.00")})
    assert _queries(client, params) == before
    assert before <= 11  # one of them is the public version the caching headers are made from


# The navigation and the footer point at the register ------------------------------------


def test_the_register_is_in_the_menu_for_signed_in_people(client, scene):
    from tests.factories.governance import MembershipFactory

    client.force_login(MembershipFactory(organisation=scene.trust).user)
    body = client.get(reverse("dashboard")).content.decode()
    assert 'href="/register/"' in body
