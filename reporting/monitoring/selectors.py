"""Reads for monitoring returns, scoped to what the person may see.

Who sees a return is decided in ``reporting.visibility`` (``returns_visible_to``): whoever may
see its award's private parts. Views find returns there (404 outside) and then check a rule (403).

The schedule's arithmetic lives here too (``return_periods``, ``period_profile``), because both
the services and the pages read it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    FloatField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from applications.models import BenefitMeasure, CostCategory, ProjectedSaving, SavingKind
from awards.models import Award, AwardStatus, AwardYear, Instalment
from awards.selectors import instalment_returns, spread_in_proportion
from awards.visibility import awards_visible_to
from governance import fy
from governance.models import (
    Call,
    Fund,
    Membership,
    MembershipRole,
    Organisation,
    OrganisationKind,
    Pot,
    User,
)
from governance.money import PENNY, ZERO
from governance.selectors import funds_visible_to

from ..models import (
    FINAL_ONLY_SECTIONS,
    RAG,
    MonitoringReturn,
    Reinvestment,
    ReminderKind,
    ReminderSent,
    ReturnMeasureActual,
    ReturnSaving,
    ReturnSection,
    ReturnSpend,
    ReturnStatus,
)

# Settings (override in the settings module): days after a period ends that its return is due,
# and for the final return (reminders go 14, 3 and 1 days before: DUE_WINDOWS below).
DEFAULT_DUE_DAYS = 30
DEFAULT_FINAL_DUE_DAYS = 60

# Awards whose returns are scheduled, opened and chased; and awards shown on the portfolio.
SCHEDULED_AWARD_STATUSES = (AwardStatus.ACTIVE, AwardStatus.SUSPENDED)
MONITORED_AWARD_STATUSES = (AwardStatus.ACTIVE, AwardStatus.SUSPENDED, AwardStatus.CLOSED)
# Submitted and approved returns are the grantee's word: the schedule never moves them.
KEPT_RETURN_STATUSES = (ReturnStatus.SUBMITTED, ReturnStatus.APPROVED)
WAITING_RETURN_STATUSES = (ReturnStatus.OPEN, ReturnStatus.RETURNED)


def returns_next_due_first(returns: QuerySet[MonitoringReturn]) -> QuerySet[MonitoringReturn]:
    """Returns still to be filed or reviewed first, the one due soonest (so any overdue) on top;
    approved returns after them, the latest first."""
    return returns.annotate(
        _done=Case(When(status=ReturnStatus.APPROVED, then=Value(1)), default=Value(0)),
        _pending_due=Case(When(status=ReturnStatus.APPROVED, then=Value(None)), default=F("due_date"),
                          output_field=DateField()),
        _done_due=Case(When(status=ReturnStatus.APPROVED, then=F("due_date")), default=Value(None),
                       output_field=DateField()),
    ).order_by("_done", F("_pending_due").asc(nulls_last=True), F("_done_due").desc(nulls_last=True),
               "award__reference", "pk")
VARIANCE_THRESHOLD = Decimal("0.10")


def due_days() -> int:
    return int(getattr(settings, "MONITORING_RETURN_DUE_DAYS", DEFAULT_DUE_DAYS))


def final_due_days() -> int:
    return int(getattr(settings, "MONITORING_FINAL_RETURN_DUE_DAYS", DEFAULT_FINAL_DUE_DAYS))


# Who sees what ---------------------------------------------------------------------------------


def returns_of_award(award: Award) -> QuerySet[MonitoringReturn]:
    return award.returns.select_related("instalment", "submitted_by", "reviewed_by").order_by("period_start")


def grantee_contacts(award: Award) -> list[User]:
    """Who hears about the award's returns: the bid's author and the recipient's authorised
    signatories (every member if neither is active)."""
    memberships = list(Membership.objects.filter(organisation_id=award.recipient_id).select_related("user"))
    people = {m.user for m in memberships if m.user.is_active
              and (m.is_authorised_signatory or m.user_id == award.bid.created_by_id)}
    if not people:
        people = {m.user for m in memberships if m.user.is_active}
    return sorted(people, key=lambda user: user.email)


def award_managers(award: Award) -> list[User]:
    """The fund manager who issued the award, or (if they have gone) the call's network's managers."""
    if award.issued_by.is_active:
        return [award.issued_by]
    call = award.bid.call
    networks = {call.host_network_id, call.fund.host_network_id} - {None}
    return list(User.objects.filter(
        is_active=True, memberships__organisation_id__in=networks, memberships__role=MembershipRole.FUND_MANAGER,
    ).distinct().order_by("email"))


def pathway_organisations(award: Award) -> QuerySet[Organisation]:
    """Organisations that may realise savings or receive reinvestment: the recipient, the bid's
    partners and its commissioner."""
    bid = award.bid
    ids = {award.recipient_id, *bid.partners.values_list("organisation_id", flat=True)}
    if bid.commissioner_id:
        ids.add(bid.commissioner_id)
    return Organisation.objects.filter(pk__in=ids).order_by("name")


# The schedule -----------------------------------------------------------------------------------


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def return_periods(start: dt.date, end: dt.date, months: int = 3) -> list[tuple[dt.date, dt.date]]:
    """The reporting periods of an award from ``start`` to ``end``, every ``months`` months.

    Periods are counted from each 1 April, so quarterly periods are the NHS quarters and no period
    ever crosses a financial year (a frequency that does not divide 12 leaves a shorter last
    period before April). The first and last periods are cut to the award's dates.
    """
    months = months if 1 <= (months or 0) <= 12 else 3
    periods = []
    year = fy.FinancialYear.of(start).start_year
    while fy.FinancialYear(year).start <= end:
        first_of_year, last_of_year = fy.FinancialYear(year).start, fy.FinancialYear(year).end
        offset = 0
        while offset < 12:
            first = _add_months(first_of_year, offset)
            last = min(_add_months(first_of_year, offset + months) - dt.timedelta(days=1), last_of_year)
            if first <= end and last >= start:
                periods.append((max(first, start), min(last, end)))
            offset += months
        year += 1
    return periods


def due_date_for(period_end: dt.date, *, is_final: bool) -> dt.date:
    return period_end + dt.timedelta(days=final_due_days() if is_final else due_days())


def instalment_key_after(period_end: dt.date) -> tuple[int, int]:
    """The (financial year, quarter) of the instalment a return releases: the NHS quarter after
    the one its period ends in (a final period that stops mid-quarter releases nothing more)."""
    year, quarter = fy.quarter_of(period_end)
    return (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def returns_covering_quarter_before(instalments: Iterable[Instalment]) -> dict[int, MonitoringReturn]:
    """For instalments no return is linked to (returns every six or twelve months), the return
    whose period covers the NHS quarter before each one's, by instalment id: every payment still
    waits for the monitoring of the period before it. Registered with the awards stage."""
    by_award: dict[int, list[Instalment]] = defaultdict(list)
    for instalment in instalments:
        by_award[instalment.award_id].append(instalment)
    if not by_award:
        return {}
    returns: dict[int, list[MonitoringReturn]] = defaultdict(list)
    for ret in MonitoringReturn.objects.filter(award_id__in=list(by_award)).order_by("period_start"):
        returns[ret.award_id].append(ret)
    found = {}
    for award_id, items in by_award.items():
        for instalment in items:
            day_before = instalment.period[0] - dt.timedelta(days=1)
            covering = next((r for r in returns[award_id] if r.period_start <= day_before <= r.period_end), None)
            if covering is not None:
                found[instalment.pk] = covering
    return found


def instalments_waiting_on(monitoring_return: MonitoringReturn) -> list[Instalment]:
    """The instalments, in any state, that wait on this return: the one linked to it, and the
    earlier ones it also covers when returns are six- or twelve-monthly."""
    instalments = list(Instalment.objects.filter(award_id=monitoring_return.award_id, requires_return=True)
                       .select_related("monitoring_return").order_by("financial_year", "quarter"))
    waits = instalment_returns(instalments)
    return [i for i in instalments if getattr(waits.get(i.pk), "pk", None) == monitoring_return.pk]


# A return's sections and its figures ------------------------------------------------------------


def return_sections(monitoring_return: MonitoringReturn) -> list[ReturnSection]:
    return [section for section in ReturnSection
            if monitoring_return.is_final or section not in FINAL_ONLY_SECTIONS]


@dataclass(frozen=True)
class SectionState:
    section: ReturnSection
    completed: bool
    version: int

    @property
    def slug(self) -> str:
        return self.section.value

    @property
    def title(self) -> str:
        return self.section.label


def section_states(monitoring_return: MonitoringReturn) -> list[SectionState]:
    done = set(monitoring_return.sections_completed or [])
    versions = monitoring_return.section_versions or {}
    return [SectionState(section, section.value in done, int(versions.get(section.value, 0)))
            for section in return_sections(monitoring_return)]


def incomplete_sections(monitoring_return: MonitoringReturn) -> list[ReturnSection]:
    return [state.section for state in section_states(monitoring_return) if not state.completed]


def period_profile(monitoring_return: MonitoringReturn) -> Decimal:
    """The award's profile for the return's period: its financial year's amount shared evenly
    over the award's quarters in that year, as the payment schedule does."""
    award = monitoring_return.award
    year = monitoring_return.financial_year
    amount = AwardYear.objects.filter(award=award, financial_year=year).values_list("amount", flat=True).first()
    if not amount:
        return ZERO
    in_year = [q for y, q, _, _ in fy.quarters_between(award.start_date, award.end_date) if y == year]
    in_period = [q for y, q, _, _ in fy.quarters_between(monitoring_return.period_start, monitoring_return.period_end)
                 if y == year and q in in_year]
    if not in_year:
        return ZERO
    share: Decimal = amount * len(in_period) / len(in_year)
    return share.quantize(PENNY)


