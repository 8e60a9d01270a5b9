"""Demo monitoring returns over several quarters, made through the monitoring services so every
submission and review has its audit event and notifications, then dated back to when they would
have happened.

Consistent with the awards demo: an award's schedule comes from ``_sync`` (its dates and
instalments); a return whose instalment the awards demo already paid is approved; the latest
return of each award ends in the state below; the beat's work then opens and chases what is left.
Idempotent: awards that already have a submitted return are left alone, and reminders go once.
(An award's schedule may already exist: the awards stage's signals sync it when the award changes.)

Leaves ``ctx.extra["returns"]``: award key -> its returns, in period order.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from applications.models import CareSetting, CostCategory, SavingKind
from awards.models import Award, InstalmentStatus
from governance import fy
from governance.demo import DemoContext

from .models import RAG, MilestoneProgress, MonitoringReturn, ReturnStatus
from .monitoring import services
from .monitoring.selectors import period_profile

# award key -> status of its latest past return (earlier ones are approved)
# Awards start on quarter days three quarters (six for the closed one) before today's quarter, so
# every award has at least two past returns whatever the date.
LATEST = {
    "falls-devon": ReturnStatus.OPEN,  # the demo applicant's return to file, section by section
    "falls-plymouth": ReturnStatus.RETURNED,
    "cvd-barts": ReturnStatus.SUBMITTED,
    "cvd-newcastle": ReturnStatus.OPEN,  # left unsubmitted past its due date: overdue
    "outpatients-devon": ReturnStatus.APPROVED,  # the final return of a closed award
}
# Awards whose unsubmitted returns include one past its due date, early in a quarter too.
OVERDUE = {"cvd-newcastle"}
# Awards whose next return has a draft started ahead of its period's end.
DRAFT_AHEAD = {"falls-devon"}
SENT_BACK = "Spend is more than 10% over the profile: explain the variance and the plan to recover it."
PAID = (InstalmentStatus.RELEASED, InstalmentStatus.PAID)


@transaction.atomic
def seed(ctx: DemoContext) -> None:
    returns: dict[str, list[MonitoringReturn]] = {}
    for key, latest in LATEST.items():
        award = ctx.extra["awards"][key]
        if not award.returns.filter(submitted_at__isnull=False).exists():
            _seed_award(ctx, key, award, latest)
        returns[key] = list(award.returns.order_by("period_start"))
    # The beat's work: open the returns whose period has ended and send the reminders due today.
    result = services.monitoring_run(today=ctx.today)
    for return_id, kind in result["reminders"]:
        services.return_reminder_send(return_id=return_id, kind=kind, today=ctx.today)
    ctx.extra["returns"] = returns
    _seed_reports(ctx)


def _seed_award(ctx: DemoContext, key: str, award: Award, latest: str) -> None:
    award = Award.objects.select_for_update().get(pk=award.pk)
    services._sync(award, today=ctx.today)  # also closed awards: their returns were made while they ran
    grantee, manager = award.accepted_by, award.issued_by
    if grantee is None:
        raise ValueError(f"{award.reference}: only accepted awards have returns to seed")
    schedule = list(award.returns.select_related("instalment").order_by("period_start"))
    past = [ret for ret in schedule if ret.period_end < ctx.today]
    left_open = set()
    if latest == ReturnStatus.OPEN and past:
        left_open.add(past[-1].pk)
        not_overdue_yet = past[-1].due_date >= ctx.today
        if key in OVERDUE and not_overdue_yet and len(past) > 1 and not (past[-2].instalment and past[-2].instalment.status in PAID):
            left_open.add(past[-2].pk)  # so the demo always has an overdue return
    for index, ret in enumerate(past):
        if ret.pk in left_open:
            continue
        status = latest if index == len(past) - 1 else ReturnStatus.APPROVED
        _fill(ctx, ret, grantee, number=index + 1, total=len(schedule), over_profile=status == ReturnStatus.RETURNED)
        services.return_submit(actor=grantee, monitoring_return=ret, today=ctx.today)
        if status == ReturnStatus.RETURNED:
            services.return_send_back(actor=manager, monitoring_return=ret, comments=SENT_BACK)
        elif status == ReturnStatus.APPROVED:
            services.return_approve(actor=manager, monitoring_return=ret, comments="Approved. Thank you.")
        submitted = ctx.at(0) - dt.timedelta(days=(ctx.today - ret.period_end).days - 20)
        reviewed = submitted + dt.timedelta(days=5) if status != ReturnStatus.SUBMITTED else None
        MonitoringReturn.objects.filter(pk=ret.pk).update(
            opened_at=submitted - dt.timedelta(days=19), submitted_at=submitted,
            reviewed_at=reviewed if status in (ReturnStatus.APPROVED, ReturnStatus.RETURNED) else None,
        )
    if key in DRAFT_AHEAD:
        upcoming = next((ret for ret in schedule if ret.period_end >= ctx.today), None)
        if upcoming is not None:
            _draft(upcoming, grantee)


def _fill(ctx: DemoContext, ret: MonitoringReturn, grantee, *, number: int, total: int, over_profile: bool) -> None:
    """Every section of a return, through the services (each at version 0)."""
    ret = MonitoringReturn.objects.select_related("award__bid", "award__recipient").get(pk=ret.pk)
    award, bid = ret.award, ret.award.bid
    profile = period_profile(ret)
    factor = Decimal("1.15") if over_profile else Decimal("0.95")
    spend = {CostCategory.STAFF: Decimal("0.7"), CostCategory.DIGITAL_LICENCES: Decimal("0.2"),
             CostCategory.EVALUATION: Decimal("0.1")}
    services.return_spend_save(
        actor=grantee, monitoring_return=ret, version=0,
        amounts={category: (profile * share * factor).quantize(Decimal("0.01")) for category, share in spend.items()},
        explanation="Agency staff covered two vacancies while we recruited." if over_profile else "",
    )
    commissioner = bid.commissioner or award.recipient
    base = profile if profile > 0 else Decimal("10000")
    services.return_savings_save(actor=grantee, monitoring_return=ret, version=0, lines=[
        services.SavingLine(SavingKind.CASHABLE, award.recipient, CareSetting.SECONDARY,
                            (base * Decimal("0.6") * number).quantize(Decimal("0.01")),
                            "Admissions avoided at the national average cost."),
        services.SavingLine(SavingKind.NON_CASHABLE, commissioner, CareSetting.COMMUNITY,
                            (base * Decimal("0.3") * number).quantize(Decimal("0.01")), "Community nursing hours released."),
    ])
    progress = Decimal(number) / Decimal(total)
    services.return_benefits_save(actor=grantee, monitoring_return=ret, version=0, actuals={
        measure.pk: ((measure.baseline + (measure.target - measure.baseline) * progress * Decimal("0.9")).quantize(Decimal("0.01")), "")
        for measure in bid.benefit_measures.all()
    })
    services.return_adoption_save(actor=grantee, monitoring_return=ret, version=0, organisations=1 + number,
                                  sites=2 * number, patients=120 * number,
                                  notes="Two more community teams now use the model.")
    updates = []
    for milestone in bid.milestones.all():
        if milestone.due_date <= ret.period_end:
            updates.append(services.MilestoneUpdate(milestone.pk, MilestoneProgress.DONE))
        elif over_profile:
            updates.append(services.MilestoneUpdate(milestone.pk, MilestoneProgress.SLIPPED,
                                                    milestone.due_date + dt.timedelta(days=60), "Recruitment delays."))
        else:
            updates.append(services.MilestoneUpdate(milestone.pk, MilestoneProgress.ON_TRACK))
    services.return_milestones_save(actor=grantee, monitoring_return=ret, version=0, updates=updates,
                                    summary="Service live in the first site." if number == 1 else "All milestones to date met.")
    services.return_risks_save(actor=grantee, monitoring_return=ret, version=0,
                               risks="Recruitment of specialist nurses remains the main risk; bank staff cover the gap.")
    services.return_reinvestment_save(actor=grantee, monitoring_return=ret, version=0, lines=[] if number == 1 else [
        services.ReinvestmentLine((base * Decimal("0.2")).quantize(Decimal("0.01")),
                                  "Extra falls prevention classes in community hubs", commissioner),
    ])
    amber = over_profile
    services.return_rag_save(actor=grantee, monitoring_return=ret, version=0, rag=RAG.AMBER if amber else RAG.GREEN,
                             reason="Recruitment is behind plan." if amber else "On track against the plan.")
    services.return_narrative_save(
        actor=grantee, monitoring_return=ret, version=0,
        narrative="The service is running as planned and patients report high satisfaction.",
        lessons_learned=("Start recruitment before the award begins; involve community pharmacists from the first "
                         "month; agree the evaluation measures with the commissioner at the start.") if ret.is_final else "",
    )
    if ret.is_final:
        services.return_sustainability_save(actor=grantee, monitoring_return=ret, version=0, will_be_sustained=True,
                                            funded_by=f"{commissioner.name}, from its recurrent community services budget",
                                            notes="The service moves into the ICB's community contract.")


def _draft(ret: MonitoringReturn, grantee) -> None:
    """A return filled in part, ahead of its period's end."""
    services.return_adoption_save(actor=grantee, monitoring_return=ret, version=0, organisations=3, sites=5,
                                  patients=410, notes="A fourth practice has asked to join.")
    services.return_risks_save(actor=grantee, monitoring_return=ret, version=0,
                               risks="Winter pressures may delay the second site's training.")


