"""How assessors' scores become a bid's score, a ranking and a funding line.

Plain functions on plain data (no database), so every step can be checked by hand; the
selectors load a call's scores in a fixed number of queries and hand them to these. The
method is the one published on every call page (``templates/governance/calls/_scoring_method.html``):

1. **Scores counted.** Only submitted score sheets count, from assessors still assigned (not
   withdrawn, not conflicted).
2. **Normalisation** (only when the call's ``normalise_scores`` is on). Each score is first
   expressed as its share of the criterion's scale, ``p = (score - lowest) / (highest - lowest)``
   (0 = the lowest score, 1 = the highest), so criteria with different scales can be pooled.
   For each assessor, ``m_a`` and ``sd_a`` are the mean and the (population) standard deviation
   of all the shares they gave in the call (every criterion of every bid they scored); ``M`` and
   ``SD`` are the same over every submitted score in the call, from all assessors.
   A score's z-score is ``z = (p - m_a) / sd_a`` (0 when the assessor gave every score the same
   share, ``sd_a = 0``). It is put back on the call's common footing as ``p' = M + z * SD``,
   kept between 0 and 1, and back on the criterion's own scale as
   ``score' = lowest + p' * (highest - lowest)``. So a normalised score reads like an ordinary
   score on the same scale: an assessor's own average score becomes the call's average, and
   one of their standard deviations above it becomes one of the call's standard deviations
   above the call's average.
3. **A criterion's score** is the chair's moderated score where there is one, else the mean of
   the assessors' (normalised, if on) scores, rounded to 2 decimal places (half up).
4. **Moderation flag.** A criterion is flagged when its highest and lowest *submitted* scores
   (as the assessors gave them, before normalisation) differ by more than the call's
   moderation threshold. A moderated criterion stays moderated.
5. **A bid's score** is the weighted mean, by the criteria's weights, of each criterion's score
   as a share of its scale, times 100, rounded to 2 decimal places (half up). It is worked out
   from the rounded criterion scores, so anyone can reproduce it from the published figures.
   A bid missing a score on any criterion has no score yet.
6. **Gateways.** A bid whose score on a gateway criterion is below that criterion's minimum
   cannot be funded, whatever its total.
7. **Ranking** is by score, highest first, within each pot (ring-fenced funds: the network's
   pot; national funds: the one pot). Equal scores are ranked by the time the bids were
   submitted, earliest first, then by reference.
8. **Funding line.** Going down the ranking, each fundable bid's requested amount per
   financial year is added to a running total; the bid is above the line while the running
   total fits within the pot's remaining budget (budget - committed) in *every* year. The line
   falls at the first fundable bid that would overspend any year: it and every bid after it
   are below the line. Bids that fail a gateway are below the line but do not stop it, and
   their money is not counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import NamedTuple

TWO_PLACES = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)
ONE = Decimal(1)


def round2(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CriterionSpec:
    id: int
    weight: int
    scale_min: int
    scale_max: int
    gateway_min: int | None = None
    title: str = ""

    @property
    def span(self) -> Decimal:
        return Decimal(self.scale_max - self.scale_min)

    def share(self, score: Decimal | int) -> Decimal:
        """The score as a share of the scale: the lowest score is 0, the highest 1."""
        return (Decimal(score) - self.scale_min) / self.span

    def on_scale(self, share: Decimal) -> Decimal:
        return self.scale_min + share * self.span


class RawScore(NamedTuple):
    """One submitted score as the assessor gave it (a tuple: a call has thousands)."""

    bid_id: int
    assessor_id: int
    criterion_id: int
    score: int


ScoreKey = tuple[int, int, int]  # (bid id, assessor id, criterion id)


def mean_and_sd(values: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    """Mean and population standard deviation (divide by n, not n - 1)."""
    n = Decimal(len(values))
    mean = sum(values, ZERO) / n
    variance = sum(((v - mean) ** 2 for v in values), ZERO) / n
    return mean, variance.sqrt()


def normalised_scores(scores: Iterable[RawScore], criteria: Mapping[int, CriterionSpec]) -> dict[ScoreKey, Decimal]:
    """Each score after per-assessor z-score normalisation, back on its criterion's scale.

    See step 2 of the module's description. Returns ``{(bid, assessor, criterion): score'}``.
    """
    shares = {(s.bid_id, s.assessor_id, s.criterion_id): criteria[s.criterion_id].share(s.score) for s in scores}
    if not shares:
        return {}
    call_mean, call_sd = mean_and_sd(list(shares.values()))
    by_assessor: dict[int, list[Decimal]] = defaultdict(list)
    for (_, assessor, _), share in shares.items():
        by_assessor[assessor].append(share)
    own = {assessor: mean_and_sd(values) for assessor, values in by_assessor.items()}
    result = {}
    for key, share in shares.items():
        mean, sd = own[key[1]]
        z = (share - mean) / sd if sd else ZERO
        placed = min(max(call_mean + z * call_sd, ZERO), ONE)
        result[key] = criteria[key[2]].on_scale(placed)
    return result


@dataclass
class CriterionResult:
    """One criterion of one bid. Worked out once and then only read (its figures are cached)."""

    criterion: CriterionSpec
    raw: list[int] = field(default_factory=list)  # the submitted scores as given
    mean: Decimal | None = None  # mean of the (normalised, if on) scores, unrounded
    moderated: Decimal | None = None
    threshold: Decimal = ZERO

    @cached_property
    def spread(self) -> int | None:
        return max(self.raw) - min(self.raw) if self.raw else None

    @cached_property
    def flagged(self) -> bool:
        """The assessors disagree by more than the call's threshold."""
        return self.spread is not None and self.spread > self.threshold

    @cached_property
    def needs_moderation(self) -> bool:
        return self.flagged and self.moderated is None

    @cached_property
    def used(self) -> Decimal | None:
        """The score the panel uses: the moderated score, else the mean, to 2 places."""
        if self.moderated is not None:
            return round2(Decimal(self.moderated))
        return round2(self.mean) if self.mean is not None else None

    @cached_property
    def gateway_failed(self) -> bool:
        gateway = self.criterion.gateway_min
        return gateway is not None and self.used is not None and self.used < gateway


