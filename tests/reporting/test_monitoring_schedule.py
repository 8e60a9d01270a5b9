"""The schedule of returns: periods on NHS quarters, the final return, due dates, the instalment
each return releases, and variations moving dates (unsubmitted returns follow, submitted and
approved ones are kept). Generation is idempotent."""

import datetime as dt
from decimal import Decimal

import pytest

from awards import services as award_services
from awards.models import AwardStatus, VariationKind
from awards.selectors import award_profile
from governance import fy
from governance.models import AuditEvent
from reporting.models import MonitoringReturn, ReturnStatus
from reporting.monitoring import services
from reporting.monitoring.selectors import due_date_for, instalment_key_after, return_periods
from tests.awards.conftest import make_world
from tests.factories.awards import AwardFactory
from tests.reporting.conftest import extend_fund, start_award, submitted

D = dt.date


# The periods ------------------------------------------------------------------------------------


def test_quarterly_periods_are_the_nhs_quarters_cut_to_the_award_dates():
    periods = return_periods(D(2026, 5, 15), D(2027, 5, 31), 3)
    assert periods == [
        (D(2026, 5, 15), D(2026, 6, 30)),  # starts mid-quarter: the first period is cut
        (D(2026, 7, 1), D(2026, 9, 30)),
        (D(2026, 10, 1), D(2026, 12, 31)),
        (D(2027, 1, 1), D(2027, 3, 31)),  # the financial year ends on 31 March
        (D(2027, 4, 1), D(2027, 5, 31)),  # ends mid-quarter: the last (final) period is cut
    ]


def test_an_award_on_quarter_boundaries_has_whole_quarters():
    periods = return_periods(D(2026, 4, 1), D(2028, 3, 31), 3)
    assert len(periods) == 8
    assert periods[0] == (D(2026, 4, 1), D(2026, 6, 30))
    assert periods[-1] == (D(2028, 1, 1), D(2028, 3, 31))
    assert all(end + dt.timedelta(days=1) == start for (_, end), (start, _) in zip(periods, periods[1:], strict=False))


@pytest.mark.parametrize(("months", "expected"), [
    (6, [(D(2026, 4, 1), D(2026, 9, 30)), (D(2026, 10, 1), D(2027, 3, 31))]),
    (12, [(D(2026, 4, 1), D(2027, 3, 31))]),
    (1, [(D(2026, 4, 1), D(2026, 4, 30)), (D(2026, 5, 1), D(2026, 5, 31))]),
    # A frequency that does not divide the year restarts each April: never across a financial year.
    (5, [(D(2026, 4, 1), D(2026, 8, 31)), (D(2026, 9, 1), D(2027, 1, 31)), (D(2027, 2, 1), D(2027, 3, 31))]),
])
def test_other_frequencies_count_from_each_april(months, expected):
    end = expected[-1][1]
    assert return_periods(D(2026, 4, 1), end, months) == expected


def test_the_instalment_a_return_releases_is_the_next_quarters():
    assert instalment_key_after(D(2026, 6, 30)) == (2026, 2)
    assert instalment_key_after(D(2027, 3, 31)) == (2027, 1)
    # A final period ending mid-quarter releases the quarter after the one it ends in.
    assert instalment_key_after(D(2026, 7, 31)) == (2026, 3)


def test_due_dates_follow_the_settings(settings):
    settings.MONITORING_RETURN_DUE_DAYS = 20
    settings.MONITORING_FINAL_RETURN_DUE_DAYS = 45
    assert due_date_for(D(2026, 6, 30), is_final=False) == D(2026, 7, 20)
    assert due_date_for(D(2026, 6, 30), is_final=True) == D(2026, 8, 14)


# Generating returns ------------------------------------------------------------------------------


def test_an_active_award_gets_a_return_per_quarter_and_a_final_one(mw):
    award = mw.award
    returns = mw.returns()
    assert [(r.period_start, r.period_end) for r in returns] == return_periods(award.start_date, award.end_date, 3)
    assert len(returns) == 8
    assert [r.is_final for r in returns] == [False] * 7 + [True]
    assert all(r.status == ReturnStatus.UPCOMING for r in returns)
    assert returns[0].due_date == returns[0].period_end + dt.timedelta(days=30)
    assert returns[-1].due_date == award.end_date + dt.timedelta(days=60)


