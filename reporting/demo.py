"""Demo monitoring returns over several quarters: approved, submitted, sent back, overdue and
a final return with lessons learned. Idempotent: awards that have returns are left alone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from applications.models import CareSetting, CostCategory, SavingKind
from governance import fy
from governance.demo import DemoContext

from .models import (
    RAG,
    MonitoringReturn,
    Reinvestment,
    ReminderKind,
    ReminderSent,
    ReturnMeasureActual,
    ReturnSaving,
    ReturnSpend,
    ReturnStatus,
)

DUE_AFTER_DAYS = 30

# award key -> status of its latest past-quarter return (earlier ones are approved)
LATEST = {
    "falls-devon": ReturnStatus.APPROVED,
    "falls-plymouth": ReturnStatus.RETURNED,
    "cvd-barts": ReturnStatus.SUBMITTED,
    "cvd-newcastle": ReturnStatus.OPEN,  # overdue: due date passed, not submitted
    "outpatients-devon": ReturnStatus.APPROVED,
}


@transaction.atomic
def seed(ctx: DemoContext) -> None:
    for key, latest in LATEST.items():
        award = ctx.extra["awards"][key]
        if award.returns.exists():
            continue
        periods = [
            (max(first, award.start_date), min(last, award.end_date), year, quarter)
            for year, quarter, first, last in fy.quarters_between(award.start_date, award.end_date)
        ]
        instalments = {(i.financial_year, i.quarter): i for i in award.instalments.all()}
        measures = list(award.bid.benefit_measures.all())
        past = [p for p in periods if p[1] < ctx.today]
        for index, (start, end, year, quarter) in enumerate(periods):
            is_final = index == len(periods) - 1
            due = end + dt.timedelta(days=DUE_AFTER_DAYS)
            next_quarter = periods[index + 1][2:] if index + 1 < len(periods) else None
            if end >= ctx.today:
                status = ReturnStatus.UPCOMING
            elif (start, end, year, quarter) == past[-1]:
                status = latest
            else:
                status = ReturnStatus.APPROVED
            ret = MonitoringReturn.objects.create(
                award=award, period_start=start, period_end=end, due_date=due, is_final=is_final, status=status,
                instalment=instalments.get(next_quarter) if next_quarter else None,
                opened_at=ctx.at(0) - dt.timedelta(days=(ctx.today - end).days) if status != ReturnStatus.UPCOMING else None,
            )
            if status in (ReturnStatus.UPCOMING, ReturnStatus.OPEN):
                if status == ReturnStatus.OPEN and due < ctx.today:
                    for kind in (ReminderKind.OPENED, ReminderKind.DUE_SOON, ReminderKind.OVERDUE):
                        ReminderSent.objects.create(monitoring_return=ret, kind=kind, recipients=[award.bid.created_by.email])
                continue
            _fill(ctx, ret, award, measures, index + 1, len(periods), year)
    _seed_reports(ctx)
    return None


# Impact reports ------------------------------------------------------------------------------
DEMO_REPORT_FUND = "south-west-adoption-fund"
DEMO_REPORT_TITLE = "South West Innovation Adoption Fund: impact so far"


def _seed_reports(ctx: DemoContext) -> None:
    """One published impact report, requested, built and published through the services (so
    the audit trail has each step). Built synchronously on the eager task path, whatever the
    broker settings. Idempotent: found by title."""
    from .impact import services as impact_services
    from .models import ImpactReport
    from .tasks import build_impact_report

    fund = ctx.funds[DEMO_REPORT_FUND]
    if ImpactReport.objects.filter(fund=fund, title=DEMO_REPORT_TITLE).exists():
        return
    manager = ctx.users["manager.southwest@example.com"]
    first, last = fy.FinancialYear(ctx.this_year - 1), fy.FinancialYear(ctx.this_year)
    version = impact_services.impact_report_request(
        actor=manager, fund=fund, period_start=first.start, period_end=last.end, title=DEMO_REPORT_TITLE,
        enqueue=False,
    )
    build_impact_report.apply(args=[version.pk])
    version.refresh_from_db()
    if version.status != "ready":
        raise RuntimeError(f"The demo impact report did not build: {version.error}")
    impact_services.report_version_publish(actor=manager, version=version)


def _fill(ctx, ret: MonitoringReturn, award, measures, number: int, total: int, year: int) -> None:
    progress = Decimal(number) / Decimal(total)
    profile_year = award.profile.filter(financial_year=year).first()
    quarter_budget = (profile_year.amount / 4) if profile_year else Decimal("0")
    spend_factor = Decimal("1.15") if ret.status == ReturnStatus.RETURNED else Decimal("0.95")
    ReturnSpend.objects.create(monitoring_return=ret, financial_year=year, category=CostCategory.STAFF,
                               amount=(quarter_budget * Decimal("0.7") * spend_factor).quantize(Decimal("0.01")))
    ReturnSpend.objects.create(monitoring_return=ret, financial_year=year, category=CostCategory.DIGITAL_LICENCES,
                               amount=(quarter_budget * Decimal("0.2") * spend_factor).quantize(Decimal("0.01")))
    ReturnSaving.objects.create(monitoring_return=ret, financial_year=year, kind=SavingKind.CASHABLE, realised_by=award.recipient,
                                care_setting=CareSetting.SECONDARY, amount=(quarter_budget * Decimal("0.6") * number).quantize(Decimal("0.01")),
                                note="Admissions avoided at the national average cost.")
    commissioner = award.bid.commissioner or award.recipient
    ReturnSaving.objects.create(monitoring_return=ret, financial_year=year, kind=SavingKind.NON_CASHABLE, realised_by=commissioner,
                                care_setting=CareSetting.COMMUNITY, amount=(quarter_budget * Decimal("0.3") * number).quantize(Decimal("0.01")),
                                note="Community nursing hours released.")
    for measure in measures:
        value = measure.baseline + (measure.target - measure.baseline) * progress * Decimal("0.9")
        ReturnMeasureActual.objects.create(monitoring_return=ret, measure=measure, value=value.quantize(Decimal("0.01")))
    if number > 1:
        Reinvestment.objects.create(monitoring_return=ret, amount=(quarter_budget * Decimal("0.2")).quantize(Decimal("0.01")),
                                    destination="Extra falls prevention classes in community hubs", organisation=commissioner)
    ret.rag = RAG.AMBER if ret.status == ReturnStatus.RETURNED else RAG.GREEN
    ret.rag_reason = "Recruitment is behind plan." if ret.rag == RAG.AMBER else "On track against the plan."
    ret.spend_variance_explanation = "Agency staff covered two vacancies." if ret.status == ReturnStatus.RETURNED else ""
    ret.organisations_adopting = 1 + number
    ret.sites_adopting = 2 * number
    ret.patients_reached = 120 * number
    ret.adoption_notes = "Two more community teams now use the model."
    ret.milestones_update = "Service live in the first site." if number == 1 else "All milestones to date met."
    ret.risks_update = "Recruitment remains the main risk."
    ret.narrative = "The service is running as planned and patients report high satisfaction."
    ret.submitted_by = award.bid.created_by
    ret.submitted_at = ctx.at(0) - dt.timedelta(days=(ctx.today - ret.period_end).days - 20)
    if ret.is_final:
        ret.lessons_learned = ("Start recruitment before the award begins; involve community pharmacists from the first "
                               "month; agree the evaluation measures with the commissioner at the start.")
        ret.will_be_sustained = True
        ret.sustained_funding_by = "NHS Devon ICB, from its recurrent community services budget"
    if ret.status in (ReturnStatus.APPROVED, ReturnStatus.RETURNED):
        ret.reviewed_at = ret.submitted_at + dt.timedelta(days=5)
        ret.reviewed_by = award.issued_by
        ret.review_comments = ("Spend is more than 10% over the profile: explain the variance and the plan to recover."
                               if ret.status == ReturnStatus.RETURNED else "Approved. Thank you.")
    ret.save()
