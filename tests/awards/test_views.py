"""Award pages: the permission matrix for every view and role, and each bad input shown next
to its field with nothing changed."""

import datetime as dt
import html as html_module
import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from awards import services
from awards.models import (
    Award,
    AwardStatus,
    DocumentStatus,
    InstalmentStatus,
    VariationKind,
    VariationStatus,
)
from awards.selectors import award_profile, pot_ledger
from governance import fy
from governance.models import AuditEvent, Notification, PotBudget
from reporting.models import ReturnStatus
from tests.awards.conftest import (
    accept,
    first_award_year,
    issue,
    letter_ready,
    pdf_upload,
)
from tests.factories.reporting import MonitoringReturnFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "signatory", "member", "outsider", "commissioner", "assessor", "chair", "manager",
         "other_manager", "auditor"]


@pytest.fixture
def scene(world):
    """An offered award with its letter made and evidence sent; an accepted award with a
    variation requested; and a decision still waiting for its award."""
    world.decision.conditions = ["DPIA completed"]
    world.decision.save()
    offered = letter_ready(issue(world))
    accepted = accept(world, issue(world, decision=world.new_decision()))
    condition = offered.conditions.get()
    services.condition_evidence_submit(actor=world.member, condition=condition, upload=pdf_upload())
    variation = services.variation_request(actor=world.member, award=accepted, kind=VariationKind.SCOPE,
                                           reasons="Two more sites", proposed_scope="Eight sites")
    return {
        "world": world, "offered": offered, "accepted": accepted, "condition": condition, "variation": variation,
        "instalment": offered.instalments.order_by("financial_year", "quarter").first(),
        "ready": world.new_decision(),
    }


def _url(name, scene):
    a, c, i, v = scene["offered"], scene["condition"], scene["instalment"], scene["variation"]
    slug = scene["world"].fund.slug
    return {
        "list": reverse("awards:list"),
        "decisions_ready": reverse("awards:decisions_ready"),
        "award_issue": reverse("awards:award_issue", args=[scene["ready"].pk]),
        "award_detail": a.get_absolute_url(),
        "offer_respond": reverse("awards:offer_respond", args=[a.reference]),
        "letter_download": reverse("awards:letter_download", args=[a.reference, 1]),
        "letter_request": reverse("awards:letter_request", args=[a.reference]),
        "condition_evidence": reverse("awards:condition_evidence", args=[a.reference, c.pk]),
        "condition_evidence_file": reverse("awards:condition_evidence_file", args=[a.reference, c.pk]),
        "condition_review": reverse("awards:condition_review", args=[a.reference, c.pk]),
        "instalment_release": reverse("awards:instalment_release", args=[a.reference, i.pk]),
        "instalment_pay": reverse("awards:instalment_pay", args=[a.reference, i.pk]),
        "award_status": reverse("awards:award_status", args=[a.reference, "withdraw"]),
        "award_return_frequency": reverse("awards:award_return_frequency", args=[a.reference]),
        "variation_request": reverse("awards:variation_request", args=[a.reference]),
        "variation_detail": reverse("awards:variation_detail", args=[scene["accepted"].reference, v.pk]),
        "fund_conditions": reverse("awards:fund_conditions", args=[slug]),
        "pot_ledger_csv": reverse("awards:pot_ledger_csv", args=[slug]),
        "payments_csv": reverse("awards:payments_csv", args=[a.reference]),
        "condition_schedule": reverse("awards:condition_schedule", args=[a.reference, c.pk]),
    }[name]