def test_each_return_is_linked_to_the_next_quarters_instalment(mw):
    instalments = list(mw.award.instalments.order_by("financial_year", "quarter"))
    returns = mw.returns()
    # The first instalment needs no return; each later one waits on the previous quarter's return.
    assert not instalments[0].requires_return
    assert [r.instalment_id for r in returns[:-1]] == [i.pk for i in instalments[1:]]
    assert returns[-1].instalment is None
    assert all(i.requires_return for i in instalments[1:])


def test_generation_is_idempotent(mw):
    before = list(MonitoringReturn.objects.values_list("pk", "period_start", "period_end", "due_date", "instalment_id"))
    events = AuditEvent.objects.filter(action="returns.scheduled").count()
    assert services.return_schedule_sync(award=mw.award) == {"created": 0, "moved": 0, "removed": 0}
    assert list(MonitoringReturn.objects.values_list("pk", "period_start", "period_end", "due_date", "instalment_id")) == before
    assert AuditEvent.objects.filter(action="returns.scheduled").count() == events == 1


def test_the_first_schedule_is_audited_as_the_portal(mw):
    event = AuditEvent.objects.get(action="returns.scheduled")
    assert event.actor is None
    assert event.after == {"created": 8, "moved": 0, "removed": 0}
    assert event.fund == mw.fund


@pytest.mark.parametrize("status", [AwardStatus.OFFERED, AwardStatus.ACCEPTED, AwardStatus.CLOSED, AwardStatus.WITHDRAWN])
def test_awards_that_are_not_running_get_no_schedule(db, status):
    award = AwardFactory(status=status)
    assert services.return_schedule_sync(award=award) == {"created": 0, "moved": 0, "removed": 0}
    assert not award.returns.exists()


def test_a_suspended_award_keeps_its_schedule(db):
    award = AwardFactory(status=AwardStatus.SUSPENDED, start_date=D(2026, 4, 1), end_date=D(2027, 3, 31))
    assert services.return_schedule_sync(award=award)["created"] == 4


# Variations moving dates ---------------------------------------------------------------------------


def _extend(mw, months: int):
    award = mw.award
    new_end = (award.end_date + dt.timedelta(days=1)).replace(day=1)
    for _ in range(months):
        new_end = (new_end + dt.timedelta(days=32)).replace(day=1)
    new_end -= dt.timedelta(days=1)
    profile = award_profile(award)
    new_year = fy.FinancialYear.of(new_end).start_year
    if new_year not in profile:  # move some money into the added year, so its quarters have instalments
        last = max(profile)
        profile = {**profile, last: profile[last] - Decimal("10000.00"), new_year: Decimal("10000.00")}
    variation = award_services.variation_request(
        actor=mw.member, award=award, kind=VariationKind.EXTENSION, reasons="Recruitment took longer.",
        proposed_end_date=new_end, proposed_profile={str(y): str(a) for y, a in profile.items()},
    )
    award_services.variation_approve(actor=mw.manager, variation=variation)
    mw.award.refresh_from_db()
    return new_end


def test_an_extension_moves_the_final_return_and_adds_returns(mw):
    old_final = mw.returns()[-1]
    new_end = _extend(mw, 3)
    changes = services.return_schedule_sync(award=mw.award)
    assert changes == {"created": 1, "moved": 1, "removed": 0}
    returns = mw.returns()
    assert len(returns) == 9
    old_final.refresh_from_db()
    assert not old_final.is_final  # the old last quarter is an ordinary return now
    assert old_final.due_date == old_final.period_end + dt.timedelta(days=30)
    assert returns[-1].is_final
    assert returns[-1].period_end == new_end
    assert returns[-1].due_date == new_end + dt.timedelta(days=60)
    # The old final return now releases the instalment of the added quarter.
    assert old_final.instalment is not None
    assert (old_final.instalment.financial_year, old_final.instalment.quarter) == instalment_key_after(old_final.period_end)