# Impact reports ------------------------------------------------------------------------------
DEMO_REPORT_FUND = "south-west-adoption-fund"
DEMO_REPORT_TITLE = "South West Innovation Adoption Fund: impact so far"


def _seed_reports(ctx: DemoContext) -> None:
    """One published impact report, requested, built and published through the services (so
    the audit trail has each step). Built synchronously on the eager task path, whatever the
    broker settings. Idempotent: found by title."""
    from .impact import services as impact_services
    from .impact.tasks import build_impact_report
    from .models import ImpactReport

    fund = ctx.funds[DEMO_REPORT_FUND]
    if ImpactReport.objects.filter(fund=fund, title=DEMO_REPORT_TITLE).exists():
        return
    manager = ctx.users["manager.southwest@example.com"]
    first, last = fy.FinancialYear(ctx.this_year - 1), fy.FinancialYear(ctx.this_year)
    version = impact_services.impact_report_request(
        actor=manager, fund=fund, period_start=first.start, period_end=last.end, title=DEMO_REPORT_TITLE,
        enqueue=False,
    )
    build_impact_report.apply(args=(version.pk,))
    version.refresh_from_db()
    if version.status != "ready":
        raise RuntimeError(f"The demo impact report did not build: {version.error}")
    impact_services.report_version_publish(actor=manager, version=version)