# view: (method, {role: status}, default status for the roles not named)
MATRIX = {
    "list": ("get", {}, 200),
    "decisions_ready": ("get", {"manager": 200, "other_manager": 200}, 403),
    "award_issue": ("get", {"manager": 200}, 404),
    "award_detail": ("get", {"signatory": 200, "member": 200, "manager": 200, "auditor": 200}, 404),
    "offer_respond": ("get", {"signatory": 200, "member": 403, "manager": 403, "auditor": 403}, 404),
    "letter_download": ("get", {"signatory": 200, "member": 200, "manager": 200, "auditor": 200}, 404),
    "letter_request": ("post", {"signatory": 403, "member": 403, "manager": 302, "auditor": 403}, 404),
    "condition_evidence": ("get", {"signatory": 200, "member": 200, "manager": 403, "auditor": 403}, 404),
    "condition_evidence_file": ("get", {"signatory": 200, "member": 200, "manager": 200, "auditor": 200}, 404),
    "condition_review": ("get", {"signatory": 403, "member": 403, "manager": 200, "auditor": 403}, 404),
    "instalment_release": ("post", {"signatory": 403, "member": 403, "manager": 302, "auditor": 403}, 404),
    "instalment_pay": ("post", {"signatory": 403, "member": 403, "manager": 302, "auditor": 403}, 404),
    "award_status": ("get", {"signatory": 403, "member": 403, "manager": 200, "auditor": 403}, 404),
    "award_return_frequency": ("get", {"signatory": 403, "member": 403, "manager": 200, "auditor": 403}, 404),
    "variation_request": ("get", {"signatory": 200, "member": 200, "manager": 403, "auditor": 403}, 404),
    "variation_detail": ("get", {"signatory": 200, "member": 200, "manager": 200, "auditor": 200}, 404),
    "fund_conditions": ("get", {"manager": 200, "auditor": 403}, 404),
    "pot_ledger_csv": ("get", {"manager": 200, "auditor": 200}, 403),
    "payments_csv": ("get", {"signatory": 200, "member": 200, "manager": 200, "auditor": 200}, 404),
    "condition_schedule": ("get", {"signatory": 403, "member": 403, "manager": 200, "auditor": 403}, 404),
}

FILE_VIEWS = ("letter_download", "condition_evidence_file", "pot_ledger_csv", "payments_csv")


@pytest.mark.parametrize("view", list(MATRIX))
def test_permission_matrix(client, scene, view):
    """Every role against the view; all mismatches are reported together."""
    method, expected, default = MATRIX[view]
    wrong = []
    for role in ROLES:
        status = 302 if role == "anonymous" else expected.get(role, default)
        client.logout()
        if role != "anonymous":
            client.force_login(getattr(scene["world"], role))
        response = getattr(client, method)(_url(view, scene))
        if response.status_code != status:
            wrong.append(f"{role}: {response.status_code}, expected {status}")
        elif role == "anonymous" and not response["Location"].startswith("/accounts/login/"):
            wrong.append(f"anonymous redirected to {response['Location']}")
        elif status == 200 and view not in FILE_VIEWS and b"<h1" not in response.content:
            wrong.append(f"{role}: no page heading")
    assert not wrong, f"{view}: " + "; ".join(wrong)


def test_every_award_url_is_in_the_matrix():
    from awards.urls import urlpatterns

    assert {pattern.name for pattern in urlpatterns} == set(MATRIX)


def test_an_applicant_of_another_organisation_never_sees_the_award_or_its_letters(client, scene):
    world, award = scene["world"], scene["offered"]
    client.force_login(world.outsider)
    for url in (award.get_absolute_url(), reverse("awards:letter_download", args=[award.reference, 1]),
                reverse("awards:condition_evidence_file", args=[award.reference, scene["condition"].pk])):
        response = client.get(url)
        assert response.status_code == 404
        assert award.title.encode() not in response.content
    listing = client.get(reverse("awards:list"))
    assert award.reference.encode() not in listing.content


def test_the_letter_download_is_the_pdf(client, scene):
    client.force_login(scene["world"].signatory)
    response = client.get(reverse("awards:letter_download", args=[scene["offered"].reference, 1]))
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")


# Issuing through the page ----------------------------------------------------------------------