def period_profile_by_category(monitoring_return: MonitoringReturn, total: Decimal | None = None) -> dict[str, Decimal]:
    """The period's profile split over cost categories as the bid's costs were in that year."""
    total = period_profile(monitoring_return) if total is None else total
    weights: dict[str, Decimal] = defaultdict(Decimal)
    for category, amount in monitoring_return.award.bid.costs.filter(
        financial_year=monitoring_return.financial_year
    ).values_list("category", "amount"):
        weights[category] += amount
    if not weights:
        return {}
    return spread_in_proportion(total, dict(weights))


def spend_variance(actual: Decimal, profile: Decimal) -> Decimal | None:
    """Actual against profile as a fraction (0.12 = 12% over); None where there is no profile."""
    if profile <= 0:
        return None
    return (actual - profile) / profile


def variance_needs_explanation(actual: Decimal, profile: Decimal) -> bool:
    """More than 10% away from the profile either way (any spend at all against a zero profile)."""
    variance = spend_variance(actual, profile)
    if variance is None:
        return actual > 0
    return abs(variance) > VARIANCE_THRESHOLD


def return_spend_total(monitoring_return: MonitoringReturn) -> Decimal:
    return monitoring_return.spend.aggregate(total=Sum("amount"))["total"] or ZERO


@dataclass
class SpendLine:
    category: str
    label: str
    profile: Decimal
    actual: Decimal | None


