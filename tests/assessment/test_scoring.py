"""The scoring arithmetic, with worked examples checked by hand (the arithmetic is in the
comments): weighted means, moderation, gateways, rounding, normalisation and the funding line
across several financial years. No database: ``assessment.scoring`` is plain functions."""

import random
from decimal import Decimal

from assessment.scoring import (
    CriterionSpec,
    LineEntry,
    RawScore,
    bid_result,
    funding_line,
    normalised_scores,
)

D = Decimal
# Two criteria on different scales: A (0 to 4, weight 60) and B (1 to 5, weight 40).
A = CriterionSpec(id=1, weight=60, scale_min=0, scale_max=4, title="Cost saving")
B = CriterionSpec(id=2, weight=40, scale_min=1, scale_max=5, title="Patient benefit")
X, Y, Z = 101, 102, 103  # assessors


def test_the_weighted_mean_of_the_mean_assessor_scores_as_shares_of_each_scale():
    # A: X 3, Y 4 -> mean 3.5 -> share (3.5 - 0) / 4 = 0.875
    # B: X 2, Y 5 -> mean 3.5 -> share (3.5 - 1) / 4 = 0.625
    # score = (60 x 0.875 + 40 x 0.625) / 100 x 100 = 52.5 + 25 = 77.50
    result = bid_result(1, [A, B], {(X, 1): 3, (Y, 1): 4, (X, 2): 2, (Y, 2): 5}, threshold=2)
    assert result.score == D("77.50")
    assert [c.used for c in result.criteria] == [D("3.50"), D("3.50")]
    assert result.criterion_scores == {"1": "3.50", "2": "3.50"}
    # B's scores differ by 5 - 2 = 3, more than the threshold of 2: flagged. A's by 1: not.
    assert [c.flagged for c in result.criteria] == [False, True]
    assert [c.criterion.id for c in result.needing_moderation] == [2]
    assert result.fundable


def test_a_moderated_score_replaces_the_mean_and_clears_the_flag():
    # B moderated to 3 -> share (3 - 1) / 4 = 0.5; score = 60 x 0.875 + 40 x 0.5 = 52.5 + 20 = 72.50
    result = bid_result(1, [A, B], {(X, 1): 3, (Y, 1): 4, (X, 2): 2, (Y, 2): 5}, moderated={2: D("3")}, threshold=2)
    assert result.score == D("72.50")
    assert result.criteria[1].used == D("3.00")
    assert result.criteria[1].flagged  # the assessors still disagreed...
    assert result.needing_moderation == []  # ...but the chair has settled it


def test_a_spread_equal_to_the_threshold_is_not_flagged():
    # 2 and 4 differ by exactly 2: "more than the threshold" is needed.
    result = bid_result(1, [A], {(X, 1): 2, (Y, 1): 4}, threshold=2)
    assert not result.criteria[0].flagged


def test_a_gateway_makes_a_bid_unfundable_below_its_minimum_whatever_its_total():
    gated = CriterionSpec(id=1, weight=60, scale_min=0, scale_max=4, gateway_min=2)
    # gated: X 1, Y 2 -> mean 1.5, below the minimum of 2. B: 5 and 5 -> share 1.
    # score = 60 x (1.5 / 4) + 40 x 1 = 22.5 + 40 = 62.50, but the bid cannot be funded.
    low = bid_result(1, [gated, B], {(X, 1): 1, (Y, 1): 2, (X, 2): 5, (Y, 2): 5})
    assert low.score == D("62.50")
    assert [c.criterion.id for c in low.gateway_failures] == [1]
    assert not low.fundable
    # Exactly at the minimum passes: 2 and 2 -> mean 2.
    at = bid_result(2, [gated, B], {(X, 1): 2, (Y, 1): 2, (X, 2): 1, (Y, 2): 1})
    assert at.gateway_failures == []
    assert at.fundable
    # A moderated score at the minimum also lets the bid through.
    moderated = bid_result(3, [gated, B], {(X, 1): 1, (Y, 1): 2, (X, 2): 5, (Y, 2): 5}, moderated={1: D("2")})
    assert moderated.fundable