def _issue_data(decision, **overrides):
    bid = decision.bid
    y = first_award_year()
    deadline = timezone.localdate() + dt.timedelta(days=21)
    data = {"amount": "200000", f"year_{y}": "100000", f"year_{y + 1}": "100000", "return_frequency_months": "3"}
    for name, day in (("start_date", bid.start_date), ("end_date", bid.end_date), ("offer_deadline", deadline)):
        data.update({f"{name}_day": day.day, f"{name}_month": day.month, f"{name}_year": day.year})
    data.update(overrides)
    return data


def _issue_url(decision):
    return reverse("awards:award_issue", args=[decision.pk])


def test_the_issue_form_is_pre_filled_from_the_bid(client, world):
    client.force_login(world.manager)
    response = client.get(_issue_url(world.decision))
    form = response.context["form"]
    y = first_award_year()
    assert form[f"year_{y}"].value() == "100000.00"
    assert form[f"year_{y - 1}"].value() in (None, "")
    assert form["amount"].value() == "200000.00"
    assert world.icb.name.encode() in response.content  # partners shown from the bid


def test_a_manager_issues_an_award_through_the_page(client, world, django_capture_on_commit_callbacks):
    template = services.condition_template_create(actor=world.manager, fund=world.fund, title="DTAC assessment",
                                                  description="A completed DTAC.")
    client.force_login(world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_issue_url(world.decision), _issue_data(
            world.decision, templates=[template.pk], other_conditions="Named clinical lead in post\n\n"))
    assert response.status_code == 302, response.context["form"].errors
    award = Award.objects.get()
    assert response["Location"] == award.get_absolute_url()
    assert [c.title for c in award.conditions.all()] == ["DTAC assessment", "Named clinical lead in post"]
    page = client.get(award.get_absolute_url())
    assert b"Offer letter version 1 (PDF)" in page.content


def test_the_return_frequency_is_chosen_on_the_issue_page_and_a_made_up_one_refused(client, world):
    client.force_login(world.manager)
    response = client.post(_issue_url(world.decision), _issue_data(world.decision, return_frequency_months="5"))
    assert response.status_code == 200
    assert _error_next_to(response, "id_return_frequency_months") == services.RETURN_FREQUENCY_NOT_ALLOWED
    assert not Award.objects.exists()
    response = client.post(_issue_url(world.decision), _issue_data(world.decision, return_frequency_months="6"))
    assert response.status_code == 302
    award = Award.objects.get()
    assert award.return_frequency_months == 6
    assert "Every 6 months, and a final return at the end" in client.get(award.get_absolute_url()).content.decode()


def test_the_return_frequency_changes_while_the_offer_waits_and_then_no_more(client, scene):
    world, offered, accepted = scene["world"], scene["offered"], scene["accepted"]
    client.force_login(world.manager)
    url = reverse("awards:award_return_frequency", args=[offered.reference])
    assert url in client.get(offered.get_absolute_url()).content.decode()
    bad = client.post(url, {"return_frequency_months": "7"})
    assert _error_next_to(bad, "id_return_frequency_months") == services.RETURN_FREQUENCY_NOT_ALLOWED
    assert client.post(url, {"return_frequency_months": "12"}).status_code == 302
    offered.refresh_from_db()
    assert offered.return_frequency_months == 12
    assert offered.letters.count() == 2  # the terms changed: a new letter is made
    assert AuditEvent.objects.filter(action="award.return_frequency_changed", target_id=str(offered.pk)).count() == 1
    assert Notification.objects.filter(user=world.signatory, subject=f"Offer changed: {offered.reference}").exists()
    # The signatory is not offered the first letter, whose terms are out of date, while the new one is made.
    client.force_login(world.signatory)
    respond = client.get(reverse("awards:offer_respond", args=[offered.reference])).content.decode()
    assert "The offer letter is still being made" in respond
    assert reverse("awards:letter_download", args=[offered.reference, 1]) not in respond
    assert "You can accept once the offer letter is ready to read" in respond
    refused = client.post(reverse("awards:offer_respond", args=[offered.reference]),
                          {"response": "accept", "accept-confirm": "on"})
    assert services.OFFER_LETTER_NOT_READY in html_module.unescape(refused.content.decode())
    offered.refresh_from_db()
    assert offered.status == "offered"
    client.force_login(world.manager)
    # Once accepted, the frequency is part of the terms: no link, and a typed URL changes nothing.
    accepted_url = reverse("awards:award_return_frequency", args=[accepted.reference])
    assert accepted_url not in client.get(accepted.get_absolute_url()).content.decode()
    response = client.post(accepted_url, {"return_frequency_months": "6"})
    assert "can change only while the offer waits for an answer" in html_module.unescape(response.content.decode())
    accepted.refresh_from_db()
    assert accepted.return_frequency_months == 3