@dataclass
class ReturnFigures:
    """A return's content gathered for the summary pages, in a fixed number of queries."""

    spend: list[SpendLine]
    profile_total: Decimal
    spend_total: Decimal
    variance: Decimal | None
    needs_explanation: bool
    savings: list[ReturnSaving]
    savings_total: Decimal
    measures: list[dict[str, Any]]
    milestones: list[dict[str, Any]]
    reinvestments: list[Reinvestment]
    reinvestment_total: Decimal

    @property
    def variance_percent(self) -> str:
        if not self.variance:
            return ""
        return f"{abs(self.variance) * 100:.1f}% {'over' if self.variance > 0 else 'under'}"


def return_figures(monitoring_return: MonitoringReturn) -> ReturnFigures:
    profile_total = period_profile(monitoring_return)
    by_category = period_profile_by_category(monitoring_return, profile_total)
    actual = {row.category: row.amount for row in monitoring_return.spend.all()}
    spend = [SpendLine(value, label, by_category.get(value, ZERO), actual.get(value)) for value, label in CostCategory.choices]
    spend_total = sum(actual.values(), ZERO)
    savings = list(monitoring_return.savings.select_related("realised_by").order_by("kind", "pk"))
    actuals = {a.measure_id: a for a in monitoring_return.measure_actuals.all()}
    measures = [{"measure": m, "actual": actuals.get(m.pk)} for m in monitoring_return.award.bid.benefit_measures.all()]
    updates = {u.milestone_id: u for u in monitoring_return.milestone_updates.all()}
    milestones = [{"milestone": m, "update": updates.get(m.pk)} for m in monitoring_return.award.bid.milestones.all()]
    reinvestments = list(monitoring_return.reinvestments.select_related("organisation").order_by("pk"))
    return ReturnFigures(
        spend=spend, profile_total=profile_total, spend_total=spend_total,
        variance=spend_variance(spend_total, profile_total),
        needs_explanation=bool(actual) and variance_needs_explanation(spend_total, profile_total),
        savings=savings, savings_total=sum((s.amount for s in savings), ZERO), measures=measures,
        milestones=milestones, reinvestments=reinvestments,
        reinvestment_total=sum((r.amount for r in reinvestments), ZERO),
    )


