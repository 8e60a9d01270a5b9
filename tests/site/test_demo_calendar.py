"""The demo works on any day: seeded with the clock moved to today, months and years ahead,
both sides of a financial year's and a quarter's end and on a 29 February, every promise of
the README's "What to try" still holds, checked through the services the pages call.

The days are worked out from the real date when the suite runs (not the suite's pinned clock),
so the test travels further each year the portal lives, as its users will.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from applications import services as bid_services
from applications.models import Bid, BidStatus
from assessment import selectors as assessment_selectors, services as assessment_services
from assessment.models import AssignmentStatus, SheetStatus
from awards import services as award_services
from awards.models import Award, AwardStatus, OfferLetter
from governance import fy
from governance.demo import DemoContext
from governance.models import Call, CallStatus, Fund, User
from governance.selectors import money_available_to_call
from reporting.demo import _fill
from reporting.impact import services as impact_services
from reporting.impact.tasks import build_impact_report
from reporting.models import MonitoringReturn, ReturnStatus
from reporting.monitoring import services as monitoring_services
from reporting.register.selectors import published_awards

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def _next(month: int, day: int, after: dt.date) -> dt.date:
    """The first ``day`` of ``month`` after ``after`` (a 29 February waits for a leap year)."""
    year = after.year
    while True:
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            candidate = None
        if candidate and candidate > after:
            return candidate
        year += 1


def _days() -> list[tuple[str, dt.date]]:
    # The real date: the rest of the suite runs on a pinned clock (tests/conftest.py).
    today = time_machine.escape_hatch.datetime.datetime.now(LONDON).date()
    year_end = _next(3, 31, today)
    quarter_end = _next(12, 31, today)
    return [
        ("today", today),
        ("in 3 months", today + dt.timedelta(days=91)),
        ("in 13 months", today + dt.timedelta(days=396)),
        ("in 37 months", today + dt.timedelta(days=1126)),
        ("31 March, the financial year's last day", year_end),
        ("1 April, the financial year's first day", year_end + dt.timedelta(days=1)),
        ("31 December, a quarter's last day", quarter_end),
        ("1 January, a quarter's first day", quarter_end + dt.timedelta(days=1)),
        ("29 February", _next(2, 29, today)),
    ]


DAYS = _days()


@pytest.mark.parametrize("day", [day for _, day in DAYS], ids=[label for label, _ in DAYS])
def test_every_promise_of_the_demo_holds_on(day):
    with time_machine.travel(dt.datetime.combine(day, dt.time(11, 0), tzinfo=LONDON), tick=True):
        assert timezone.localdate() == day
        call_command("seed_demo", verbosity=0)
        _no_past_year_is_money_available(day)
        _the_ready_draft_can_be_submitted()
        _the_assessor_can_declare_and_score()
        _the_chair_can_moderate_a_flagged_spread()
        _an_offer_can_be_accepted()
        _a_return_can_be_filed_and_approved()
        _an_impact_report_can_be_requested()
        _the_register_shows_awards(day)


def _user(email: str) -> User:
    return User.objects.get(email=email)


def _no_past_year_is_money_available(day: dt.date) -> None:
    this_year = fy.FinancialYear.of(day).start_year
    for fund in Fund.objects.all():
        # The funds run across the current year, with their history before it.
        assert fund.first_year < this_year < fund.last_year
    for call in Call.objects.filter(status__in=[CallStatus.OPEN, CallStatus.SCHEDULED]):
        table = money_available_to_call(call)
        assert table.years[0] == this_year, call.slug
        assert all(cell.remaining > 0 for cell in table.totals.cells), call.slug


def _the_ready_draft_can_be_submitted() -> None:
    applicant = _user("applicant.devon@example.com")
    bid = Bid.objects.get(title="Digital falls risk assessment in community nursing")
    assert bid.status == BidStatus.DRAFT
    bid = bid_services.bid_submit(actor=applicant, bid=bid, declarations_confirmed=True)
    assert bid.status == BidStatus.SUBMITTED


def _the_assessor_can_declare_and_score() -> None:
    assessor = _user("assessor@example.com")
    waiting = [item.assignment for item in assessment_selectors.assessor_queue(assessor)
               if item.assignment.status == AssignmentStatus.AWAITING_DECLARATION]
    assert waiting
    assignment = waiting[0]
    assessment_services.conflict_declare(actor=assessor, assignment=assignment, has_conflict=False)
    criteria = assignment.bid.call.criteria.all()
    sheet = assessment_services.score_sheet_submit(
        actor=assessor, assignment=assignment,
        scores={criterion.pk: (3, "Meets the criterion with clear evidence.") for criterion in criteria},
    )
    assert sheet.status == SheetStatus.SUBMITTED


def _the_chair_can_moderate_a_flagged_spread() -> None:
    chair = _user("chair@example.com")
    call = Call.objects.get(slug="virtual-wards-adoption")
    chaired = assessment_selectors.bids_chaired_by(chair, call, list(call.bids.all()))
    flagged = [row for row in assessment_selectors.call_ranking(call).all_rows
               if row.needs_moderation and row.bid.pk in chaired]
    assert flagged
    row = flagged[0]
    spec = row.result.needing_moderation[0].criterion
    moderation = assessment_services.moderation_record(
        actor=chair, bid=row.bid, criterion=call.criteria.get(pk=spec.id), score=Decimal("2"),
        rationale="The panel agreed the evidence supports a score of 2.",
    )
    assert moderation.pk


def _an_offer_can_be_accepted() -> None:
    signatory = _user("applicant.devon@example.com")
    offer = Award.objects.filter(status=AwardStatus.OFFERED, recipient__memberships__user=signatory).first()
    assert offer is not None
    letter = OfferLetter.objects.filter(award=offer).order_by("-version").first()
    award_services.offer_letter_generate(letter_id=letter.pk)
    assert award_services.award_accept(actor=signatory, award=offer).status == AwardStatus.ACCEPTED


def _a_return_can_be_filed_and_approved() -> None:
    grantee = _user("applicant.devon@example.com")
    manager = _user("manager.southwest@example.com")
    ret = (MonitoringReturn.objects.filter(status=ReturnStatus.OPEN, award__recipient__memberships__user=grantee)
           .order_by("period_start").first())
    assert ret is not None, "the demo applicant has a return to file"
    total = ret.award.returns.count()
    number = ret.award.returns.filter(period_start__lte=ret.period_start).count()
    _fill(DemoContext(), ret, grantee, number=number, total=total, over_profile=False)
    ret = monitoring_services.return_submit(actor=grantee, monitoring_return=ret)
    assert ret.status == ReturnStatus.SUBMITTED
    monitoring_services.return_approve(actor=manager, monitoring_return=ret, comments="Approved.")
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.APPROVED


def _an_impact_report_can_be_requested() -> None:
    manager = _user("manager.southwest@example.com")
    fund = Fund.objects.get(slug="south-west-adoption-fund")
    year = fy.FinancialYear.of(timezone.localdate())
    version = impact_services.impact_report_request(
        actor=manager, fund=fund, period_start=fy.FinancialYear(year.start_year - 1).start, period_end=year.end,
        title="Impact on the calendar", enqueue=False,
    )
    build_impact_report.apply(args=[version.pk])
    version.refresh_from_db()
    assert version.status == "ready", version.error


def _the_register_shows_awards(day: dt.date) -> None:
    awards = published_awards()
    assert awards.count() >= 5
    assert awards.filter(start_date__lte=day).exists()
    assert awards.filter(start_date__gt=day).exists()
    page = Client().get(reverse("reporting:register"))
    assert page.status_code == 200
    assert awards.first().reference in page.content.decode()
