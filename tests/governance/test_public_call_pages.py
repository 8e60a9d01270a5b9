"""The public call list and call pages: what anyone can read, and that drafts never show."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from governance import extensions, services
from governance.models import AllocationModel, CallPurpose, CallStatus
from tests.factories.governance import (
    CallFactory,
    DraftCallFactory,
    FundFactory,
    NetworkFactory,
    PotFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def calls(world):
    """One call in each public phase, and a draft."""
    london_fund = FundFactory(host_network=world.partner, allocation_model=AllocationModel.NATIONAL)
    result = {
        "open": CallFactory(fund=world.fund, host_network=world.host, title="Open frailty call", slug="open-call",
                            pots=[world.host_pot]),
        "upcoming": CallFactory(fund=london_fund, title="Upcoming London call", slug="upcoming-call",
                                status=CallStatus.SCHEDULED, purpose=CallPurpose.PUMP_PRIMING,
                                opens_at=NOW + dt.timedelta(days=3), closes_at=NOW + dt.timedelta(days=30)),
        "closed": CallFactory(fund=world.fund, title="Assessing call", slug="assessing-call", status=CallStatus.ASSESSMENT,
                              opens_at=NOW - dt.timedelta(days=90), closes_at=NOW - dt.timedelta(days=30),
                              pots=[world.host_pot]),
        "late": CallFactory(fund=world.fund, title="Past its closing time", slug="late-call", status=CallStatus.OPEN,
                            opens_at=NOW - dt.timedelta(days=60), closes_at=NOW - dt.timedelta(minutes=1),
                            pots=[world.host_pot]),
        "decided": CallFactory(fund=world.fund, title="Decided call", slug="decided-call", status=CallStatus.DECIDED,
                               opens_at=NOW - dt.timedelta(days=300), closes_at=NOW - dt.timedelta(days=200),
                               pots=[world.host_pot]),
    }
    return result


def _titles(response):
    return [call.title for call in response.context["page"].object_list]


def test_the_call_list_shows_open_then_upcoming_then_closed_calls_and_never_drafts(client, world, calls):
    response = client.get(reverse("governance:calls"))
    assert response.status_code == 200
    assert _titles(response) == ["Open frailty call", "Upcoming London call", "Past its closing time",
                                 "Assessing call", "Decided call"]
    assert "Draft call" not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "open"}, ["Open frailty call"]),
        ({"status": "upcoming"}, ["Upcoming London call"]),
        ({"status": "closed"}, ["Past its closing time", "Assessing call"]),
        ({"status": "decided"}, ["Decided call"]),
        ({"purpose": CallPurpose.PUMP_PRIMING}, ["Upcoming London call"]),
        ({"purpose": CallPurpose.ADOPTION, "status": "open"}, ["Open frailty call"]),
    ],
)
def test_the_call_list_filters_work_from_the_query_string(client, calls, query, expected):
    response = client.get(reverse("governance:calls"), query)
    assert _titles(response) == expected
    assert "Clear filters" in response.content.decode()


def test_the_network_filter_finds_calls_hosted_by_it_or_with_a_pot_for_it(client, world, calls):
    joint = CallFactory(fund=world.fund, host_network=world.host, title="Joint call", slug="joint-call",
                        pots=[world.host_pot, world.partner_pot])
    response = client.get(reverse("governance:calls"), {"network": world.partner.pk})
    assert _titles(response) == ["Joint call", "Upcoming London call"]
    assert joint.pk in [c.pk for c in response.context["page"].object_list]


def test_an_unknown_filter_value_shows_every_call_and_a_message(client, calls):
    response = client.get(reverse("governance:calls"), {"status": "nonsense"})
    assert response.status_code == 200
    assert len(_titles(response)) == 5
    assert response.context["filter"].errors["status"]


def test_a_draft_call_page_is_never_public(client, world):
    assert client.get(reverse("governance:call_public", args=[world.call.slug])).status_code == 404
    assert client.get(reverse("governance:call_public", args=["no-such-call"])).status_code == 404


def test_the_public_call_page_shows_everything_a_bidder_needs(client, world):
    call = world.call
    call.normalise_scores = True
    call.save()
    criterion = call.criteria.get(kind="patient_benefit")
    criterion.gateway_min_score = 2
    criterion.save()
    services.call_publish(actor=world.people.manager, call=call)
    response = client.get(reverse("governance:call_public", args=[call.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        call.title, call.summary, "Adoption of proven innovation", "NHS foundation trust", "£10,000 to £500,000",
        "3 years", "2026/27", "£1,000,000", "Cost saving", "50%", "Score 4 for Patient benefit",
        "How the bid shows cost saving.", "At least 2 out of 4", call.opens_at.astimezone(timezone.get_current_timezone()).strftime("%Y"),
        "Opening soon", "How scores become decisions", "z-scores", "differ by more than 2 points",
        "ranked separately for each network", "funding line falls where the pot", "rationale",
        "at least 2 out of 4 on “Patient benefit”", "scores 75",
    ]:
        assert text in html, text
    # Times carry their time zone.
    assert ("GMT" in html) or ("BST" in html)
    # Guidance for assessors stays internal.
    assert "Score patient benefit." not in html


def test_money_available_is_the_budget_not_yet_committed(client, world):
    services.call_publish(actor=world.people.manager, call=world.call)

    def source(pot_ids):
        return {(world.host_pot.pk, 2026): Decimal("250000.00")}

    extensions.register_commitment_source(source)
    try:
        response = client.get(reverse("governance:call_public", args=[world.call.slug]))
    finally:
        extensions.commitment_sources.remove(source)
    budget = response.context["budget"]
    assert [cell.remaining for cell in budget.rows[0].cells] == [Decimal("750000.00"), Decimal("1000000.00"), Decimal("1000000.00")]
    assert "£750,000" in response.content.decode()


def test_a_national_call_explains_that_all_bids_are_ranked_together(client):
    fund = FundFactory(allocation_model=AllocationModel.NATIONAL, host_network=NetworkFactory())
    call = DraftCallFactory(fund=fund, pots=[PotFactory(fund=fund)], status=CallStatus.OPEN)
    html = client.get(call.get_absolute_url()).content.decode()
    assert "all bids are ranked together" in html
    assert "z-scores" not in html  # normalisation is off for this call


def test_the_public_pages_make_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    for n in range(12):
        CallFactory(fund=world.fund, slug=f"open-{n}", pots=[world.host_pot])
    call = CallFactory(fund=world.fund, slug="with-many-criteria", pots=[world.host_pot, world.partner_pot])
    with django_assert_max_num_queries(8):
        assert client.get(reverse("governance:calls")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(call.get_absolute_url()).status_code == 200


def test_an_open_call_page_offers_to_start_a_bid_and_a_scheduled_one_does_not(client):
    open_call = CallFactory()
    body = client.get(f"/calls/{open_call.slug}/").content.decode()
    assert f'href="/bids/start/{open_call.slug}/"' in body
    scheduled = CallFactory(status="scheduled", opens_at=open_call.closes_at, closes_at=open_call.closes_at + (open_call.closes_at - open_call.opens_at))
    assert "/bids/start/" not in client.get(f"/calls/{scheduled.slug}/").content.decode()