def is_overdue(monitoring_return: MonitoringReturn, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return monitoring_return.status in WAITING_RETURN_STATUSES and monitoring_return.due_date < today


def can_submit_from(monitoring_return: MonitoringReturn) -> dt.date:
    """The first day the return may be submitted: the day after its period ends."""
    return monitoring_return.period_end + dt.timedelta(days=1)


# Reminders -----------------------------------------------------------------------------------------


def _not_sent(kind: str) -> Combinable:
    """Not sent yet: "opened" once per return; the others once per due date."""
    sent = ReminderSent.objects.filter(monitoring_return=OuterRef("pk"), kind=kind)
    if kind != ReminderKind.OPENED:
        sent = sent.filter(due_date=OuterRef("due_date"))
    return ~Exists(sent)


def reminder_already_sent(monitoring_return: MonitoringReturn, kind: str) -> bool:
    sent = ReminderSent.objects.filter(monitoring_return=monitoring_return, kind=kind)
    if kind != ReminderKind.OPENED:
        sent = sent.filter(due_date=monitoring_return.due_date)
    return sent.exists()


def reminder_is_due(monitoring_return: MonitoringReturn, award: Award, kind: str, today: dt.date) -> bool:
    """Whether a reminder of ``kind`` should go today (the reminder task checks again before sending).

    Windows, not exact days, so a missed run catches up: "opened" until the due date; "due in 14
    days", "3 days" and "1 day" each in its window (``DUE_WINDOWS``); "overdue" after it. A reminder whose
    window has passed is not sent late (an overdue return gets the overdue notice instead).
    """
    if award.status not in SCHEDULED_AWARD_STATUSES or monitoring_return.status != ReturnStatus.OPEN:
        return False
    due = monitoring_return.due_date
    if kind == ReminderKind.OPENED:
        return today <= due
    if kind in DUE_WINDOWS:
        first, last = DUE_WINDOWS[kind]
        return due - dt.timedelta(days=first) <= today <= due - dt.timedelta(days=last)
    if kind == ReminderKind.OVERDUE:
        return today > due
    return False


# Due-date reminders at 14, 3 and 1 days: (most, fewest) days before the due date each is sent in.
# Windows, so a missed run catches up with the nearest reminder only.
DUE_WINDOWS: dict[str, tuple[int, int]] = {ReminderKind.DUE_14: (14, 4), ReminderKind.DUE_3: (3, 2), ReminderKind.DUE_1: (1, 0)}


def reminders_due(*, today: dt.date | None = None) -> list[tuple[int, str]]:
    """(return id, kind) for every reminder that should go today and has not gone for the
    return's current due date. Three queries, whatever the number of returns."""
    today = today or timezone.localdate()
    waiting = MonitoringReturn.objects.filter(status=ReturnStatus.OPEN, award__status__in=SCHEDULED_AWARD_STATUSES)
    windows = {
        ReminderKind.OPENED: Q(due_date__gte=today),
        **{kind: Q(due_date__gte=today + dt.timedelta(days=last), due_date__lte=today + dt.timedelta(days=first))
           for kind, (first, last) in DUE_WINDOWS.items()},
        ReminderKind.OVERDUE: Q(due_date__lt=today),
    }
    due: list[tuple[int, str]] = []
    for kind, window in windows.items():
        ids = waiting.filter(window).filter(_not_sent(kind)).order_by("due_date", "pk").values_list("pk", flat=True)
        due.extend((pk, str(kind)) for pk in ids)
    return due


# The grantee's view -----------------------------------------------------------------------------------


@dataclass
class GranteeReturns:
    to_do: list[MonitoringReturn] = field(default_factory=list)
    drafts: list[MonitoringReturn] = field(default_factory=list)
    sent_back: list[MonitoringReturn] = field(default_factory=list)
    waiting: list[MonitoringReturn] = field(default_factory=list)
    approved: list[MonitoringReturn] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return any((self.to_do, self.drafts, self.sent_back, self.waiting, self.approved))


def grantee_returns(user: User, *, today: dt.date | None = None, history: int = 5) -> GranteeReturns:
    """The returns of the person's organisations' awards, for their dashboard: open and due
    (with dates), drafts started ahead of time, sent back with feedback, waiting for review,
    and the latest approved. Four queries."""
    today = today or timezone.localdate()
    member_of = Membership.objects.filter(user=user).values("organisation_id")
    returns = MonitoringReturn.objects.filter(award__recipient__in=member_of).select_related("award")
    result = GranteeReturns()
    result.to_do = list(returns.filter(status=ReturnStatus.OPEN).order_by("due_date", "pk")[:20])
    result.sent_back = list(returns.filter(status=ReturnStatus.RETURNED).order_by("due_date", "pk")[:20])
    upcoming = returns.filter(status=ReturnStatus.UPCOMING, award__status__in=SCHEDULED_AWARD_STATUSES)
    result.drafts = list(upcoming.exclude(sections_completed=[]).order_by("due_date", "pk")[:20])
    if not result.to_do and not result.drafts:
        result.drafts = list(upcoming.order_by("due_date", "pk")[:1])  # the next one due, to start ahead
    result.waiting = list(returns.filter(status=ReturnStatus.SUBMITTED).order_by("-submitted_at", "pk")[:20])
    result.approved = list(returns.filter(status=ReturnStatus.APPROVED).order_by("-reviewed_at", "-pk")[:history])
    for ret in (*result.to_do, *result.sent_back):
        ret.overdue = ret.due_date < today
    return result


# The portfolio dashboard ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortfolioFilters:
    fund: Fund | None = None
    call: Call | None = None
    pot: Pot | None = None
    network: Organisation | None = None
    year: int | None = None
    rag: str = ""


def _latest_rag() -> Subquery:
    reported = MonitoringReturn.objects.filter(
        award=OuterRef("pk"), status__in=KEPT_RETURN_STATUSES,
    ).exclude(rag="").order_by("-period_start")
    return Subquery(reported.values("rag")[:1])


def portfolio_awards(user: User, filters: PortfolioFilters) -> QuerySet[Award]:
    """Awards being monitored that the person may see, filtered: each with its latest reported
    RAG status (``latest_rag``; "" when none reported)."""
    awards = awards_visible_to(user).filter(status__in=MONITORED_AWARD_STATUSES)
    if filters.fund is not None:
        awards = awards.filter(pot__fund=filters.fund)
    if filters.call is not None:
        awards = awards.filter(bid__call=filters.call)
    if filters.pot is not None:
        awards = awards.filter(pot=filters.pot)
    if filters.network is not None:
        # The network whose pot pays for the award, or for a national pot the network hosting the call.
        awards = awards.filter(Q(pot__network=filters.network)
                               | Q(pot__network__isnull=True, bid__call__host_network=filters.network))
    if filters.year is not None:
        first, last = fy.FinancialYear(filters.year).start, fy.FinancialYear(filters.year).end
        awards = awards.filter(start_date__lte=last, end_date__gte=first)
    awards = awards.annotate(latest_rag=_latest_rag())
    if filters.rag == "none":
        awards = awards.filter(latest_rag__isnull=True)
    elif filters.rag in RAG.values:
        awards = awards.filter(latest_rag=filters.rag)
    return awards


def _returns_q(filters: PortfolioFilters, prefix: str = "") -> Q:
    if filters.year is None:
        return Q()
    first, last = fy.FinancialYear(filters.year).start, fy.FinancialYear(filters.year).end
    return Q(**{f"{prefix}period_start__gte": first, f"{prefix}period_start__lte": last})


def portfolio_rows(awards: QuerySet[Award], filters: PortfolioFilters, today: dt.date) -> QuerySet[Award]:
    """Each award with its counts of returns due, overdue and awaiting review (one query per page)."""
    in_scope = _returns_q(filters, "returns__")
    waiting = Q(returns__status__in=WAITING_RETURN_STATUSES) & in_scope
    return awards.select_related("recipient", "pot__fund").annotate(
        returns_due=Count("returns", filter=waiting & Q(returns__due_date__gte=today)),
        returns_overdue=Count("returns", filter=waiting & Q(returns__due_date__lt=today)),
        returns_awaiting=Count("returns", filter=Q(returns__status=ReturnStatus.SUBMITTED) & in_scope),
        next_due=Min("returns__due_date", filter=Q(returns__status__in=(*WAITING_RETURN_STATUSES, ReturnStatus.UPCOMING))
                     & in_scope),
    ).order_by("reference")


RAG_ORDER = [(RAG.RED, "Red"), (RAG.AMBER, "Amber"), (RAG.GREEN, "Green"), ("", "Not reported yet")]


@dataclass
class YearMoney:
    financial_year: int
    planned: Decimal
    actual: Decimal
    planned_cashable: Decimal = ZERO
    actual_cashable: Decimal = ZERO

    @property
    def year_label(self) -> str:
        return fy.label(self.financial_year)

    @property
    def planned_non_cashable(self) -> Decimal:
        return self.planned - self.planned_cashable

    @property
    def actual_non_cashable(self) -> Decimal:
        return self.actual - self.actual_cashable

    @property
    def percent(self) -> str:
        if self.planned <= 0:
            return ""
        return f"{self.actual * 100 / self.planned:.0f}%"


BENEFIT_BANDS = [
    ("met", "Target met"),
    ("over_half", "Over halfway to target"),
    ("started", "Some progress"),
    ("none", "No progress or worse"),
    ("not_reported", "Not reported yet"),
]


@dataclass
class Portfolio:
    awards: QuerySet[Award]
    award_count: int
    rag_counts: list[tuple[str, str, int]]
    returns_due: int
    returns_overdue: int
    returns_awaiting: int
    overdue: list[MonitoringReturn]
    awaiting: list[MonitoringReturn]
    spend: list[YearMoney]
    savings: list[YearMoney]
    reinvested: Decimal
    benefit_bands: list[tuple[str, str, int]]
    benefit_totals: Sequence[Mapping[str, Any]]


def _by_year(rows: Iterable[Mapping[str, Any]], key: str = "total") -> dict[int, Decimal]:
    return {row["financial_year"]: (row[key] or ZERO) for row in rows}


def portfolio(user: User, filters: PortfolioFilters, *, today: dt.date | None = None) -> Portfolio:
    """Everything on the portfolio dashboard, aggregated in the database: the number of queries
    does not grow with the number of awards (the awards table itself is paged by the view)."""
    today = today or timezone.localdate()
    awards = portfolio_awards(user, filters)
    award_ids = awards.values("pk")
    # The Django plugin does not follow the annotation portfolio_awards adds.
    rag = {row["latest_rag"] or "": row["n"] for row in awards.order_by().values("latest_rag").annotate(n=Count("pk"))}  # type: ignore[misc]
    rag_counts = [(value, label, rag.get(value, 0)) for value, label in RAG_ORDER]

    returns = MonitoringReturn.objects.filter(award__in=award_ids).filter(_returns_q(filters))
    waiting = Q(status__in=WAITING_RETURN_STATUSES)
    counts = returns.aggregate(
        due=Count("pk", filter=waiting & Q(due_date__gte=today)),
        overdue=Count("pk", filter=waiting & Q(due_date__lt=today)),
        awaiting=Count("pk", filter=Q(status=ReturnStatus.SUBMITTED)),
    )
    listed = returns.select_related("award__recipient").order_by("due_date", "pk")
    overdue = list(listed.filter(waiting, due_date__lt=today)[:10])
    awaiting = list(returns.filter(status=ReturnStatus.SUBMITTED).select_related("award__recipient")
                    .order_by("submitted_at", "pk")[:10])

    year_q = Q(financial_year=filters.year) if filters.year is not None else Q()
    approved = Q(monitoring_return__status=ReturnStatus.APPROVED, monitoring_return__award__in=award_ids)
    profile = _by_year(AwardYear.objects.filter(year_q, award__in=award_ids).values("financial_year")
                       .annotate(total=Sum("amount")).order_by())
    spent = _by_year(ReturnSpend.objects.filter(approved, year_q).values("financial_year")
                     .annotate(total=Sum("amount")).order_by())
    spend = [YearMoney(year, profile.get(year, ZERO), spent.get(year, ZERO)) for year in sorted(set(profile) | set(spent))]

    cashable = Q(kind=SavingKind.CASHABLE)
    projected_rows = list(ProjectedSaving.objects.filter(year_q, bid__award__in=award_ids).values("financial_year")
                          .annotate(total=Sum("amount"), cashable=Sum("amount", filter=cashable)).order_by())
    realised_rows = list(ReturnSaving.objects.filter(approved, year_q).values("financial_year")
                         .annotate(total=Sum("amount"), cashable=Sum("amount", filter=cashable)).order_by())
    projected, realised = _by_year(projected_rows), _by_year(realised_rows)
    projected_cash, realised_cash = _by_year(projected_rows, "cashable"), _by_year(realised_rows, "cashable")
    savings = [
        YearMoney(year, projected.get(year, ZERO), realised.get(year, ZERO), projected_cash.get(year, ZERO),
                  realised_cash.get(year, ZERO))
        for year in sorted(set(projected) | set(realised))
    ]
    reinvested = (MonitoringReturn.objects.filter(award__in=award_ids, status=ReturnStatus.APPROVED)
                  .filter(_returns_q(filters)).aggregate(total=Sum("reinvestments__amount"))["total"] or ZERO)

    bands, totals = _benefits(award_ids, filters)
    return Portfolio(
        awards=awards, award_count=sum(rag.values()), rag_counts=rag_counts,
        returns_due=counts["due"], returns_overdue=counts["overdue"], returns_awaiting=counts["awaiting"],
        overdue=overdue, awaiting=awaiting, spend=spend, savings=savings, reinvested=reinvested,
        benefit_bands=bands, benefit_totals=totals,
    )


def _benefits(award_ids: QuerySet[Award, Any], filters: PortfolioFilters) -> tuple[list[tuple[str, str, int]], Sequence[Mapping[str, Any]]]:
    """Each measure's latest approved actual against its baseline and target, banded by progress
    ((actual − baseline) / (target − baseline), which also works where lower is better); and totals
    for measures sharing a name and unit. The band is worked out inside one correlated subquery per
    measure (so the database evaluates it once per measure), then counted by band."""
    latest = (
        ReturnMeasureActual.objects
        .filter(measure=OuterRef("pk"), monitoring_return__status=ReturnStatus.APPROVED)
        .filter(_returns_q(filters, "monitoring_return__"))
        .order_by("-monitoring_return__period_end")
    )
    # A fraction for banding only (never money): float division on every database; NULL where
    # the target equals the baseline.
    progress = Cast(F("value") - OuterRef("baseline"), FloatField()) / NullIf(
        Cast(OuterRef("target") - OuterRef("baseline"), FloatField()), Value(0.0))
    band = latest.annotate(progress=progress).annotate(band=Case(
        When(progress__isnull=True, value=OuterRef("target"), then=Value("met")),
        When(progress__isnull=True, then=Value("none")),
        When(progress__gte=1, then=Value("met")),
        When(progress__gte=0.5, then=Value("over_half")),
        When(progress__gt=0, then=Value("started")),
        default=Value("none"),
    )).values("band")[:1]
    measures = BenefitMeasure.objects.filter(bid__award__in=award_ids)
    counts = {row["band"]: row["n"] for row in measures.annotate(
        band=Coalesce(Subquery(band), Value("not_reported")),
    ).order_by().values("band").annotate(n=Count("pk"))}
    bands = [(value, label, counts.get(value, 0)) for value, label in BENEFIT_BANDS]
    totals = list(
        measures.annotate(latest=Subquery(latest.values("value")[:1])).order_by().values("name", "unit").annotate(
            n=Count("pk"), baseline_total=Sum("baseline"), target_total=Sum("target"), actual_total=Sum("latest"),
            reported=Count("latest"),
        ).order_by("-n", "name", "unit")[:10]
    )
    return bands, totals


def portfolio_filter_choices(user: User) -> dict[str, Any]:
    """The funds, calls, pots, networks and years the person's filters offer."""
    funds = funds_visible_to(user).order_by("name")
    fund_ids = funds.values("pk")
    calls = Call.objects.filter(fund__in=fund_ids).select_related("fund").order_by("fund__name", "title")
    pots = Pot.objects.filter(fund__in=fund_ids).select_related("fund").order_by("fund__name", "name")
    networks = Organisation.objects.filter(kind=OrganisationKind.HEALTH_INNOVATION_NETWORK).order_by("name")
    bounds = Fund.objects.filter(pk__in=fund_ids).aggregate(first=Min("first_year"), last=Max("last_year"))
    years = fy.year_choices(bounds["first"], bounds["last"]) if bounds["first"] is not None else []
    return {"funds": funds, "calls": calls, "pots": pots, "networks": networks, "years": years}


def overdue_count(returns: QuerySet[MonitoringReturn], today: dt.date | None = None) -> int:
    today = today or timezone.localdate()
    return returns.filter(status__in=WAITING_RETURN_STATUSES, due_date__lt=today).count()


def manager_returns_summary(user: User, *, today: dt.date | None = None) -> dict[str, Any]:
    """Counts for the fund manager's dashboard panel (two queries)."""
    from awards.selectors import awards_managed_by

    today = today or timezone.localdate()
    returns = MonitoringReturn.objects.filter(award__in=awards_managed_by(user).values("pk"))
    counts = returns.aggregate(
        awaiting=Count("pk", filter=Q(status=ReturnStatus.SUBMITTED)),
        overdue=Count("pk", filter=Q(status__in=WAITING_RETURN_STATUSES, due_date__lt=today)),
        due=Count("pk", filter=Q(status__in=WAITING_RETURN_STATUSES, due_date__gte=today)),
    )
    counts["oldest_awaiting"] = list(returns.filter(status=ReturnStatus.SUBMITTED).select_related("award")
                                     .order_by("submitted_at", "pk")[:5])
    return counts