def test_an_extension_mid_quarter_stretches_the_unsubmitted_last_period(db):
    world = make_world()
    extend_fund(world)
    award = start_award(world, quarters_back=1, years=1)
    award.end_date -= dt.timedelta(days=45)  # ends mid-quarter, as if issued so
    award.save(update_fields=["end_date"])
    services.return_schedule_sync(award=award)
    last = award.returns.order_by("period_start").last()
    assert last.period_end == award.end_date
    assert last.is_final
    award.end_date += dt.timedelta(days=45)  # a variation extends it to the quarter's end
    award.save(update_fields=["end_date"])
    assert services.return_schedule_sync(award=award) == {"created": 0, "moved": 1, "removed": 0}
    last.refresh_from_db()
    assert last.period_end == award.end_date
    assert last.is_final


def test_submitted_and_approved_returns_are_kept_when_dates_move(mw):
    first = mw.ended()[0]
    services.return_open(return_id=first.pk)
    approved = submitted(mw, first)
    services.return_approve(actor=mw.manager, monitoring_return=approved)
    waiting = submitted(mw)
    kept = {r.pk: (r.period_start, r.period_end, r.due_date, r.is_final, r.instalment_id)
            for r in MonitoringReturn.objects.filter(pk__in=[approved.pk, waiting.pk])}
    # The return frequency changes to six-monthly: the schedule realigns around the kept returns.
    mw.award.return_frequency_months = 6
    mw.award.save(update_fields=["return_frequency_months"])
    changes = services.return_schedule_sync(award=mw.award)
    assert changes["removed"] > 0
    after = {r.pk: (r.period_start, r.period_end, r.due_date, r.is_final, r.instalment_id)
             for r in MonitoringReturn.objects.filter(pk__in=[approved.pk, waiting.pk])}
    assert after == kept
    # Every day of the award is covered by exactly one return, and none overlap.
    returns = mw.returns()
    assert returns[0].period_start == mw.award.start_date
    assert returns[-1].period_end == mw.award.end_date
    for before, after_ in zip(returns, returns[1:], strict=False):
        assert before.period_end + dt.timedelta(days=1) == after_.period_start
    assert returns[-1].is_final


def test_an_open_return_whose_period_now_runs_on_goes_back_to_upcoming(db):
    """An award ending 5 July: its final return (1 to 5 July) opens on the 6th. A variation then
    extends the award to December: that return now covers July to September, so it is not due yet."""
    award = AwardFactory(start_date=D(2026, 4, 1), end_date=D(2026, 7, 5))
    today = D(2026, 7, 10)
    services.return_schedule_sync(award=award, today=today)
    last = award.returns.order_by("period_start").last()
    assert (last.period_start, last.period_end, last.is_final) == (D(2026, 7, 1), D(2026, 7, 5), True)
    assert services.return_open(return_id=last.pk, today=today)
    award.end_date = D(2026, 12, 31)
    award.save(update_fields=["end_date"])
    assert services.return_schedule_sync(award=award, today=today) == {"created": 1, "moved": 1, "removed": 0}
    last.refresh_from_db()
    assert (last.period_end, last.is_final, last.status, last.opened_at) == (D(2026, 9, 30), False, ReturnStatus.UPCOMING, None)
    assert last.due_date == D(2026, 10, 30)


def test_reprofiling_keeps_the_dates_and_links(mw):
    before = list(MonitoringReturn.objects.values_list("pk", "period_start", "period_end", "due_date", "instalment_id"))
    profile = award_profile(mw.award)
    years = sorted(profile)
    moved = {**profile, years[-1]: profile[years[-1]] + Decimal("1000.00"), years[-2]: profile[years[-2]] - Decimal("1000.00")}
    variation = award_services.variation_request(actor=mw.member, award=mw.award, kind=VariationKind.REPROFILE,
                                                 reasons="Costs move.", proposed_profile={str(y): str(a) for y, a in moved.items()})
    award_services.variation_approve(actor=mw.manager, variation=variation)
    assert services.return_schedule_sync(award=mw.award) == {"created": 0, "moved": 0, "removed": 0}
    assert list(MonitoringReturn.objects.values_list("pk", "period_start", "period_end", "due_date", "instalment_id")) == before