def _error_next_to(response, field_id: str) -> str:
    """The text of the NHS.UK error message shown next to a field (or the profile fieldset)."""
    html = response.content.decode().replace('<span class="nhsuk-u-visually-hidden">Error: </span>', "")
    match = re.search(rf'id="{field_id}-error">(.*?)</span>', html, re.S)
    assert match, f"no error shown next to {field_id}"
    return html_module.unescape(" ".join(match.group(1).split()))


def test_a_profile_not_totalling_the_amount_is_shown_on_the_profile(client, world):
    client.force_login(world.manager)
    y = first_award_year()
    response = client.post(_issue_url(world.decision), _issue_data(world.decision, **{f"year_{y + 1}": "90000"}))
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "<title>Error: " in response.content.decode()
    message = services.PROFILE_NOT_TOTAL % {"total": "£190,000.00", "amount": "£200,000.00"}
    assert _error_next_to(response, "profile") == message
    assert not Award.objects.exists()
    assert all(row.committed == 0 for row in pot_ledger([world.pot.pk]))


def test_money_in_a_year_outside_the_dates_is_shown_next_to_that_year(client, world):
    client.force_login(world.manager)
    y = first_award_year()
    response = client.post(_issue_url(world.decision),
                           _issue_data(world.decision, **{f"year_{y - 1}": "50000", f"year_{y}": "50000"}))
    message = services.PROFILE_YEAR_OUTSIDE_DATES % {"year": fy.label(y - 1), "first": fy.label(y), "last": fy.label(y + 1)}
    assert _error_next_to(response, f"id_year_{y - 1}") == message
    assert not Award.objects.exists()


def test_an_amount_above_the_decision_is_shown_next_to_the_amount(client, world):
    client.force_login(world.manager)
    y = first_award_year()
    response = client.post(_issue_url(world.decision), _issue_data(world.decision, amount="250000", **{f"year_{y + 1}": "150000"}))
    assert _error_next_to(response, "id_amount") == services.AMOUNT_ABOVE_DECISION % {"approved": "£200,000.00"}
    assert not Award.objects.exists()


def test_issuing_again_for_a_decision_shows_the_award_already_made(client, world):
    award = issue(world)
    client.force_login(world.manager)
    response = client.post(_issue_url(world.decision), _issue_data(world.decision))
    assert response.status_code == 302
    assert response["Location"] == award.get_absolute_url()
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"An award has already been issued for this decision: {award.reference}"
    ]
    assert Award.objects.count() == 1


# Grantee and manager journeys through the pages ------------------------------------------------


def test_the_signatory_accepts_through_the_page_and_must_confirm(client, scene):
    world, award = scene["world"], scene["offered"]
    client.force_login(world.signatory)
    url = reverse("awards:offer_respond", args=[award.reference])
    response = client.post(url, {"response": "accept"})
    assert response.status_code == 200
    assert "<title>Error: " in response.content.decode()
    assert _error_next_to(response, "id_accept-confirm") == "Confirm that you are authorised to accept this offer"
    response = client.post(url, {"response": "accept", "accept-confirm": "on"})
    assert response.status_code == 302
    award.refresh_from_db()
    assert award.status == AwardStatus.ACCEPTED


