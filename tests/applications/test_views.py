"""The bid pages: bad input gets a clear message next to the field and changes nothing; what
people type is shown as text; lists, exports, dashboards and the call section."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape

from applications import checks, services
from applications.models import (
    Bid,
    BidCost,
    BidSection,
    BidSectionState,
    BidStatus,
    ProjectedSaving,
)
from applications.sections import SECTION_PAGES
from governance.extensions import sections_for_call
from governance.models import AuditEvent, CallStatus, PartnerKind
from governance.money import NEGATIVE, NOT_MONEY, TOO_LARGE
from tests.applications.conftest import fill_bid, start_bid, version
from tests.factories.governance import CallFactory

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("x")</script><b>bold</b>'


def body(response) -> str:
    return response.content.decode()


def error_next_to(html: str, field_id: str, message: str) -> bool:
    """The message is in the error shown with the field (NHS.UK error message markup)."""
    marker = f'<span class="nhsuk-error-message" id="{field_id}-error">'
    return marker in html and escape(message) in html.split(marker, 1)[1][:500]


@pytest.fixture
def applicant_client(client, world):
    client.force_login(world.applicant)
    return client


def section_url(bid, section):
    return f"/bids/{bid.pk}/sections/{section}/"


def costs_post(version_, rows, match=()):
    data = {"version": str(version_), "costs-TOTAL_FORMS": str(len(rows)), "costs-INITIAL_FORMS": "0",
            "match-TOTAL_FORMS": str(len(match)), "match-INITIAL_FORMS": "0"}
    for index, row in enumerate(rows):
        data.update({f"costs-{index}-{key}": value for key, value in row.items()})
    for index, row in enumerate(match):
        data.update({f"match-{index}-{key}": value for key, value in row.items()})
    return data


@pytest.fixture
def dated(world, draft):
    services.bid_summary_save(actor=world.applicant, bid=draft, version=0, title="T", summary="S", problem="P",
                              start_date=dt.date(2027, 4, 1), end_date=dt.date(2029, 3, 31))
    return draft


# Starting a bid -----------------------------------------------------------------------------------


def test_starting_a_bid_through_the_page(applicant_client, world):
    response = applicant_client.post(f"/bids/start/{world.call.slug}/", {"organisation": world.lead.pk, "title": "Hub"})
    bid = Bid.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/bids/{bid.pk}/"
    page = body(applicant_client.get(response["Location"]))
    assert "You have completed 0 of 10 sections" in page
    assert 'class="nhsuk-task-list"' in page


def test_an_ineligible_lead_organisation_is_named_with_the_reason(client, world):
    client.force_login(world.gp_member)
    page = body(client.get(f"/bids/start/{world.call.slug}/"))
    reason = "Example Surgery is a GP practice"
    assert reason in page
    response = client.post(f"/bids/start/{world.call.slug}/", {"organisation": world.gp.pk, "title": "GP bid"})
    assert error_next_to(body(response), "id_organisation", reason)
    assert not Bid.objects.exists()


def test_a_user_of_no_organisation_is_told_and_cannot_start_a_bid(client, world):
    client.force_login(world.nobody)
    assert "not linked to an organisation" in body(client.get(f"/bids/start/{world.call.slug}/"))
    response = client.post(f"/bids/start/{world.call.slug}/", {"organisation": world.lead.pk, "title": "Mine"})
    assert services.NO_ORGANISATION in body(response)
    assert "<title>Error: " in body(response)
    assert not Bid.objects.exists()


def test_a_closed_call_says_so_and_a_draft_call_does_not_exist(applicant_client, world):
    closed = CallFactory(fund=world.call.fund, opens_at=timezone.now() - dt.timedelta(days=30),
                         closes_at=timezone.now() - dt.timedelta(seconds=1))
    page = body(applicant_client.get(f"/bids/start/{closed.slug}/"))
    assert "You cannot start a bid" in page
    assert "This call closed on" in page
    response = applicant_client.post(f"/bids/start/{closed.slug}/", {"organisation": world.lead.pk, "title": "Late"})
    assert "This call closed on" in body(response)
    draft_call = CallFactory(fund=world.call.fund, status=CallStatus.DRAFT)
    assert applicant_client.get(f"/bids/start/{draft_call.slug}/").status_code == 404
    assert applicant_client.post(f"/bids/start/{draft_call.slug}/", {"organisation": world.lead.pk,
                                                                     "title": "x"}).status_code == 404
    assert not Bid.objects.exists()


# Sections: bad input -----------------------------------------------------------------------------------


def test_costs_over_the_maximum_are_refused_with_the_message_by_the_costs(applicant_client, world, dated):
    response = applicant_client.post(section_url(dated, "costs"), costs_post(0, [
        {"financial_year": "2027", "category": "staff", "nature": "revenue", "amount": "300000"},
        {"financial_year": "2028", "category": "staff", "nature": "revenue", "amount": "£250,000"},
    ]))
    page = body(response)
    assert response.status_code == 200
    assert "<title>Error: " in page
    message = checks.TOTAL_ABOVE_MAXIMUM.format(total="£550,000", maximum="£500,000")
    assert f'<a href="#main-errors">{escape(message)}</a>' in page
    assert 'id="main-errors"' in page
    assert not BidCost.objects.exists()
    assert version(dated, BidSection.COSTS) == 0


@pytest.mark.parametrize(("amount", "message"), [
    ("-5000", NEGATIVE), ("ten pounds", NOT_MONEY), ("1000000000", TOO_LARGE), ("999999999999", TOO_LARGE),
])
def test_bad_amounts_get_their_message_next_to_the_amount(applicant_client, dated, amount, message):
    response = applicant_client.post(section_url(dated, "costs"), costs_post(0, [
        {"financial_year": "2027", "category": "staff", "nature": "revenue", "amount": amount},
    ]))
    assert error_next_to(body(response), "id_costs-0-amount", message)
    assert not BidCost.objects.exists()


def test_a_cost_year_outside_the_project_is_refused_next_to_the_year(applicant_client, dated):
    response = applicant_client.post(section_url(dated, "costs"), costs_post(0, [
        {"financial_year": "2031", "category": "staff", "nature": "revenue", "amount": "20000"},
    ]))
    assert error_next_to(body(response), "id_costs-0-financial_year",
                         "Choose a financial year within the project, 2027/28 to 2028/29")
    assert not BidCost.objects.exists()


def test_savings_years_outside_the_project_are_refused_next_to_the_year(applicant_client, world, dated):
    data = {"version": "0", "savings-TOTAL_FORMS": "1", "savings-INITIAL_FORMS": "0",
            "savings-0-financial_year": "2026", "savings-0-kind": "cashable", "savings-0-realised_by": world.lead.pk,
            "savings-0-care_setting": "secondary", "savings-0-amount": "1000", "savings-0-assumptions": "Fewer"}
    response = applicant_client.post(section_url(dated, "savings"), data)
    assert error_next_to(body(response), "id_savings-0-financial_year",
                         "Choose a financial year within the project, 2027/28 to 2028/29")
    assert not ProjectedSaving.objects.exists()


def test_a_project_longer_than_the_call_allows_is_refused_next_to_the_end_date(applicant_client, draft):
    response = applicant_client.post(section_url(draft, "summary"), {
        "version": "0", "title": "T", "start_date_day": "1", "start_date_month": "4", "start_date_year": "2027",
        "end_date_day": "30", "end_date_month": "4", "end_date_year": "2030"})
    assert error_next_to(body(response), "id_end_date", "The project can last up to 3 years")
    draft.refresh_from_db()
    assert draft.end_date is None


def test_a_save_over_a_colleagues_newer_save_shows_the_conflict_and_keeps_their_text(client, world, draft):
    opened = version(draft, BidSection.SUMMARY)
    services.bid_summary_save(actor=world.colleague, bid=draft, version=opened, title="Colleague's title")
    client.force_login(world.applicant)
    response = client.post(section_url(draft, "summary"), {"version": str(opened), "title": "My title"})
    assert response.status_code == 409
    page = body(response)
    assert "Someone else has changed this section" in page
    assert "Casey Colleague saved this section on" in page
    assert 'value="My title"' in page  # what they typed is still in the form
    draft.refresh_from_db()
    assert draft.title == "Colleague's title"


def test_editing_a_submitted_bid_is_refused(applicant_client, world, ready):
    services.bid_submit(actor=world.applicant, bid=ready, declarations_confirmed=True)
    response = applicant_client.post(section_url(ready, "summary"), {"version": "1", "title": "Changed"}, follow=True)
    assert services.BID_LOCKED.format(status="submitted") in body(response)
    ready.refresh_from_db()
    assert ready.title == "Remote monitoring for frailty"
    assert applicant_client.post(f"/bids/{ready.pk}/partners/add/{world.other_org.pk}/",
                                 {"role": "academic", "contribution": "x"}).status_code == 302
    assert ready.partners.count() == 1


def test_html_and_script_in_every_text_field_are_shown_as_text(client, world, ready):
    services.bid_summary_save(actor=world.applicant, bid=ready, version=version(ready, BidSection.SUMMARY),
                              title=SCRIPT, summary=SCRIPT, problem=SCRIPT, start_date=ready.start_date,
                              end_date=ready.end_date)
    services.bid_partner_add(actor=world.applicant, bid=ready, organisation=world.other_org, role="academic",
                             contribution=SCRIPT)
    services.bid_submit(actor=world.applicant, bid=ready, declarations_confirmed=True)
    services.bid_mark_ineligible(actor=world.manager, bid=ready, reason=SCRIPT)
    for user, path in ((world.applicant, f"/bids/{ready.pk}/"), (world.manager, f"/bids/{ready.pk}/"),
                       (world.manager, f"/bids/calls/{world.call.slug}/"), (world.applicant, "/bids/"),
                       (world.applicant, "/dashboard/")):
        client.force_login(user)
        page = body(client.get(path))
        assert "<script>alert" not in page, path
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in page, path


# Check your answers and submit ---------------------------------------------------------------------------


def test_the_check_page_lists_each_problem_linked_to_its_section(applicant_client, world, draft):
    page = body(applicant_client.get(f"/bids/{draft.pk}/check/"))
    assert "The bid cannot be submitted yet" in page
    assert f'<a href="/bids/{draft.pk}/sections/costs/">{escape(checks.COSTS_MISSING)}</a>' in page
    not_saved = checks.SECTION_NOT_SAVED.format(section="attachments")
    assert f'<a href="/bids/{draft.pk}/sections/attachments/">{not_saved}</a>' in page
    required = checks.PARTNER_KIND_MISSING.format(role="commissioner")
    assert f'<a href="/bids/{draft.pk}/sections/partners/">{required}</a>' in page
    assert "Submit the bid" not in page


def test_submitting_shows_the_reference_and_a_second_submit_changes_nothing(applicant_client, world, ready, mailoutbox,
                                                                             django_capture_on_commit_callbacks):
    declarations = {"declarations": ["accurate", "authority", "partners", "conflicts"]}
    with django_capture_on_commit_callbacks(execute=True):
        response = applicant_client.post(f"/bids/{ready.pk}/check/", declarations)
    assert response["Location"] == f"/bids/{ready.pk}/submitted/"
    page = body(applicant_client.get(response["Location"]))
    assert f'<strong id="bid-reference">{ready.reference}</strong>' in page
    # The second tab posts again: it is shown the same confirmation, and nothing more happens.
    again = applicant_client.post(f"/bids/{ready.pk}/check/", declarations)
    assert again["Location"] == f"/bids/{ready.pk}/submitted/"
    assert AuditEvent.objects.filter(action="bid.submitted").count() == 1
    assert len(mailoutbox) == 2  # the receipt, and the fund manager's "bid received"
    assert Bid.objects.get(pk=ready.pk).status == BidStatus.SUBMITTED


def test_submitting_without_every_declaration_says_so(applicant_client, ready):
    response = applicant_client.post(f"/bids/{ready.pk}/check/", {"declarations": ["accurate"]})
    assert error_next_to(body(response), "id_declarations", services.DECLARATIONS_NEEDED)
    assert Bid.objects.get(pk=ready.pk).status == BidStatus.DRAFT


def test_a_submission_one_second_after_closing_is_refused(applicant_client, world, ready):
    world.call.closes_at = timezone.now() - dt.timedelta(seconds=1)
    world.call.save()
    response = applicant_client.post(f"/bids/{ready.pk}/check/", {"declarations": ["accurate", "authority", "partners",
                                                                                   "conflicts"]}, follow=True)
    assert "the bid can no longer be changed" in body(response)
    assert Bid.objects.get(pk=ready.pk).status == BidStatus.DRAFT


# Fund managers ------------------------------------------------------------------------------------------


def test_fund_managers_filter_count_and_export_the_bids_safely(client, world):
    formula = '=cmd|" /C calc"!A0'
    first = fill_bid(world, start_bid(world, formula))
    services.bid_submit(actor=world.applicant, bid=first, declarations_confirmed=True)
    start_bid(world, "+SUM(1,2)")
    client.force_login(world.manager)
    page = body(client.get(f"/bids/calls/{world.call.slug}/"))
    assert "Bids by state (2 in all)" in page
    assert "2 bids" in page
    filtered = body(client.get(f"/bids/calls/{world.call.slug}/?status=submitted"))
    assert "1 bid<" in filtered
    export = client.get(f"/bids/calls/{world.call.slug}/export.csv?status=submitted")
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Title"] == "'" + formula
    assert row["Amount asked for (£)"] == "100000.00"
    assert row["Projected return"] == "1.85"
    everything = list(csv.reader(io.StringIO(client.get(f"/bids/calls/{world.call.slug}/export.csv").content.decode())))
    assert {r[1] for r in everything[1:]} == {"'" + formula, "'+SUM(1,2)"}


def test_the_call_section_counts_bids_by_state_for_its_managers_only(rf, world, ready):
    request = rf.get("/")
    request.user = world.manager
    panels = sections_for_call(request, world.call)
    assert [panel.title for panel in panels] == ["Bids"]
    assert ("Draft", 1) in panels[0].context["counts"]
    html = render_to_string(panels[0].template, {"panel": panels[0]})
    assert "1 bid on this call." in html
    assert f'href="/bids/calls/{world.call.slug}/"' in html
    request.user = world.applicant
    assert sections_for_call(request, world.call) == []


# Dashboards -----------------------------------------------------------------------------------------------


def test_applicants_see_their_bids_with_deadlines_and_commissioners_what_awaits_them(client, world, draft):
    services.bid_partners_save(actor=world.applicant, bid=draft, version=0, commissioner=world.icb)
    services.bid_endorsement_request(actor=world.applicant, bid=draft)
    other = services.bid_start(actor=world.other_applicant, call=world.call, organisation=world.other_org,
                               title="Someone else's bid")
    client.force_login(world.applicant)
    page = body(client.get("/dashboard/"))
    assert "Your organisations&#x27; bids" in page
    assert draft.title in page
    assert "Deadline: " in page
    assert other.title not in page
    client.force_login(world.commissioner)
    page = body(client.get("/dashboard/"))
    assert "Bids waiting for your endorsement" in page
    assert f'href="/bids/{draft.pk}/endorsement/"' in page
    client.force_login(world.other_commissioner)
    assert draft.title not in body(client.get("/dashboard/"))


def test_the_savings_page_shows_the_total_and_return_worked_out_on_the_server(applicant_client, ready):
    page = body(applicant_client.get(section_url(ready, "savings")))
    assert 'data-cost-pence="10000000"' in page
    assert '<strong data-return>1.85</strong>' in page
    assert '<strong data-total="saving">£185,000</strong>' in page
    assert "bid-totals.mjs" in page


def test_endorsing_through_the_page(client, world, draft):
    services.bid_partners_save(actor=world.applicant, bid=draft, version=0, commissioner=world.icb)
    services.bid_endorsement_request(actor=world.applicant, bid=draft)
    client.force_login(world.commissioner)
    response = client.post(f"/bids/{draft.pk}/endorsement/", {"decision": "decline", "comment": ""})
    assert error_next_to(body(response), "id_comment", services.DECLINE_NEEDS_COMMENT)
    response = client.post(f"/bids/{draft.pk}/endorsement/", {"decision": "endorse", "comment": "Good"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.endorsement_status == "endorsed"
    assert draft.endorsement_comment == "Good"



def test_saving_a_section_without_changing_its_rows_keeps_them(applicant_client, world, ready):
    page = body(applicant_client.get(section_url(ready, "costs")))
    assert 'name="costs-INITIAL_FORMS" value="2"' in page
    data = {"version": str(version(ready, BidSection.COSTS)), "costs-TOTAL_FORMS": "3", "costs-INITIAL_FORMS": "2",
            "match-TOTAL_FORMS": "1", "match-INITIAL_FORMS": "0"}
    for index, row in enumerate(BidCost.objects.filter(bid=ready).order_by("financial_year")):
        data.update({f"costs-{index}-financial_year": str(row.financial_year), f"costs-{index}-category": row.category,
                     f"costs-{index}-nature": row.nature, f"costs-{index}-description": row.description,
                     f"costs-{index}-amount": str(row.amount)})
    response = applicant_client.post(section_url(ready, "costs"), data)
    assert response.status_code == 302
    assert BidCost.objects.filter(bid=ready).count() == 2
    # Ticking "remove" on a saved row removes it, and only it.
    data.update({"version": str(version(ready, BidSection.COSTS)), "costs-1-DELETE": "on", "costs-0-amount": "90000"})
    assert applicant_client.post(section_url(ready, "costs"), data).status_code == 302
    assert list(BidCost.objects.filter(bid=ready).values_list("amount", flat=True)) == [Decimal("90000.00")]


def test_opening_section_pages_writes_no_section_state_and_the_first_save_does(applicant_client, world, draft):
    # A bid whose section rows are missing (like one made before rows were created with the bid).
    BidSectionState.objects.filter(bid=draft).delete()
    services.bid_partner_add(actor=world.applicant, bid=draft, organisation=world.other_org,
                             role=PartnerKind.SECONDARY_CARE, contribution="Beds")
    BidSectionState.objects.filter(bid=draft).delete()
    partner = draft.partners.get()
    pages = [section_url(draft, section) for section in (*SECTION_PAGES, BidSection.ATTACHMENTS)]
    pages += [f"/bids/{draft.pk}/", f"/bids/{draft.pk}/partners/{partner.pk}/"]
    for page in pages:
        assert applicant_client.get(page).status_code == 200, page
    assert BidSectionState.objects.filter(bid=draft).count() == 0
    response = applicant_client.post(section_url(draft, BidSection.PATHWAY), {
        "version": "0", "care_settings": ["primary"], "pathway_description": "GP practices refer patients"})
    assert response.status_code == 302
    assert version(draft, BidSection.PATHWAY) == 1
    assert BidSectionState.objects.filter(bid=draft).count() == 1


def test_with_the_broker_down_endorsing_and_submitting_answer_normally_and_email_once_it_is_back(
        client, world, ready, draft, broker, django_capture_on_commit_callbacks, mailoutbox):
    from governance.models import Notification, OutboxMessage, OutboxStatus
    from governance.outbox import outbox_dispatch_due

    services.bid_partners_save(actor=world.applicant, bid=draft, version=0, commissioner=world.icb)
    services.bid_endorsement_request(actor=world.applicant, bid=draft)
    before = set(Notification.objects.values_list("pk", flat=True))
    mailoutbox.clear()
    broker.down()
    client.force_login(world.commissioner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/bids/{draft.pk}/endorsement/", {"decision": "endorse", "comment": "Good"},
                               follow=True)
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.endorsement_status == "endorsed"
    client.force_login(world.applicant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/bids/{ready.pk}/check/",
                               {"declarations": ["accurate", "authority", "partners", "conflicts"]}, follow=True)
    assert response.status_code == 200
    assert f'<strong id="bid-reference">{ready.reference}</strong>' in body(response)
    new = Notification.objects.exclude(pk__in=before)
    assert new.count() >= 2
    assert not new.filter(emailed_at__isnull=False).exists()
    assert mailoutbox == []
    waiting = OutboxMessage.objects.filter(status=OutboxStatus.WAITING, attempts=1)  # offered once, refused
    assert sorted(m.args[0] for m in waiting) == sorted(new.values_list("pk", flat=True))
    # The broker is back (a worker runs the tasks) and the beat comes round: each email goes once.
    broker.eager()
    outbox_dispatch_due(now=timezone.now() + dt.timedelta(hours=1))
    assert not new.filter(emailed_at__isnull=True).exists()
    sent = [(m.to, m.subject) for m in mailoutbox]
    for notification in new.select_related("user"):
        assert sent.count(([notification.user.email], notification.subject)) == 1
    assert outbox_dispatch_due(now=timezone.now() + dt.timedelta(hours=2)) == []