def test_the_score_is_worked_out_from_the_criterion_scores_rounded_to_two_places():
    only = CriterionSpec(id=1, weight=100, scale_min=0, scale_max=4)
    # 3, 3, 4 -> mean 3.3333... -> used 3.33 (half up); 3.33 / 4 x 100 = 83.25 (not 83.33), so the
    # published criterion score reproduces the published total.
    result = bid_result(1, [only], {(X, 1): 3, (Y, 1): 3, (Z, 1): 4})
    assert result.criteria[0].used == D("3.33")
    assert result.score == D("83.25")
    # 1, 2 and 2 -> mean 1.6666... -> used 1.67 (rounded up); 1.67 / 4 x 100 = 41.75.
    assert bid_result(2, [only], {(X, 1): 1, (Y, 1): 2, (Z, 1): 2}).score == D("41.75")
    # On a 0-9 scale: 1.67 / 9 x 100 = 18.5555... -> 18.56.
    nine = CriterionSpec(id=1, weight=100, scale_min=0, scale_max=9)
    assert bid_result(3, [nine], {(X, 1): 1, (Y, 1): 2, (Z, 1): 2}).score == D("18.56")


def test_a_bid_missing_a_criterion_score_has_no_score_yet():
    result = bid_result(1, [A, B], {(X, 1): 3})
    assert result.score is None
    assert not result.fundable


def test_normalisation_makes_a_generous_and_a_strict_assessor_count_equally():
    only = CriterionSpec(id=1, weight=100, scale_min=0, scale_max=4)
    # X (generous) scores bids 1 and 2: 4 and 3; Y (strict) scores bids 3 and 4: 2 and 1.
    scores = [RawScore(1, X, 1, 4), RawScore(2, X, 1, 3), RawScore(3, Y, 1, 2), RawScore(4, Y, 1, 1)]
    # As shares of the 0-4 scale: X 1, 0.75 (mean 0.875, sd 0.125); Y 0.5, 0.25 (mean 0.375, sd 0.125).
    # z-scores: bids 1 and 3 +1; bids 2 and 4 -1.
    # The call: 1, 0.75, 0.5, 0.25 -> mean M = 0.625; deviations 0.375, 0.125, -0.125, -0.375;
    # variance (0.140625 + 0.015625 + 0.015625 + 0.140625) / 4 = 0.078125, SD = sqrt(5)/8 = 0.279508...
    # z = +1 -> share 0.625 + 0.279508 = 0.904508 -> on the scale 4 x 0.904508 = 3.618034 (= 2.5 + sqrt(5)/2)
    # z = -1 -> share 0.625 - 0.279508 = 0.345492 -> 1.381966 (= 2.5 - sqrt(5)/2)
    values = normalised_scores(scores, {1: only})
    assert round(values[(1, X, 1)], 6) == D("3.618034")
    assert round(values[(3, Y, 1)], 6) == D("3.618034")
    assert round(values[(2, X, 1)], 6) == D("1.381966")
    assert round(values[(4, Y, 1)], 6) == D("1.381966")
    # So the strict assessor's best bid (raw 2) scores the same as the generous one's (raw 4):
    # 3.62 / 4 x 100 = 90.50 each, and 1.38 / 4 x 100 = 34.50 for the others.
    best_strict = bid_result(3, [only], {(Y, 1): 2}, {(Y, 1): values[(3, Y, 1)]})
    best_generous = bid_result(1, [only], {(X, 1): 4}, {(X, 1): values[(1, X, 1)]})
    assert best_strict.score == best_generous.score == D("90.50")
    assert bid_result(4, [only], {(Y, 1): 1}, {(Y, 1): values[(4, Y, 1)]}).score == D("34.50")