def test_declining_through_the_page_needs_a_reason(client, scene):
    world, award = scene["world"], scene["offered"]
    client.force_login(world.signatory)
    url = reverse("awards:offer_respond", args=[award.reference])
    response = client.post(url, {"response": "decline", "decline-reason": ""})
    assert _error_next_to(response, "id_decline-reason") == services.DECLINE_REASON_MISSING
    award.refresh_from_db()
    assert award.status == AwardStatus.OFFERED
    client.post(url, {"response": "decline", "decline-reason": "Funded locally."})
    award.refresh_from_db()
    assert (award.status, award.status_reason) == (AwardStatus.DECLINED, "Funded locally.")


def test_evidence_of_the_wrong_type_is_shown_next_to_the_file(client, scene):
    world, award, condition = scene["world"], scene["offered"], scene["condition"]
    client.force_login(world.member)
    url = reverse("awards:condition_evidence", args=[award.reference, condition.pk])
    response = client.post(url, {"file": pdf_upload("a.pdf", b"just text, not a PDF"), "note": ""})
    assert _error_next_to(response, "id_file") == services.EVIDENCE_WRONG_TYPE
    condition.refresh_from_db()
    assert condition.evidence_note == ""


def test_paying_an_instalment_whose_return_is_not_approved_shows_why(client, world):
    award = accept(world, issue(world))
    services.award_activate(actor=world.manager, award=award)
    second = award.instalments.order_by("financial_year", "quarter")[1]
    MonitoringReturnFactory(award=award, instalment=second, status=ReturnStatus.RETURNED)
    client.force_login(world.manager)
    response = client.post(reverse("awards:instalment_release", args=[award.reference, second.pk]), follow=True)
    assert (services.RETURN_NOT_APPROVED % {"status": "sent back for changes"}).encode() in response.content
    second.refresh_from_db()
    assert second.status == InstalmentStatus.SCHEDULED
    assert all(row.paid == 0 for row in pot_ledger([world.pot.pk]))


def test_a_variation_that_would_overspend_is_shown_on_the_decision(client, world):
    y = first_award_year()
    award = accept(world, issue(world))
    PotBudget.objects.filter(pot=world.pot, financial_year=y + 1).update(amount=Decimal("110000.00"))
    variation = services.variation_request(actor=world.member, award=award, kind=VariationKind.REPROFILE,
                                           reasons="Later", proposed_profile={y: Decimal("50000"), y + 1: Decimal("150000")})
    client.force_login(world.manager)
    response = client.post(reverse("awards:variation_detail", args=[award.reference, variation.pk]), {"decision": "approve"})
    assert response.status_code == 200
    message = services.VARIATION_OVERSPENDS % {"pot": world.pot.name, "year": fy.label(y + 1), "remaining": "£10,000.00",
                                               "needed": "£50,000.00"}
    assert _error_next_to(response, "id_decision") == message
    variation.refresh_from_db()
    assert variation.status == VariationStatus.REQUESTED
    assert award_profile(award) == {y: Decimal("100000.00"), y + 1: Decimal("100000.00")}


def test_a_grantee_asks_for_a_re_profile_through_the_page(client, world):
    y = first_award_year()
    award = accept(world, issue(world))
    client.force_login(world.member)
    response = client.post(reverse("awards:variation_request", args=[award.reference]), {
        "kind": VariationKind.REPROFILE, "reasons": "Recruitment slipped.", f"year_{y}": "80000", f"year_{y + 1}": "120000",
    })
    assert response.status_code == 302
    variation = award.variations.get()
    assert variation.proposed_profile == {str(y): "80000.00", str(y + 1): "120000.00"}


def test_the_dashboard_shows_the_grantee_their_award_and_the_manager_their_to_do(client, scene):
    world, award = scene["world"], scene["offered"]
    client.force_login(world.signatory)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Your awards" in page
    assert award.reference in page
    assert "Accept or decline the offer by" in page
    client.force_login(world.manager)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Awards to act on" in page
    assert re.search(r"Decisions ready for an award</a>: 1\b", page)


