"""A two-stage call from expression of interest to award, with a question answered in public and a
clarification in assessment.

Given a two-stage call taking expressions of interest, when an applicant sends one (a blank form
is refused next to each field), the stage closes and the fund manager invites it (and declines a
rival's, with its feedback), then the applicant starts the full bid with their answers carried
forward and submits it, and a question they ask on the call page is answered on it in public,
without their name. When an assessor asks the applicant a question, their score sheet waits
for it; when the applicant replies with a file and makes a PDF of their bid, the assessor reads
the reply and scores; the chair decides and the fund manager awards. Factories and services set
up what is not the point; every new page passes the accessibility check.
"""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from applications import services as bid_services
from applications.models import Bid, BidStatus, EoiStatus, ExpressionOfInterest
from assessment import services as assessment_services
from assessment.models import Clarification
from awards import services as award_services
from awards.models import AwardStatus
from awards.selectors import suggested_profile, years_for
from governance.models import CallStatus
from tests.applications.conftest import PDF_BYTES, fill_bid
from tests.assessment.conftest import make_world
from tests.e2e.conftest import check_accessibility

pytestmark = pytest.mark.django_db(transaction=True)


def _as(page, sign_in, user):
    page.context.clear_cookies()
    sign_in(user)


def _move(call, **fields):
    for name, value in fields.items():
        setattr(call, name, value)
    call.save()


