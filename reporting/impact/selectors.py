"""Reads for impact reports: what a person may see, what the public may see, and the source
data of a build (a few ``values_list`` queries turned into pandas DataFrames)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db.models import BigIntegerField, F, Q, QuerySet
from django.db.models.functions import Cast, Coalesce, Round
from django.utils import timezone

from applications.models import BenefitMeasure, Bid, BidStatus, ProjectedSaving
from assessment.models import Moderation, PanelDecision
from awards.models import AwardYear, PotLedgerEntry, Variation
from governance.models import (
    PUBLISHED_CALL_STATUSES,
    Call,
    Fund,
    Organisation,
    Pot,
    PotBudget,
    User,
)

from ..models import (
    ImpactReport,
    MonitoringReturn,
    ReportScope,
    ReportVersion,
    ReturnMeasureActual,
    ReturnSaving,
    ReturnSpend,
    ReturnStatus,
)
from ..visibility import (
    public_versions,
    report_awards,
    report_calls,
    report_decisions,
    report_versions_visible_to,
)

# Who may see what: the one rule is in ``reporting.visibility`` ------------------------------------------


def report_versions_of(report: ImpactReport) -> QuerySet[ReportVersion]:
    return report.versions.select_related("requested_by", "published_by").order_by("-number")


def recent_versions_for(user: User, limit: int = 5) -> list[ReportVersion]:
    return list(report_versions_visible_to(user).order_by("-created_at", "-pk")[:limit])


# What the public may see ------------------------------------------------------------------------


def public_reports(*, fund: Fund | None = None, network: Organisation | None = None) -> QuerySet[ReportVersion]:
    """Published reports, newest first, filtered by fund and by network.

    A report belongs to a network when it is about that network, its pot or call is the
    network's, or its fund is hosted by the network.
    """
    versions = public_versions()
    if fund is not None:
        versions = versions.filter(report__fund=fund)
    if network is not None:
        versions = versions.filter(
            Q(report__network=network) | Q(report__pot__network=network)
            | Q(report__call__host_network=network) | Q(report__fund__host_network=network)
        )
    return versions.order_by("-published_at", "-pk")


def public_report_funds() -> QuerySet[Fund]:
    return Fund.objects.filter(pk__in=public_versions().values("report__fund")).order_by("name")


# The build's source data --------------------------------------------------------------------


def _hundredths(field: str) -> Cast:
    """Money as whole pence (or a measure in hundredths), computed in the database, so pandas
    sums exact integers instead of Decimal objects."""
    return Cast(Round(F(field) * 100), output_field=BigIntegerField())


_pence = _hundredths


def _frame(rows: Iterable[Any], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(rows), columns=columns)


def _scope(report: ImpactReport, *, fund: str, call: str, organisation: str) -> Q:
    q = Q(**{fund: report.fund_id})
    if report.scope == ReportScope.CALL:
        q &= Q(**{call: report.call_id})
    elif report.scope == ReportScope.POT:
        q &= Q(pot_id=report.pot_id)
    elif report.scope == ReportScope.NETWORK:
        n = report.network_id
        q &= Q(pot__network_id=n) | Q(**{f"{organisation}__network_id": n}) | Q(**{f"{organisation}_id": n})
    return q


def award_scope(report: ImpactReport) -> Q:
    """The awards a report covers: always within its fund, then by call, pot or network.

    A network's awards are those from its ring-fenced pot or made to organisations in its area.
    """
    return _scope(report, fund="pot__fund_id", call="bid__call_id", organisation="recipient")


def bid_scope(report: ImpactReport) -> Q:
    """The bids whose process a report describes, chosen the same way as its awards."""
    return _scope(report, fund="call__fund_id", call="call_id", organisation="lead_organisation")


def budget_pots(report: ImpactReport) -> tuple[QuerySet[Pot], bool]:
    """The pots whose budgets the report shows, and whether they belong to the scope alone.

    A call's pots may also fund other calls, and a national pot is not split by network: in
    those cases budget and remaining belong in the fund's report, not this one.
    """
    pots = Pot.objects.filter(fund_id=report.fund_id)
    if report.scope == ReportScope.FUND:
        return pots, True
    if report.scope == ReportScope.POT:
        return pots.filter(pk=report.pot_id), True  # type: ignore[misc]  # Django takes None (IS NULL); the stubs do not
    if report.scope == ReportScope.NETWORK:
        return pots.filter(network_id=report.network_id), True
    return pots.filter(calls=report.call_id), False


@dataclass
class Sources:
    """Everything a build reads, as DataFrames; money columns are whole pence (int)."""

    awards: pd.DataFrame
    profile: pd.DataFrame
    ledger: pd.DataFrame
    budgets: pd.DataFrame
    budget_is_own: bool
    returns: pd.DataFrame
    spend: pd.DataFrame
    savings: pd.DataFrame
    projected: pd.DataFrame
    measures: pd.DataFrame
    actuals: pd.DataFrame
    variations: pd.DataFrame
    lessons: pd.DataFrame
    bids: pd.DataFrame
    decisions: pd.DataFrame
    calls: pd.DataFrame
    moderations: pd.DataFrame
    # Calls in the scope whose decisions were not released by the cut-off: left out, and named.
    withheld_calls: pd.DataFrame | None = None


def _as_datetime(value: dt.date, end: bool = False) -> dt.datetime:
    moment = dt.datetime.combine(value, dt.time.max if end else dt.time.min)
    return timezone.make_aware(moment)


def impact_sources(report: ImpactReport, cutoff: dt.datetime) -> Sources:
    """Read every row a report needs, in a fixed number of queries whatever the size of the fund."""
    start, end = report.period_start, report.period_end
    awards_q = report_awards(cutoff).filter(award_scope(report))
    award_ids = awards_q.values("pk")
    awards = _frame(
        awards_q.values_list(
            "pk", "reference", "title", "recipient_id", "recipient__name", "recipient__region",
            Coalesce("recipient__network__name", "recipient__name"), "status", "pot_id", "pot__name", "bid_id",
            "bid__call_id", "bid__call__title", "bid__call__purpose", "start_date", "end_date",
        ).annotate(amount_p=_pence("amount")).order_by("reference"),
        ["award_id", "reference", "title", "recipient_id", "recipient", "region", "network", "status", "pot_id",
         "pot", "bid_id", "call_id", "call", "purpose", "start_date", "end_date", "amount_p"],
    )
    profile = _frame(
        AwardYear.objects.filter(award__in=award_ids).values_list("award_id", "financial_year").annotate(
            amount_p=_pence("amount")).order_by(),
        ["award_id", "financial_year", "amount_p"],
    )
    ledger = _frame(
        PotLedgerEntry.objects.filter(award__in=award_ids, created_at__lte=cutoff).values_list(
            "award_id", "pot_id", "pot__name", "financial_year", "kind", "created_at").annotate(
            amount_p=_pence("amount")).order_by(),
        ["award_id", "pot_id", "pot", "financial_year", "kind", "created_at", "amount_p"],
    )
    pots, own = budget_pots(report)
    budgets = _frame(
        PotBudget.objects.filter(pot__in=pots).values_list("pot_id", "pot__name", "financial_year").annotate(
            amount_p=_pence("amount")).order_by(),
        ["pot_id", "pot", "financial_year", "amount_p"],
    )
    # Returns of the awards that fell due or ended in the period (health); figures come only from
    # the approved ones whose period ended within the report's period.
    returns = _frame(
        MonitoringReturn.objects.filter(award__in=award_ids).filter(
            Q(period_end__range=(start, end)) | Q(due_date__range=(start, end))
        ).values_list(
            "pk", "award_id", "period_start", "period_end", "due_date", "status", "submitted_at", "reviewed_at",
            "is_final", "rag", "organisations_adopting", "sites_adopting", "patients_reached",
        ).order_by(),
        ["return_id", "award_id", "period_start", "period_end", "due_date", "status", "submitted_at", "reviewed_at",
         "is_final", "rag", "organisations_adopting", "sites_adopting", "patients_reached"],
    )
    approved = {
        "monitoring_return__award__in": award_ids, "monitoring_return__status": ReturnStatus.APPROVED,
        "monitoring_return__period_end__range": (start, end),
    }
    spend = _frame(
        ReturnSpend.objects.filter(**approved).values_list("monitoring_return_id", "financial_year").annotate(
            amount_p=_pence("amount")).order_by(),
        ["return_id", "financial_year", "amount_p"],
    )
    savings = _frame(
        ReturnSaving.objects.filter(**approved).values_list(
            "monitoring_return_id", "financial_year", "kind", "realised_by__name", "care_setting").annotate(
            amount_p=_pence("amount")).order_by(),
        ["return_id", "financial_year", "kind", "realised_by", "care_setting", "amount_p"],
    )
    actuals = _frame(
        ReturnMeasureActual.objects.filter(**approved).values_list("monitoring_return_id", "measure_id").annotate(
            value_h=_hundredths("value")).order_by(),
        ["return_id", "measure_id", "value_h"],
    )
    lessons = _frame(
        MonitoringReturn.objects.filter(
            award__in=award_ids, status=ReturnStatus.APPROVED, is_final=True, period_end__range=(start, end),
        ).exclude(lessons_learned="").values_list(
            "award__reference", "award__recipient__name", "lessons_learned", "will_be_sustained", "sustained_funding_by",
        ).order_by("award__reference"),
        ["reference", "recipient", "lessons", "sustained", "sustained_by"],
    )
    bid_ids = awards_q.values("bid_id")
    projected = _frame(
        ProjectedSaving.objects.filter(bid__in=bid_ids).values_list(
            "bid_id", "financial_year", "kind", "realised_by__name", "care_setting").annotate(
            amount_p=_pence("amount")).order_by(),
        ["bid_id", "financial_year", "kind", "realised_by", "care_setting", "amount_p"],
    )
    measures = _frame(
        BenefitMeasure.objects.filter(bid__in=bid_ids).values_list(
            "pk", "bid_id", "name", "unit", "higher_is_better").annotate(
            baseline_h=_hundredths("baseline"), target_h=_hundredths("target")).order_by("pk"),
        ["measure_id", "bid_id", "name", "unit", "higher_is_better", "baseline_h", "target_h"],
    )
    variations = _frame(
        Variation.objects.filter(award__in=award_ids, requested_at__range=(_as_datetime(start), _as_datetime(end, True)))
        .values_list("award_id", "kind", "status").order_by(),
        ["award_id", "kind", "status"],
    )
    # The process: bids on the scope's calls that had closed by the end of the period (and by the cut-off).
    # Only calls whose decisions were released by the cut-off: the others are named as withheld.
    closed_q = Call.objects.filter(fund_id=report.fund_id, closes_at__lte=min(_as_datetime(end, True), cutoff))
    if report.scope == ReportScope.CALL:
        closed_q = closed_q.filter(pk=report.call_id)  # type: ignore[misc]  # Django takes None (IS NULL); the stubs do not
    calls_q = closed_q.filter(pk__in=report_calls(cutoff).values("pk"))
    bids_q = Bid.objects.filter(bid_scope(report), call__in=calls_q.values("pk")).exclude(status=BidStatus.DRAFT)
    bids = _frame(bids_q.values_list("pk", "call_id", "status").order_by(), ["bid_id", "call_id", "status"])
    withheld_q = Call.objects.filter(fund_id=report.fund_id, status__in=PUBLISHED_CALL_STATUSES).exclude(
        pk__in=report_calls(cutoff).values("pk"))
    if report.scope == ReportScope.CALL:
        withheld_q = withheld_q.filter(pk=report.call_id)  # type: ignore[misc]  # Django takes None (IS NULL); the stubs do not
    else:
        withheld_q = withheld_q.filter(
            pk__in=closed_q.values("pk"),
            bids__in=Bid.objects.filter(bid_scope(report)).exclude(status=BidStatus.DRAFT).values("pk"),
        ).distinct()
    withheld = _frame(withheld_q.values_list("pk", "title", "status").order_by("closes_at", "pk"),
                      ["call_id", "call", "status"])
    decisions = _frame(
        report_decisions(cutoff, PanelDecision.objects.filter(bid__in=bids_q.values("pk"))).values_list(
            "bid_id", "outcome", "score", "above_funding_line", "departs_from_ranking", "conditions").order_by(),
        ["bid_id", "outcome", "score", "above_funding_line", "departs_from_ranking", "conditions"],
    )
    calls = _frame(
        calls_q.filter(pk__in=bids_q.values("call_id")).values_list(
            "pk", "title", "purpose", "assessors_per_bid", "normalise_scores", "closes_at").order_by("closes_at"),
        ["call_id", "call", "purpose", "assessors_per_bid", "normalise_scores", "closes_at"],
    )
    moderations = _frame(
        Moderation.objects.filter(bid__in=bids_q.values("pk")).values_list("bid__call_id", "bid_id").order_by(),
        ["call_id", "bid_id"],
    )
    return Sources(
        awards=awards, profile=profile, ledger=ledger, budgets=budgets, budget_is_own=own, returns=returns,
        spend=spend, savings=savings, projected=projected, measures=measures, actuals=actuals,
        variations=variations, lessons=lessons, bids=bids, decisions=decisions, calls=calls,
        moderations=moderations, withheld_calls=withheld,
    )
