"""Reads for the awards stage, scoped to what the person may see.

The pot ledger is the source of truth for money: committed = commits − releases, paid =
payments, remaining = budget − committed. ``pot_ledger`` and ``committed_by_pot_year`` are
read by the fund page, the CSV export and governance's pot budget table.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any, TypeVar

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from applications.models import Bid
from assessment.models import FUNDING_OUTCOMES, PanelDecision
from governance import fy
from governance.models import (
    Fund,
    Membership,
    MembershipRole,
    OrganisationKind,
    Pot,
    PotBudget,
    User,
)
from governance.money import PENNY, ZERO
from governance.uploads import ScanStatus

from .extensions import returns_found_for
from .models import (
    COMMITTING_STATUSES,
    Award,
    AwardCondition,
    AwardStatus,
    ConditionStatus,
    ConditionTemplate,
    Instalment,
    InstalmentStatus,
    LedgerEntryKind,
    OfferLetter,
    PotLedgerEntry,
    Variation,
    VariationStatus,
)

# The monitoring stage's status for an approved return (reporting is a later stage: not imported).
RETURN_APPROVED = "approved"


# Who sees what --------------------------------------------------------------------------------


def _managed_network_ids(user: User) -> QuerySet[Membership, Any]:
    return Membership.objects.filter(
        user=user, role=MembershipRole.FUND_MANAGER, organisation__kind=OrganisationKind.HEALTH_INNOVATION_NETWORK
    ).values("organisation_id")


def awards_managed_by(user: User) -> QuerySet[Award]:
    """Awards a person may act on as a fund manager: of calls their network hosts or whose fund it hosts."""
    awards = Award.objects.select_related("pot__fund", "recipient", "bid__call")
    if not user.is_authenticated:
        return awards.none()
    if user.is_superuser:
        return awards
    managed = _managed_network_ids(user)
    return awards.filter(Q(bid__call__host_network__in=managed) | Q(bid__call__fund__host_network__in=managed))


def awards_of_recipient_member(user: User) -> QuerySet[Award]:
    """Awards made to an organisation the person belongs to (the grantee's view)."""
    if not user.is_authenticated:
        return Award.objects.none()
    member_of = Membership.objects.filter(user=user).values("organisation_id")
    return Award.objects.filter(recipient__in=member_of).select_related("pot__fund", "recipient")


def decisions_managed_by(user: User) -> QuerySet[PanelDecision]:
    """Released decisions to fund, on calls the person manages (with or without an award)."""
    decisions = PanelDecision.objects.filter(
        outcome__in=FUNDING_OUTCOMES, released_at__isnull=False, released_at__lte=timezone.now()
    ).select_related("bid__call__fund", "bid__lead_organisation", "bid__pot")
    if not user.is_authenticated:
        return decisions.none()
    if user.is_superuser:
        return decisions
    managed = _managed_network_ids(user)
    return decisions.filter(Q(bid__call__host_network__in=managed) | Q(bid__call__fund__host_network__in=managed))


def decisions_ready_for_award(user: User) -> QuerySet[PanelDecision]:
    """Released decisions to fund that have no award yet: the fund manager's to-do list."""
    return decisions_managed_by(user).filter(award__isnull=True).order_by("released_at", "bid__reference")


def condition_templates_for(fund: Fund) -> QuerySet[ConditionTemplate]:
    """The standard conditions every fund can use, and the fund's own."""
    return ConditionTemplate.objects.filter(Q(fund__isnull=True) | Q(fund=fund)).order_by("fund_id", "title")


# The pot ledger --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PotLedgerRow:
    """One pot in one financial year. ``budget == committed + remaining`` always."""

    fund_id: int
    fund_name: str
    pot_id: int
    pot_name: str
    financial_year: int
    budget: Decimal
    commits: Decimal
    released: Decimal
    paid: Decimal

    @property
    def committed(self) -> Decimal:
        return self.commits - self.released

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.committed

    @property
    def outstanding(self) -> Decimal:
        """Committed but not yet paid."""
        return self.committed - self.paid

    @property
    def year_label(self) -> str:
        return fy.label(self.financial_year)

    @property
    def balances(self) -> bool:
        return (
            self.budget == self.committed + self.remaining
            and self.remaining >= 0
            and ZERO <= self.paid <= self.committed
        )


def _ledger_sums(entries: QuerySet[PotLedgerEntry], *keys: str) -> dict[tuple[Any, ...], dict[str, Decimal]]:
    """Sums of commits, releases and payments grouped by ``keys``."""
    rows = entries.values(*keys).annotate(
        commits=Sum("amount", filter=Q(kind=LedgerEntryKind.COMMIT)),
        releases=Sum("amount", filter=Q(kind=LedgerEntryKind.RELEASE)),
        payments=Sum("amount", filter=Q(kind=LedgerEntryKind.PAYMENT)),
    )
    return {
        tuple(row[k] for k in keys): {
            "commits": (row["commits"] or ZERO).quantize(PENNY),
            "releases": (row["releases"] or ZERO).quantize(PENNY),
            "payments": (row["payments"] or ZERO).quantize(PENNY),
        }
        for row in rows
    }


def pot_ledger(pot_ids: Iterable[int] | None = None) -> list[PotLedgerRow]:
    """Budget, committed, paid, released and remaining for each pot and financial year.

    Every year with a budget appears, and every year with ledger entries (which cannot lack a
    budget, since issuing checks it). Sorted by fund, pot and year.
    """
    budgets = PotBudget.objects.select_related("pot__fund")
    entries = PotLedgerEntry.objects.all()
    if pot_ids is not None:
        pot_ids = list(pot_ids)
        budgets = budgets.filter(pot_id__in=pot_ids)
        entries = entries.filter(pot_id__in=pot_ids)
    sums = _ledger_sums(entries, "pot_id", "financial_year")
    by_key: dict[tuple[int, int], Decimal] = {}
    pots = {}
    for budget in budgets:
        by_key[(budget.pot_id, budget.financial_year)] = budget.amount
        pots[budget.pot_id] = budget.pot
    missing_pots = {pot_id for pot_id, _ in sums} - set(pots)
    if missing_pots:
        pots.update({pot.pk: pot for pot in Pot.objects.select_related("fund").filter(pk__in=missing_pots)})
    rows = []
    for key in set(by_key) | set(sums):
        pot = pots[key[0]]
        money = sums.get(key, {"commits": ZERO, "releases": ZERO, "payments": ZERO})
        rows.append(PotLedgerRow(
            fund_id=pot.fund_id, fund_name=pot.fund.name, pot_id=pot.pk, pot_name=pot.name, financial_year=key[1],
            budget=by_key.get(key, ZERO), commits=money["commits"], released=money["releases"], paid=money["payments"],
        ))
    rows.sort(key=lambda row: (row.fund_name, row.pot_name, row.pot_id, row.financial_year))
    return rows


def committed_by_pot_year(pot_ids: Iterable[int]) -> dict[tuple[int, int], Decimal]:
    """Money committed against each pot's budget per year (governance's commitment source)."""
    sums = _ledger_sums(PotLedgerEntry.objects.filter(pot_id__in=list(pot_ids)), "pot_id", "financial_year")
    return {key: money["commits"] - money["releases"] for key, money in sums.items()}


def pot_committed_in_years(pot_id: int, years: Iterable[int]) -> dict[int, Decimal]:
    """Committed per year for one pot (read inside the locking transaction by the services)."""
    sums = _ledger_sums(PotLedgerEntry.objects.filter(pot_id=pot_id, financial_year__in=list(years)), "financial_year")
    return {key[0]: money["commits"] - money["releases"] for key, money in sums.items()}


@dataclass(frozen=True)
class PotYearTotals:
    financial_year: int
    budget: Decimal | None
    committed: Decimal

    @property
    def remaining(self) -> Decimal | None:
        return None if self.budget is None else self.budget - self.committed

    @property
    def year_label(self) -> str:
        return fy.label(self.financial_year)


def pot_years(pot_id: int, years: Iterable[int]) -> list[PotYearTotals]:
    """Budget, committed and remaining of a pot for the given years (None where no budget)."""
    years = sorted(set(years))
    budgets = dict(PotBudget.objects.filter(pot_id=pot_id, financial_year__in=years).values_list("financial_year", "amount"))
    committed = pot_committed_in_years(pot_id, years)
    return [PotYearTotals(year, budgets.get(year), committed.get(year, ZERO)) for year in years]


def ledger_totals(rows: list[PotLedgerRow]) -> dict[str, Decimal]:
    fields = ("budget", "committed", "paid", "released", "remaining", "outstanding")
    return {name: sum((getattr(row, name) for row in rows), ZERO) for name in fields}


# One award's money ------------------------------------------------------------------------------


def award_paid_to_date(award: Award) -> Decimal:
    """Money paid to the award so far, from the ledger."""
    total = award.ledger.filter(kind=LedgerEntryKind.PAYMENT).aggregate(total=Sum("amount"))["total"]
    return total or ZERO


def award_ledger_by_year(award: Award) -> dict[int, dict[str, Decimal]]:
    """Per financial year: ``committed`` (commits − releases) and ``paid`` for one award."""
    sums = _ledger_sums(award.ledger.all(), "financial_year")
    return {
        key[0]: {"committed": money["commits"] - money["releases"], "paid": money["payments"], "released": money["releases"]}
        for key, money in sums.items()
    }


@dataclass(frozen=True)
class AwardYearMoney:
    financial_year: int
    profile: Decimal
    committed: Decimal
    paid: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.committed - self.paid

    @property
    def released(self) -> Decimal:
        return self.profile - self.committed

    @property
    def year_label(self) -> str:
        return fy.label(self.financial_year)


def award_money_by_year(award: Award) -> list[AwardYearMoney]:
    """The award's profile beside what the ledger holds for it: committed, paid, outstanding."""
    profile = {row.financial_year: row.amount for row in award.profile.all()}
    ledger = award_ledger_by_year(award)
    years = sorted(set(profile) | set(ledger))
    return [
        AwardYearMoney(
            year, profile.get(year, ZERO), ledger.get(year, {}).get("committed", ZERO), ledger.get(year, {}).get("paid", ZERO)
        )
        for year in years
    ]


def award_profile(award: Award) -> dict[int, Decimal]:
    return {row.financial_year: row.amount for row in award.profile.all()}


def instalment_returns(instalments: Iterable[Instalment]) -> dict[int, Any]:
    """The monitoring return each instalment waits for, by instalment id (absent: none yet).

    The monitoring stage links one return to the instalment it releases; an instalment with no
    linked return (returns every six or twelve months) waits for the return the monitoring
    stage finds for it: the one covering the quarter before it.
    """
    instalments = list(instalments)
    waits: dict[int, Any] = {}
    unlinked = []
    for instalment in instalments:
        try:
            waits[instalment.pk] = instalment.monitoring_return
        except Instalment.monitoring_return.RelatedObjectDoesNotExist:
            unlinked.append(instalment)
    if unlinked:
        waits.update(returns_found_for(unlinked))
    return waits


def instalment_return(instalment: Instalment) -> Any:
    """The monitoring return the instalment waits for, or None (see ``instalment_returns``)."""
    return instalment_returns([instalment]).get(instalment.pk)


def instalments_of(award: Award) -> list[Instalment]:
    """The award's instalments in order, each with ``waits_on``: the return it waits for, or None."""
    instalments = list(award.instalments.select_related("monitoring_return").order_by("financial_year", "quarter"))
    waits = instalment_returns([i for i in instalments if i.requires_return])
    for instalment in instalments:
        instalment.waits_on = waits.get(instalment.pk)
    return instalments


OUTSTANDING_CONDITION = [ConditionStatus.OPEN, ConditionStatus.EVIDENCE_SUBMITTED]


def _up_to(instalment: Instalment) -> Q:
    """Instalments of the same award due no later than ``instalment`` (by year and quarter)."""
    return Q(financial_year__lt=instalment.financial_year) | Q(
        financial_year=instalment.financial_year, quarter__lte=instalment.quarter)


def conditions_holding_back(instalment: Instalment) -> QuerySet[AwardCondition]:
    """Outstanding conditions that hold back this instalment: those holding it back, or an
    earlier instalment of the award (a condition on the first payment holds back every payment)."""
    held = Instalment.objects.filter(_up_to(instalment), award_id=instalment.award_id)
    return AwardCondition.objects.filter(
        award_id=instalment.award_id, status__in=OUTSTANDING_CONDITION, holds_back__in=held
    ).order_by("pk")


def first_instalment(award: Award) -> Instalment | None:
    return award.instalments.order_by("financial_year", "quarter").first()


def open_prestart_conditions(award: Award) -> QuerySet[AwardCondition]:
    """Outstanding conditions holding back the award's first payment: the award starts once none is left."""
    first = first_instalment(award)
    if first is None:
        return AwardCondition.objects.none()
    return conditions_holding_back(first)


def prestart_conditions_met(award: Award) -> bool:
    return not open_prestart_conditions(award).exists()


def conditions_of(award: Award) -> list[AwardCondition]:
    """The award's conditions with the instalment each holds back (if any)."""
    return list(award.conditions.select_related("signed_off_by", "holds_back").order_by("pk"))


def award_letters(award: Award) -> QuerySet[OfferLetter]:
    return award.letters.order_by("-version")


def award_variations(award: Award) -> QuerySet[Variation]:
    return award.variations.select_related("requested_by", "decided_by").order_by("-requested_at", "-pk")


def open_variation(award: Award) -> Variation | None:
    return award.variations.filter(status=VariationStatus.REQUESTED).first()


def is_authorised_signatory(user: User, award: Award) -> bool:
    return user.is_authenticated and Membership.objects.filter(
        user=user, organisation_id=award.recipient_id, is_authorised_signatory=True
    ).exists()


def is_recipient_member(user: User, award: Award) -> bool:
    return user.is_authenticated and Membership.objects.filter(user=user, organisation_id=award.recipient_id).exists()


# Suggesting a profile ---------------------------------------------------------------------------


def bid_costs_by_year(bid: Bid) -> dict[int, Decimal]:
    by_year: dict[int, Decimal] = defaultdict(Decimal)
    for year, amount in bid.costs.values_list("financial_year", "amount"):
        by_year[year] += amount
    return dict(by_year)


# What money is spread over: financial years, or cost categories.
SpreadKey = TypeVar("SpreadKey", int, str)


def spread_in_proportion(amount: Decimal, weights: dict[SpreadKey, Decimal]) -> dict[SpreadKey, Decimal]:
    """Split ``amount`` over the keys of ``weights`` in proportion, to the penny, totalling exactly.

    Pennies lost to rounding go to the last key. Equal shares if every weight is zero.
    """
    if not weights:
        return {}
    keys = sorted(weights)
    total = sum(weights.values(), ZERO)
    if total <= 0:
        weights = dict.fromkeys(keys, Decimal(1))
        total = Decimal(len(keys))
    shares = {key: (amount * weights[key] / total).quantize(PENNY, ROUND_DOWN) for key in keys}
    shares[keys[-1]] += amount - sum(shares.values(), ZERO)
    return shares


def suggested_profile(bid: Bid, amount: Decimal, years: Iterable[int]) -> dict[int, Decimal]:
    """The amount spread over ``years`` in proportion to the bid's costs in those years
    (evenly where the bid has no costs in them)."""
    years = sorted(set(years))
    costs = bid_costs_by_year(bid)
    return spread_in_proportion(amount, {year: costs.get(year, ZERO) for year in years})


def years_for(start: dt.date, end: dt.date, fund: Fund) -> list[int]:
    """The financial years an award from ``start`` to ``end`` may hold money in."""
    return [year for year in fy.years_spanning(start, end) if fund.first_year <= year <= fund.last_year]


# Lists and dashboards ---------------------------------------------------------------------------


# What a manager's to-do counts link to: the awards holding those conditions or instalments.
AWARD_NEEDS = [
    ("evidence", "Condition evidence to review"),
    ("payment", "Instalments to mark paid"),
    ("variation", "Variations to decide"),
]


def award_filter(awards: QuerySet[Award], *, status: str = "", fund: str = "", query: str = "",
                 needs: str = "") -> QuerySet[Award]:
    if needs == "evidence":
        awards = awards.filter(status__in=COMMITTING_STATUSES, pk__in=AwardCondition.objects.filter(
            status=ConditionStatus.EVIDENCE_SUBMITTED).values("award_id"))
    elif needs == "payment":
        awards = awards.filter(status=AwardStatus.ACTIVE, pk__in=Instalment.objects.filter(
            status=InstalmentStatus.RELEASED).values("award_id"))
    elif needs == "variation":
        awards = awards.filter(pk__in=Variation.objects.filter(status=VariationStatus.REQUESTED).values("award_id"))
    if status in AwardStatus.values:
        awards = awards.filter(status=status)
    if fund:
        awards = awards.filter(pot__fund__slug=fund)
    query = (query or "").strip()[:100]
    if query:
        awards = awards.filter(Q(reference__icontains=query) | Q(title__icontains=query) | Q(recipient__name__icontains=query))
    return awards


@dataclass
class ManagerToDo:
    decisions_ready: int
    offers_waiting: int
    evidence_to_review: int
    variations_to_decide: int
    instalments_to_release: int
    instalments_to_pay: int
    awards_to_start: int = 0

    @property
    def anything(self) -> bool:
        return any(
            (self.decisions_ready, self.offers_waiting, self.evidence_to_review, self.variations_to_decide,
             self.instalments_to_release, self.instalments_to_pay, self.awards_to_start)
        )


def manager_to_do(user: User) -> ManagerToDo:
    awards = awards_managed_by(user)
    active = awards.filter(status=AwardStatus.ACTIVE)
    scheduled = Instalment.objects.filter(award__in=active, status=InstalmentStatus.SCHEDULED)
    ready = list(scheduled.filter(Q(requires_return=False) | Q(monitoring_return__status=RETURN_APPROVED)))
    # Instalments a six- or twelve-monthly return covers: only those whose quarter has begun can be due.
    unlinked = [i for i in scheduled.filter(requires_return=True, monitoring_return__isnull=True)
                if i.period[0] <= timezone.localdate()]
    approved = {pk for pk, ret in instalment_returns(unlinked).items() if ret.status == RETURN_APPROVED}
    ready += [i for i in unlinked if i.pk in approved]
    releasable = sum(1 for i in ready if not conditions_holding_back(i).exists())
    return ManagerToDo(
        decisions_ready=decisions_ready_for_award(user).count(),
        offers_waiting=awards.filter(status=AwardStatus.OFFERED).count(),
        evidence_to_review=AwardCondition.objects.filter(
            award__in=awards.filter(status__in=COMMITTING_STATUSES), status=ConditionStatus.EVIDENCE_SUBMITTED
        ).count(),
        variations_to_decide=Variation.objects.filter(award__in=awards, status=VariationStatus.REQUESTED).count(),
        instalments_to_release=releasable,
        instalments_to_pay=Instalment.objects.filter(award__in=active, status=InstalmentStatus.RELEASED).count(),
        awards_to_start=awards_waiting_to_start(user).count(),
    )


def awards_waiting_to_start(user: User) -> QuerySet[Award]:
    """Accepted awards the person manages that nobody has started yet: no payment can be released
    until they are started."""
    return awards_managed_by(user).filter(status=AwardStatus.ACCEPTED).order_by("accepted_at", "reference")


def evidence_awaiting_scan(*, older_than: dt.timedelta) -> list[int]:
    """Conditions whose evidence still waits for its virus scan a while after it was sent: the
    beat sends them to be scanned again."""
    cutoff = timezone.now() - older_than
    return list(AwardCondition.objects.filter(evidence_scan_status=ScanStatus.AWAITING, evidence_submitted_at__lt=cutoff)
                .exclude(evidence="").order_by("pk").values_list("pk", flat=True)[:500])
