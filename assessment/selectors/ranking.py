"""The ranking and the funding line (``call_ranking``): a call's scores, assignments,
moderations, costs, budgets and decisions read in a fixed number of queries however many bids
the call has, and handed to the plain arithmetic in ``scoring.py``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from applications.models import Bid, BidCost
from applications.selectors import bids_for_call
from governance import fy
from governance.extensions import committed_by_pot_year
from governance.models import Call, Criterion, Pot, PotBudget
from governance.selectors import BudgetCell

from .. import scoring
from ..models import (
    Assignment,
    AssignmentStatus,
    DecisionOutcome,
    Moderation,
    PanelDecision,
    Score,
    SheetStatus,
)
from ._shared import ASSESSED_BID_STATUSES, LIVE_STATUSES, ZERO, criteria_of, criterion_specs

# The ranking and the funding line ---------------------------------------------------------------


@dataclass
class YearCell:
    year: int
    requested: Decimal
    running: Decimal | None
    overspent: bool


@dataclass
class RankedBid:
    bid: Bid
    result: scoring.BidResult | None
    sheets_expected: int
    sheets_submitted: int
    requested: dict[int, Decimal]
    decision: PanelDecision | None = None
    rank: int | None = None
    above_line: bool | None = None
    running: dict[int, Decimal] = field(default_factory=dict)
    overspent_years: list[int] = field(default_factory=list)
    cells: list[YearCell] = field(default_factory=list)
    line_falls_here: bool = False
    excluded: bool = False  # the viewer is conflicted on the bid: its scores are not shown to them
    chaired: bool = (
        False  # the viewer chairs its moderation and decision (set by visibility.ranking_for)
    )

    @property
    def complete(self) -> bool:
        """Every assessor still on the bid has submitted, and there is a score."""
        return (
            self.sheets_expected > 0
            and self.sheets_submitted == self.sheets_expected
            and self.result is not None
            and self.result.score is not None
        )

    @property
    def total_requested(self) -> Decimal:
        return sum(self.requested.values(), ZERO)

    @property
    def score(self) -> Decimal | None:
        return self.result.score if self.result else None

    @property
    def fundable(self) -> bool:
        return bool(self.result and self.result.fundable)

    @property
    def needs_moderation(self) -> bool:
        return bool(self.result and self.result.needing_moderation)

    @property
    def recommended(self) -> str:
        if not self.complete:
            return "Still being scored"
        if not self.fundable:
            return "Not fundable: gateway not met"
        return "Above the funding line" if self.above_line else "Below the funding line"


@dataclass
class PotRanking:
    pot: Pot | None
    years: list[BudgetCell]  # the pot's budget, committed and remaining for each year asked for
    rows: list[RankedBid]  # ranked: scoring complete
    unscored: list[RankedBid]

    @property
    def line_year_labels(self) -> str:
        row = next((r for r in self.rows if r.line_falls_here), None)
        return ", ".join(fy.label(y) for y in row.overspent_years) if row else ""


@dataclass
class CallRanking:
    call: Call
    criteria: list[Criterion]
    pots: list[PotRanking]
    by_bid: dict[int, RankedBid]
    excluded: set[int] = field(
        default_factory=set
    )  # the viewer's conflicted bids (set by visibility.ranking_for)

    @property
    def years(self) -> list[int]:
        return sorted({y.financial_year for pot in self.pots for y in pot.years})

    @property
    def all_rows(self) -> list[RankedBid]:
        return [row for pot in self.pots for row in (*pot.rows, *pot.unscored)]


# What the ranking, its page and its export read of each bid (the rest is left in the database).
RANKED_BID_FIELDS = (
    "pk",
    "call_id",
    "pot_id",
    "reference",
    "title",
    "status",
    "submitted_at",
    "lead_organisation_id",
    "commissioner_id",
    "lead_organisation__name",
    "lead_organisation__ods_code",
)


def call_ranking(call: Call, criteria: list[Criterion] | None = None) -> CallRanking:
    """The call's bids ranked within each pot, with their scores, flags, requested money per
    year, running totals against the pot's remaining budget, the funding line and any decision
    recorded. About ten queries, whatever the number of bids."""
    criteria = criteria if criteria is not None else criteria_of(call)
    specs = criterion_specs(criteria)
    spec_by_id = {spec.id: spec for spec in specs}
    bids = list(
        bids_for_call(call)
        .filter(status__in=ASSESSED_BID_STATUSES)
        .select_related(None)
        .select_related("lead_organisation")
        .only(*RANKED_BID_FIELDS)
    )
    bid_ids = [bid.pk for bid in bids]

    expected: dict[int, int] = defaultdict(int)
    submitted: dict[int, int] = defaultdict(int)
    for bid_id, sheet_status in Assignment.objects.filter(
        bid__call=call, status__in=LIVE_STATUSES
    ).values_list("bid_id", "sheet__status"):
        expected[bid_id] += 1
        submitted[bid_id] += sheet_status == SheetStatus.SUBMITTED
    raw_scores = [
        scoring.RawScore._make(row)
        for row in Score.objects.filter(
            sheet__assignment__bid__call=call,
            sheet__assignment__bid__status__in=ASSESSED_BID_STATUSES,
            sheet__assignment__status=AssignmentStatus.ACTIVE,
            sheet__status=SheetStatus.SUBMITTED,
            criterion_id__in=list(spec_by_id),
            score__isnull=False,
        ).values_list(
            "sheet__assignment__bid_id", "sheet__assignment__assessor_id", "criterion_id", "score"
        )
    ]
    raw_by_bid: dict[int, dict[tuple[int, int], int]] = defaultdict(dict)
    for s in raw_scores:
        raw_by_bid[s.bid_id][(s.assessor_id, s.criterion_id)] = s.score
    values_by_bid: dict[int, dict[tuple[int, int], Decimal]] | None = None
    if call.normalise_scores:
        values_by_bid = defaultdict(dict)
        for (bid_id, assessor_id, criterion_id), value in scoring.normalised_scores(
            raw_scores, spec_by_id
        ).items():
            values_by_bid[bid_id][(assessor_id, criterion_id)] = value
    moderated: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for bid_id, criterion_id, score in Moderation.objects.filter(bid__call=call).values_list(
        "bid_id", "criterion_id", "score"
    ):
        moderated[bid_id][criterion_id] = score
    requested: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for bid_id, year, amount in (
        BidCost.objects.filter(bid_id__in=bid_ids)
        .order_by()
        .values_list("bid_id", "financial_year")
        .annotate(total=Sum("amount"))
    ):
        requested[bid_id][year] = amount
    decisions = {d.bid_id: d for d in PanelDecision.objects.filter(bid_id__in=bid_ids)}

    ranked: dict[int, RankedBid] = {}
    for bid in bids:
        result = None
        if raw_by_bid.get(bid.pk):
            bid_values = values_by_bid.get(bid.pk, {}) if values_by_bid is not None else None
            result = scoring.bid_result(
                bid.pk,
                specs,
                raw_by_bid[bid.pk],
                bid_values,
                moderated.get(bid.pk),
                call.moderation_threshold,
            )
        ranked[bid.pk] = RankedBid(
            bid,
            result,
            expected[bid.pk],
            submitted[bid.pk],
            dict(sorted(requested[bid.pk].items())),
            decisions.get(bid.pk),
        )

    pot_ids = sorted({bid.pot_id for bid in bids if bid.pot_id})
    pots = {pot.pk: pot for pot in call.pots.all()}
    budgets = {
        (pot_id, year): amount
        for pot_id, year, amount in PotBudget.objects.filter(pot_id__in=pot_ids).values_list(
            "pot_id", "financial_year", "amount"
        )
    }
    committed = committed_by_pot_year(pot_ids) if pot_ids else {}
    pot_rankings = []
    for pot_id in pot_ids:
        members = [ranked[bid.pk] for bid in bids if bid.pot_id == pot_id]
        years = sorted({year for row in members for year in row.requested})
        remaining = {
            year: budgets.get((pot_id, year), ZERO) - committed.get((pot_id, year), ZERO)
            for year in years
        }
        complete = [row for row in members if row.complete]
        entries = [
            scoring.LineEntry(
                row.bid.pk,
                complete_score,
                row.fundable,
                row.requested,
                (row.bid.submitted_at or timezone.now(), row.bid.reference),
            )
            for row in complete
            if (complete_score := row.score) is not None  # always, once complete
        ]
        rows = []
        line_drawn = False
        for line in scoring.funding_line(entries, remaining):
            row = ranked[line.bid_id]
            row.rank, row.above_line, row.running, row.overspent_years = (
                line.rank,
                line.above_line,
                line.running,
                line.overspent_years,
            )
            if row.fundable and not row.above_line and not line_drawn:
                row.line_falls_here = line_drawn = True
            rows.append(row)
        for row in members:
            row.cells = [
                YearCell(
                    year,
                    row.requested.get(year, ZERO),
                    row.running.get(year) if row.rank else None,
                    year in row.overspent_years,
                )
                for year in years
            ]
        pot_rankings.append(
            PotRanking(
                pot=pots.get(pot_id) or bids[0].pot,
                years=[
                    BudgetCell(
                        year, budgets.get((pot_id, year), ZERO), committed.get((pot_id, year), ZERO)
                    )
                    for year in years
                ],
                rows=rows,
                unscored=sorted(
                    (row for row in members if not row.complete), key=lambda r: r.bid.reference
                ),
            )
        )
    return CallRanking(call=call, criteria=criteria, pots=pot_rankings, by_bid=ranked)


def departs_from_ranking(row: RankedBid, outcome: str) -> bool:
    """A decision departs from the ranking when it funds a bid below the funding line (or one
    failing a gateway), or does not fund a bid above the line."""
    funds = outcome in (DecisionOutcome.FUND, DecisionOutcome.FUND_WITH_CONDITIONS)
    return funds != bool(row.above_line)