def test_the_fund_page_shows_the_pot_ledger(client, scene):
    world = scene["world"]
    client.force_login(world.auditor)
    page = client.get(world.fund.get_absolute_url()).content.decode()
    assert "Pot ledger" in page
    assert 'role="img"' in page
    assert reverse("awards:pot_ledger_csv", args=[world.fund.slug]) in page


def test_a_ready_letter_shows_on_the_award_and_a_queued_one_says_so(client, scene):
    world, award = scene["world"], scene["offered"]
    award.letters.update(status=DocumentStatus.QUEUED)
    client.force_login(world.signatory)
    assert b"Offer letter version 1: <strong>queued</strong>" in client.get(award.get_absolute_url()).content


def test_when_another_manager_issues_first_the_page_shows_their_award(client, world, monkeypatch):
    real_issue = services.award_issue

    def issued_by_someone_else_first(**kwargs):
        real_issue(**{**kwargs, "actor": world.manager})  # the other manager's request wins the race
        return real_issue(**kwargs)

    monkeypatch.setattr(services, "award_issue", issued_by_someone_else_first)
    client.force_login(world.manager)
    response = client.post(_issue_url(world.decision), _issue_data(world.decision))
    award = Award.objects.get()
    assert response.status_code == 302
    assert response["Location"] == award.get_absolute_url()
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        services.ALREADY_ISSUED % {"reference": award.reference}
    ]


def test_asking_again_while_a_variation_waits_leads_to_it(client, scene):
    world, award, variation = scene["world"], scene["accepted"], scene["variation"]
    client.force_login(world.member)
    response = client.get(reverse("awards:variation_request", args=[award.reference]))
    assert response["Location"] == reverse("awards:variation_detail", args=[award.reference, variation.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [services.VARIATION_ALREADY_OPEN]


def test_with_the_broker_down_issuing_answers_and_the_letter_is_made_once_it_is_back_so_the_offer_can_be_accepted(
        client, world, broker, django_capture_on_commit_callbacks):
    from governance.models import OutboxMessage, OutboxStatus
    from governance.outbox import outbox_dispatch_due

    broker.down()
    client.force_login(world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_issue_url(world.decision), _issue_data(world.decision), follow=True)
    assert response.status_code == 200
    award = Award.objects.get()
    assert award.reference in response.content.decode()
    letter = award.letters.get()
    assert letter.status == DocumentStatus.QUEUED
    message = OutboxMessage.objects.get(task_name="awards.tasks.generate_offer_letter")
    assert (message.args, message.status) == ([letter.pk], OutboxStatus.WAITING)
    # The signatory cannot accept yet: the letter is not made.
    client.force_login(world.signatory)
    client.post(reverse("awards:offer_respond", args=[award.reference]), {"response": "accept", "accept-confirm": "on"})
    assert Award.objects.get(pk=award.pk).status == AwardStatus.OFFERED
    # The broker is back and the beat comes round: the letter is made (once), and the offer accepted.
    broker.eager()
    assert message.pk in outbox_dispatch_due(now=timezone.now() + dt.timedelta(hours=1))
    letter.refresh_from_db()
    assert letter.status == DocumentStatus.READY
    assert AuditEvent.objects.filter(action="offer_letter.ready").count() == 1
    assert message.pk not in outbox_dispatch_due(now=timezone.now() + dt.timedelta(hours=2))
    response = client.post(reverse("awards:offer_respond", args=[award.reference]),
                           {"response": "accept", "accept-confirm": "on"})
    assert response.status_code == 302
    assert Award.objects.get(pk=award.pk).status == AwardStatus.ACCEPTED


def test_the_issue_page_says_clearly_when_the_funder_has_no_official_org_id(client, world):
    network = world.fund.host_network
    network.official_org_id = ""
    network.save()
    client.force_login(world.manager)
    response = client.post(_issue_url(world.decision), _issue_data(world.decision))
    assert response.status_code == 200
    assert "has no official org-id yet" in response.content.decode()
    assert not Award.objects.exists()