@dataclass
class BidResult:
    bid_id: int
    criteria: list[CriterionResult]
    score: Decimal | None

    @cached_property
    def needing_moderation(self) -> list[CriterionResult]:
        return [c for c in self.criteria if c.needs_moderation]

    @cached_property
    def flagged(self) -> list[CriterionResult]:
        return [c for c in self.criteria if c.flagged]

    @cached_property
    def gateway_failures(self) -> list[CriterionResult]:
        return [c for c in self.criteria if c.gateway_failed]

    @cached_property
    def fundable(self) -> bool:
        return self.score is not None and not self.gateway_failures

    @cached_property
    def criterion_scores(self) -> dict[str, str]:
        """criterion id -> score used, as text: the decision's snapshot."""
        return {str(c.criterion.id): str(c.used) for c in self.criteria if c.used is not None}


def weighted_score(used: Mapping[int, Decimal | None], criteria: Sequence[CriterionSpec]) -> Decimal | None:
    """Step 5: the weighted mean of each criterion's share of its scale, as 0-100, to 2 places."""
    if not criteria or any(used.get(c.id) is None for c in criteria):
        return None
    total_weight = sum(c.weight for c in criteria)
    weighted = ZERO
    for c in criteria:
        score = used[c.id]
        if score is None:  # checked above: narrows the type
            return None
        weighted += Decimal(c.weight) * c.share(score)
    return round2(weighted / total_weight * HUNDRED)


def bid_result(
    bid_id: int,
    criteria: Sequence[CriterionSpec],
    raw: Mapping[tuple[int, int], int],
    values: Mapping[tuple[int, int], Decimal] | None = None,
    moderated: Mapping[int, Decimal] | None = None,
    threshold: Decimal | int = ZERO,
) -> BidResult:
    """One bid's criterion scores, flags and 0-100 score.

    ``raw`` is ``{(assessor, criterion): score}`` as submitted; ``values`` the same after
    normalisation (defaults to ``raw``); ``moderated`` is ``{criterion: moderated score}``.
    """
    values = values if values is not None else {key: Decimal(score) for key, score in raw.items()}
    moderated = moderated or {}
    given: dict[int, list[int]] = defaultdict(list)
    for (_, cid), score in sorted(raw.items()):
        given[cid].append(score)
    counted: dict[int, list[Decimal]] = defaultdict(list)
    for (_, cid), value in values.items():
        counted[cid].append(Decimal(value))
    threshold = Decimal(threshold)
    results = []
    for criterion in criteria:
        mine = counted.get(criterion.id)
        results.append(CriterionResult(
            criterion=criterion, raw=given.get(criterion.id, []), mean=sum(mine, ZERO) / len(mine) if mine else None,
            moderated=moderated.get(criterion.id), threshold=threshold,
        ))
    bid_score = weighted_score({r.criterion.id: r.used for r in results}, criteria)
    return BidResult(bid_id=bid_id, criteria=results, score=bid_score)


# Funding line -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineEntry:
    """A scored bid in a pot, ready to rank."""

    bid_id: int
    score: Decimal
    fundable: bool
    requested: Mapping[int, Decimal]  # financial year -> amount asked for
    tiebreak: tuple = ()  # (submitted at, reference): earlier first among equal scores


@dataclass
class LineRow:
    entry: LineEntry
    rank: int
    running: dict[int, Decimal]  # running total of fundable bids' requests, this one included
    above_line: bool
    overspent_years: list[int]  # years in which the running total is more than remains

    @property
    def bid_id(self) -> int:
        return self.entry.bid_id


def rank_entries(entries: Iterable[LineEntry]) -> list[LineEntry]:
    """Step 7: highest score first; equal scores by the tie-break (earliest submitted)."""
    return sorted(entries, key=lambda e: (-e.score, e.tiebreak, e.bid_id))


def funding_line(entries: Iterable[LineEntry], remaining: Mapping[int, Decimal]) -> list[LineRow]:
    """Step 8: rank the entries and draw the line against ``remaining`` (year -> money left)."""
    rows: list[LineRow] = []
    running: dict[int, Decimal] = defaultdict(lambda: ZERO)
    line_fallen = False
    for rank, entry in enumerate(rank_entries(entries), start=1):
        if entry.fundable:
            for year, amount in entry.requested.items():
                running[year] += amount
        overspent = sorted(year for year, total in running.items() if total > remaining.get(year, ZERO))
        above = entry.fundable and not line_fallen and not overspent
        if entry.fundable and not above:
            line_fallen = True
        rows.append(LineRow(entry=entry, rank=rank, running=dict(running), above_line=above,
                            overspent_years=overspent if entry.fundable else []))
    return rows