def test_normalisation_pools_every_criterion_as_a_share_of_its_own_scale():
    # X gives A (0-4) 4 and B (1-5) 1 on bid 1: shares 1 and 0 -> mean 0.5, sd 0.5 -> z +1 and -1.
    # Y gives A 2 and B 3 on bid 1: shares 0.5 and 0.5 -> sd 0 -> z 0 for both.
    # The call: 1, 0, 0.5, 0.5 -> mean 0.5, variance (0.25 + 0.25 + 0 + 0) / 4 = 0.125, SD = 0.353553...
    # X's A: 0.5 + 0.353553 = 0.853553 -> 0 + 4 x 0.853553 = 3.414214 (= 2 + sqrt(2))
    # X's B: 0.5 - 0.353553 = 0.146447 -> 1 + 4 x 0.146447 = 1.585786 (= 3 - sqrt(2))
    # Y's (z = 0): the call's mean share 0.5 -> A 2, B 3.
    scores = [RawScore(1, X, 1, 4), RawScore(1, X, 2, 1), RawScore(1, Y, 1, 2), RawScore(1, Y, 2, 3)]
    values = normalised_scores(scores, {1: A, 2: B})
    assert round(values[(1, X, 1)], 6) == D("3.414214")
    assert round(values[(1, X, 2)], 6) == D("1.585786")
    assert values[(1, Y, 1)] == D("2")
    assert values[(1, Y, 2)] == D("3")


def test_normalised_scores_stay_on_the_criterion_scale():
    rng = random.Random(5)
    criteria = {1: A, 2: B}
    scores = [RawScore(bid, assessor, cid, rng.randint(c.scale_min, c.scale_max))
              for bid in range(20) for assessor in (X, Y, Z) for cid, c in criteria.items()]
    # An extreme assessor: one top score among bottom ones, so the z-score is large.
    scores += [RawScore(99, 500, 1, 4)] + [RawScore(b, 500, 1, 0) for b in range(90, 99)]
    for (_, _, cid), value in normalised_scores(scores, criteria).items():
        assert criteria[cid].scale_min <= value <= criteria[cid].scale_max


# The funding line -------------------------------------------------------------------------------


def _entry(bid_id, score, requested, fundable=True, tiebreak=()):
    return LineEntry(bid_id, D(score), fundable, {year: D(amount) for year, amount in requested.items()}, tiebreak)


def test_the_funding_line_falls_at_the_first_bid_that_would_overspend_any_year():
    remaining = {2026: D("100"), 2027: D("100")}
    rows = funding_line([
        # C fits on its own (2026: 60 + 5 = 65) but comes after the line, so it is below it.
        _entry("C", "60", {2026: 5}),
        # B fits in 2026 (60 + 30 = 90 <= 100) but not in 2027 (40 + 70 = 110 > 100): the line falls here.
        _entry("B", "70", {2026: 30, 2027: 70}),
        # A, ranked first: 60 and 40, within 100 in both years.
        _entry("A", "80", {2026: 60, 2027: 40}),
        # D scores well but fails a gateway: below the line, its money not counted, the line not stopped.
        _entry("D", "75", {2026: 500}, fundable=False),
    ], remaining)
    assert [(r.bid_id, r.rank, r.above_line) for r in rows] == [
        ("A", 1, True), ("D", 2, False), ("B", 3, False), ("C", 4, False),
    ]
    a, d, b, c = rows
    assert a.running == {2026: D("60"), 2027: D("40")}
    assert a.overspent_years == []
    assert d.running == a.running
    assert d.overspent_years == []
    assert b.running == {2026: D("90"), 2027: D("110")}
    assert b.overspent_years == [2027]
    # The running total goes on below the line, so the table shows how far over each bid would go.
    assert c.running == {2026: D("95"), 2027: D("110")}


def test_a_year_the_pot_has_no_budget_for_cannot_be_funded():
    rows = funding_line([_entry("A", "90", {2026: 10, 2028: 1})], {2026: D("100")})
    assert rows[0].above_line is False
    assert rows[0].overspent_years == [2028]


def test_a_bid_that_uses_the_last_penny_is_above_the_line():
    rows = funding_line([_entry("A", "90", {2026: "99.99"}), _entry("B", "80", {2026: "0.01"}),
                         _entry("C", "70", {2026: "0.01"})], {2026: D("100.00")})
    assert [r.above_line for r in rows] == [True, True, False]


def test_equal_scores_are_ranked_by_the_earlier_submission():
    rows = funding_line([_entry("late", "70", {}, tiebreak=(2, "REF-2")), _entry("early", "70", {}, tiebreak=(1, "REF-9"))],
                        {})
    assert [r.bid_id for r in rows] == ["early", "late"]