def test_a_two_stage_call_runs_from_expression_of_interest_to_award(page, live_server, sign_in, tmp_path):
    # Given a two-stage call whose expressions of interest are open now
    world = make_world(bids=0, assessors_per_bid=1)
    call, now, base = world.call, timezone.now(), live_server.url
    _move(call, status=CallStatus.SCHEDULED, eoi_stage=True, eoi_opens_at=now - dt.timedelta(days=1),
          eoi_closes_at=now + dt.timedelta(days=2), opens_at=now + dt.timedelta(days=3),
          closes_at=now + dt.timedelta(days=30), eoi_criteria="Ideas with a clear problem and a commissioner.")

    # When the applicant reads the call's page, it shows both stages
    sign_in(world.applicant)
    page.goto(base + call.get_absolute_url())
    expect(page.locator("main")).to_contain_text("Stage 1: expressions of interest close")
    check_accessibility(page)
    page.get_by_role("link", name="Send an expression of interest").click()
    # A blank expression of interest is refused next to each field
    page.get_by_role("button", name="Send the expression of interest").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator("#id_summary-error")).to_contain_text("Summarise your idea")
    check_accessibility(page)
    page.get_by_label("Title of your idea").fill("Virtual ward for frailty")
    page.get_by_label("Summary of the idea").fill("A virtual ward run with the ICB.")
    page.get_by_label("The problem it solves").fill("Too many avoidable admissions.")
    page.get_by_label("Estimated cost").fill("200000")
    page.get_by_role("button", name="Send the expression of interest").click()
    expect(page.locator("h1")).to_have_text("Virtual ward for frailty")
    expect(page.locator("main")).to_contain_text("Waiting for shortlisting")
    check_accessibility(page)
    rival = bid_services.eoi_submit(actor=world.other_applicant, call=call, organisation=world.other_org,
                                    title="Rival idea", summary="S", problem="P", estimated_cost="90000")

    # When the stage closes and full bids open, the fund manager shortlists
    now = timezone.now()
    _move(call, status=CallStatus.OPEN, eoi_opens_at=now - dt.timedelta(days=5), eoi_closes_at=now - dt.timedelta(hours=1),
          opens_at=now - dt.timedelta(hours=1), questions_close_at=now + dt.timedelta(days=2))
    _as(page, sign_in, world.manager)
    page.goto(f"{base}/bids/calls/{call.slug}/expressions-of-interest/")
    expect(page.locator("main")).to_contain_text("2 received")
    check_accessibility(page)
    page.get_by_role("link", name="Decide on Rival idea").click()
    page.get_by_label("Do not invite").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator("#id_reason-error")).to_contain_text("the organisation reads it as feedback")
    check_accessibility(page)
    page.get_by_label("Reason").fill("No commissioner support yet.")
    page.get_by_role("button", name="Record the decision").click()
    page.get_by_role("link", name="Decide on Virtual ward for frailty").click()
    page.get_by_label("Invite to write a full bid").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator("main")).to_contain_text("1 invited to bid · 1 not invited")
    rival.refresh_from_db()
    assert rival.status == EoiStatus.NOT_INVITED

    # Then the invited applicant starts the full bid with their answers carried forward, and submits it
    _as(page, sign_in, world.applicant)
    eoi = ExpressionOfInterest.objects.get(lead_organisation=world.lead)
    page.goto(base + eoi.get_absolute_url())
    page.get_by_role("link", name="Start the full bid").click()
    page.get_by_label("Title of the bid").fill("Virtual ward for frailty")
    page.get_by_role("button", name="Start the bid").click()
    expect(page.locator("#from-eoi")).to_contain_text("£200,000")
    check_accessibility(page)
    bid = fill_bid(world, Bid.objects.get(call=call), endorse=False)
    page.goto(f"{base}/bids/{bid.pk}/check/")
    for checkbox in page.locator("input[name=declarations]").all():
        checkbox.check()
    page.get_by_role("button", name="Submit the bid").click()
    expect(page.locator("main")).to_contain_text(bid.reference)
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED

    # And a question the applicant asks on the call page is answered in public, without their name
    page.goto(base + call.get_absolute_url())
    page.get_by_role("link", name="Ask a question about this call").click()
    page.fill("#id_question", "May the ambulance trust be our only partner?")
    page.get_by_role("button", name="Send the question").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("Your question has been sent")
    _as(page, sign_in, world.manager)
    page.goto(f"{base}/manage/calls/{call.slug}/questions/")
    page.get_by_role("link", name=re.compile("^Answer")).click()
    page.fill("#id_answer", "Yes, if the commissioner endorses the bid.")
    page.get_by_role("button", name="Publish the answer").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("published on the call page")
    page.context.clear_cookies()
    page.goto(base + call.get_absolute_url())
    answered = page.locator("#questions ~ dl").first
    expect(answered).to_contain_text("May the ambulance trust be our only partner?")
    expect(answered).to_contain_text("Yes, if the commissioner endorses the bid.")
    expect(page.locator("main")).not_to_contain_text(world.applicant.full_name)
    check_accessibility(page)

    # When the call closes, assessment starts and the assessor is assigned (set up by the services)
    _move(call, closes_at=timezone.now() - dt.timedelta(minutes=1), status=CallStatus.CLOSED)
    assessment_services.call_assessment_start(actor=world.manager, call=call)
    assignment = assessment_services.assignment_create(actor=world.manager, bid=bid, assessor=world.assessor)
    assessment_services.conflict_declare(actor=world.assessor, assignment=assignment, has_conflict=False)

    # And the assessor asks the applicant a question from the score sheet
    _as(page, sign_in, world.assessor)
    page.goto(f"{base}/assessment/assignments/{assignment.pk}/sheet/")
    page.get_by_role("link", name="Ask the applicant a question").click()
    page.get_by_role("button", name="Send the question").click()
    expect(page.locator("#id_question-error")).to_contain_text("Write the question")
    check_accessibility(page)
    reply_by = timezone.localdate() + dt.timedelta(days=7)
    page.get_by_label("Your question for the applicant").fill("How many patients a year will the ward see?")
    page.get_by_label("Day").fill(str(reply_by.day))
    page.get_by_label("Month").fill(str(reply_by.month))
    page.get_by_label("Year").fill(str(reply_by.year))
    page.get_by_role("button", name="Send the question").click()
    # Then the score sheet is waiting for the clarification
    expect(page.locator("#clarification-state")).to_contain_text("Waiting for a clarification")
    check_accessibility(page)

    # When the applicant replies on their bid, with a file, and makes a PDF of the bid
    _as(page, sign_in, world.applicant)
    page.goto(f"{base}/bids/{bid.pk}/")
    expect(page.locator("main")).to_contain_text("How many patients a year will the ward see?")
    check_accessibility(page)
    page.get_by_role("button", name=re.compile("Reply to the question")).click()
    page.get_by_label("Your reply").fill("About 400 a year, from the frailty register.")
    pdf_file = tmp_path / "figures.pdf"
    pdf_file.write_bytes(PDF_BYTES)
    page.get_by_label("Add a file (optional)").set_input_files(str(pdf_file))
    check_accessibility(page)
    page.get_by_role("button", name="Send the reply").click()
    expect(page.locator("main")).to_contain_text("About 400 a year")
    page.get_by_role("button", name="Make a PDF of the bid").click()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the bid as a PDF")).click()
    saved = tmp_path / "bid.pdf"
    download.value.save_as(saved)
    reader = PdfReader(saved)
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    assert bid.reference in " ".join(p.extract_text() for p in reader.pages)
    assert Clarification.objects.get().replied_by == world.applicant

    # Then the assessor reads the reply beside the scores, and submits them
    _as(page, sign_in, world.assessor)
    page.goto(f"{base}/assessment/assignments/{assignment.pk}/sheet/")
    expect(page.locator("main")).to_contain_text("About 400 a year")
    expect(page.locator("#clarification-state")).to_have_count(0)
    for criterion in world.criteria:
        page.locator(f"#id_score_{criterion.pk}_{3 - criterion.scale_min}").check()
        page.locator(f"#id_comment_{criterion.pk}").fill("Clear, and the reply settles the numbers.")
    page.get_by_role("button", name="Submit your scores").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"Your scores on {bid.reference} are submitted")

    # And the chair decides, the fund manager releases and awards (through the services)
    decision = assessment_services.decision_record(
        actor=world.chair, bid=bid, outcome="fund", public_reason="A strong case with the ICB behind it.",
        amount_approved=Decimal("100000.00"))
    assessment_services.decisions_release(actor=world.manager, call=call)
    decision.refresh_from_db()
    bid.refresh_from_db()
    award = award_services.award_issue(
        actor=world.manager, decision=decision, amount=decision.amount_approved, start_date=bid.start_date,
        end_date=bid.end_date, offer_deadline=timezone.localdate() + dt.timedelta(days=28), conditions=None,
        profile=suggested_profile(bid, decision.amount_approved, years_for(bid.start_date, bid.end_date, world.fund)))
    assert award.status == AwardStatus.OFFERED
    _as(page, sign_in, world.applicant)
    page.goto(base + award.get_absolute_url())
    expect(page.locator("h1")).to_have_text(bid.title)
