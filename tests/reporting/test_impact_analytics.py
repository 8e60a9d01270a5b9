"""Every figure of an impact report, on the hand-made fund of ``impact_world`` (read its
docstring for the data); the expected numbers are worked out beside each assertion."""

import datetime as dt

import pytest

from reporting.impact.analytics import find_table, headline_value, impact_snapshot, period_label
from reporting.impact.selectors import impact_sources
from reporting.models import ReportScope
from tests.reporting.impact_world import CUTOFF, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def snapshot_of(report):
    return impact_snapshot(report, impact_sources(report, CUTOFF), CUTOFF)


def rows(snapshot, key):
    """A table's rows as dicts by column key."""
    data = find_table(snapshot, key)
    keys = [c["key"] for c in data["columns"]]
    return [dict(zip(keys, row, strict=True)) for row in data["rows"]]


def total(snapshot, key):
    data = find_table(snapshot, key)
    return dict(zip([c["key"] for c in data["columns"]], data["total"], strict=True))


def paragraphs(snapshot, section):
    return next(s for s in snapshot["sections"] if s["key"] == section)["paragraphs"]


def test_money_budget_committed_paid_and_remaining(world):
    snap = snapshot_of(world.report())
    # Only 2025/26 is in the period. Committed: X1's £100,000 + X2's £100,000 − X2's £40,000
    # released = £160,000. Paid: £50,000 + £25,000 (X1) + £60,000 (X2) = £135,000.
    # Remaining: £1,000,000 − £160,000 = £840,000.
    assert rows(snap, "money_by_year") == [
        {"year": "2025/26", "budget": "1000000.00", "committed": "160000.00", "paid": "135000.00", "remaining": "840000.00"},
    ]
    assert rows(snap, "money_by_pot") == [
        {"year": "2025/26", "pot": "National pot", "budget": "1000000.00", "committed": "160000.00", "paid": "135000.00",
         "remaining": "840000.00"},
    ]
    assert "committed £160,000 of a £1,000,000 budget (16.0%), and the fund paid £135,000" in paragraphs(snap, "money")[0]


def test_spend_against_profile(world):
    snap = snapshot_of(world.report())
    # Profile 2025: £100,000 (X1) + £100,000 (X2, closed but delivered) = £200,000.
    # Spent in approved returns: £20,000 + £30,000 (X1) + £60,000 (X2) = £110,000; r3 (£99,999)
    # is only submitted, so it does not count. Difference −£90,000; 110/200 = 55.0%.
    assert rows(snap, "spend_against_profile") == [
        {"year": "2025/26", "planned": "200000.00", "spent": "110000.00", "variance": "-90000.00", "share": 55.0},
    ]


def test_projected_and_realised_savings_by_year(world):
    snap = snapshot_of(world.report())
    # Projected in 2025/26: cashable £30,000 (X1) + £20,000 (X2) = £50,000; non-cashable £10,000.
    # Realised (approved returns): cashable £15,000 + £45,000 + £10,000 = £70,000; non-cashable
    # £5,000; total £75,000 = 125.0% of the £60,000 projected. r3's £999,999 is not approved.
    assert rows(snap, "savings_by_year") == [
        {"year": "2025/26", "proj_cash": "50000.00", "proj_non": "10000.00", "real_cash": "70000.00",
         "real_non": "5000.00", "real_total": "75000.00", "share": 125.0},
    ]


def test_savings_by_organisation_and_place_on_the_pathway(world):
    snap = snapshot_of(world.report())
    assert rows(snap, "savings_by_organisation") == [
        # Trust A: projected £30,000 in 2025/26 (the £60,000 is 2026/27); realised £15,000 + £45,000.
        {"organisation": "Trust A", "setting": "Secondary care", "proj_total": "30000.00", "real_cash": "60000.00",
         "real_non": "0.00", "real_total": "60000.00"},
        {"organisation": "Trust B", "setting": "Secondary care", "proj_total": "20000.00", "real_cash": "10000.00",
         "real_non": "0.00", "real_total": "10000.00"},
        {"organisation": "ICB Q", "setting": "Community care", "proj_total": "10000.00", "real_cash": "0.00",
         "real_non": "5000.00", "real_total": "5000.00"},
    ]
    assert rows(snap, "savings_by_setting") == [
        {"setting": "Community care", "proj_total": "10000.00", "real_cash": "0.00", "real_non": "5000.00", "real_total": "5000.00"},
        {"setting": "Secondary care", "proj_total": "50000.00", "real_cash": "70000.00", "real_non": "0.00", "real_total": "70000.00"},
    ]


def test_return_on_investment_with_its_method(world):
    snap = snapshot_of(world.report())
    # All savings: (£75,000 − £135,000) ÷ £135,000 = −44.4%. Cashable: (£70,000 − £135,000) ÷ £135,000 = −48.1%.
    assert rows(snap, "roi") == [
        {"basis": "All savings realised", "paid": "135000.00", "saved": "75000.00", "net": "-60000.00", "roi": -44.4},
        {"basis": "Cashable savings only", "paid": "135000.00", "saved": "70000.00", "net": "-65000.00", "roi": -48.1},
    ]
    assert headline_value(snap, "roi") == -44.4
    text = " ".join(paragraphs(snap, "economic"))
    assert "Return on investment is (savings realised − money paid by the fund) ÷ money paid by the fund" in text


def test_payback_by_quarter_not_reached(world):
    snap = snapshot_of(world.report())
    # Payments by date: Q1 £50,000 (15 June), Q2 £60,000 (1 July), Q3 £25,000 (10 October).
    # Cashable savings by the quarter their return covers: Q1 £15,000 + £10,000, Q2 £45,000.
    assert [(r["quarter"], r["paid"], r["saved"], r["cum_paid"], r["cum_saved"], r["covered"]) for r in rows(snap, "payback_by_quarter")] == [
        ("Q1 2025/26", "50000.00", "25000.00", "50000.00", "25000.00", 50.0),
        ("Q2 2025/26", "60000.00", "45000.00", "110000.00", "70000.00", 63.6),
        ("Q3 2025/26", "25000.00", "0.00", "135000.00", "70000.00", 51.9),
        ("Q4 2025/26", "0.00", "0.00", "135000.00", "70000.00", 51.9),
    ]
    text = " ".join(paragraphs(snap, "economic"))
    assert "Payback: not reached by the end of the period; cashable savings to date cover 51.9% of payments" in text
    # Projected: cashable £50,000 then £60,000 against profiles of £200,000 then £100,000:
    # £110,000 of £300,000 = 36.7% over the awards' lives.
    assert "projected cashable savings cover 36.7% of the awards' profiles" in text


def test_payback_reached_counts_months_from_the_first_payment(world):
    from decimal import Decimal

    from applications.models import CareSetting, SavingKind
    from reporting.models import ReturnSaving

    # A further £100,000 cashable in r2 (Q2): cumulative savings £170,000 ≥ £110,000 paid by Q2,
    # two quarters (6 months) after the first payment in Q1.
    r2 = world.x1.returns.get(period_start=dt.date(2025, 7, 1))
    ReturnSaving.objects.create(monitoring_return=r2, financial_year=2025, kind=SavingKind.CASHABLE, realised_by=world.a,
                                care_setting=CareSetting.SECONDARY, amount=Decimal("100000.00"))
    text = " ".join(paragraphs(snapshot_of(world.report()), "economic"))
    assert "covered cumulative payments in Q2 2025/26, 6 months from the first payment in Q1 2025/26" in text


def test_patient_benefit_latest_actuals_added_up_where_units_agree(world):
    snap = snapshot_of(world.report())
    # "Bed days avoided" (days) and "bed days avoided " (Days) agree once trimmed and lower-cased.
    # X1's latest approved actual is r2's 600 (r3's 900 is not approved); X2's is 200.
    # Baseline 0 + 100, target 1,000 + 500, actual 600 + 200: progress (800 − 100) ÷ (1,500 − 100) = 50.0%.
    assert rows(snap, "benefit_totals") == [
        {"measure": "Bed days avoided", "unit": "days", "awards": 2, "reporting": 2, "baseline": "100.00",
         "target": "1500.00", "actual": "800.00", "progress": 50.0},
        # Nobody has reported it: baseline and target of all, no actual.
        {"measure": "Patients seen", "unit": "patients", "awards": 1, "reporting": 0, "baseline": "0.00",
         "target": "50.00", "actual": None, "progress": None},
    ]
    by_award = rows(snap, "benefit_by_award")
    assert by_award[0] == {"award": "TEST-X1", "measure": "Bed days avoided", "unit": "days", "baseline": "0.00",
                           "target": "1000.00", "actual": "600.00", "progress": 60.0}


def test_adoption_by_network_and_region_and_share_by_purpose(world):
    snap = snapshot_of(world.report())
    # Latest approved returns: X1's r2 (3 organisations, 5 sites, 250 patients), X2's s1 (1, 1, 40).
    assert rows(snap, "adoption_by_network") == [
        {"network": "Health Innovation South West", "region": "South West", "awards": 1, "reporting": 1,
         "organisations": 3, "sites": 5, "patients": 250},
        {"network": "London Health Innovation", "region": "London", "awards": 1, "reporting": 1,
         "organisations": 1, "sites": 1, "patients": 40},
    ]
    assert total(snap, "adoption_by_network")["patients"] == 290
    assert headline_value(snap, "patients") == 290
    assert headline_value(snap, "organisations") == 4
    # Adoption: X1 £200,000 of £300,000 = 66.7%; diffusion: X2 £100,000 = 33.3%; pump-priming none.
    assert [(r["purpose"], r["awards"], r["share_awards"], r["amount"], r["share_amount"]) for r in rows(snap, "awards_by_purpose")] == [
        ("Adoption of proven innovation", 1, 50.0, "200000.00", 66.7),
        ("Diffusion of innovation already in the NHS", 1, 50.0, "100000.00", 33.3),
        ("Pump-priming new innovation", 0, 0.0, "0.00", 0.0),
    ]


def test_portfolio_health_rag_returns_on_time_and_variations(world):
    snap = snapshot_of(world.report())
    # Latest approved: X1 r2 amber, X2 s1 red.
    assert rows(snap, "rag") == [
        {"rating": "Red", "awards": 1}, {"rating": "Amber", "awards": 1}, {"rating": "Green", "awards": 0},
        {"rating": "No approved return in the period", "awards": 0},
    ]
    # Due in the period: r1 (on time), r2 (late), r3 (on time, submitted though not yet approved),
    # s1 (on time), s2 (not submitted).
    assert rows(snap, "returns_on_time") == [
        {"measure": "Fell due in the period", "count": 5}, {"measure": "Submitted on time", "count": 3},
        {"measure": "Submitted late", "count": 1}, {"measure": "Not yet submitted", "count": 1},
    ]
    assert rows(snap, "variations") == [
        {"kind": "Re-profile across years", "requested": 1, "approved": 0, "rejected": 0},
        {"kind": "Extension", "requested": 0, "approved": 1, "rejected": 0},
        {"kind": "Change of scope", "requested": 0, "approved": 0, "rejected": 0},
    ]
    assert rows(snap, "award_status") == [{"status": "Active", "awards": 1}, {"status": "Closed", "awards": 1}]


def test_the_process_bids_scores_and_decisions(world):
    snap = snapshot_of(world.report())
    # Call one: received 3 (the draft is not received), eligible 2 (funded and not funded),
    # funded 1 = 50.0%; scores 80 and 40: mean 60.0, funded 80.0, not funded 40.0.
    # Call two: 1, 1, 1, 100.0%, score 70.
    assert [(r["call"], r["received"], r["eligible"], r["funded"], r["rate"], r["mean_score"], r["funded_score"],
             r["unfunded_score"]) for r in rows(snap, "process_by_call")] == [
        ("Call one", 3, 2, 1, 50.0, 60.0, 80.0, 40.0),
        ("Call two", 1, 1, 1, 100.0, 70.0, 70.0, None),
    ]
    # Totals: 4 received, 3 eligible, 2 funded (66.7%); mean of 80, 40, 70 = 63.3; funded 75.0.
    assert total(snap, "process_by_call") == {
        "call": "Total", "purpose": "", "received": 4, "eligible": 3, "funded": 2, "rate": 66.7, "mean_score": 63.3,
        "funded_score": 75.0, "unfunded_score": 40.0,
    }
    decisions = {r["outcome"]: r for r in rows(snap, "decisions")}
    assert decisions["Fund"] == {"outcome": "Fund", "bids": 2, "above_line": 2, "departures": 0, "conditions": 0, "score": 75.0}
    assert decisions["Do not fund"]["bids"] == 1


def test_one_line_per_award_and_lessons_learned(world):
    snap = snapshot_of(world.report())
    assert rows(snap, "awards") == [
        {"reference": "TEST-X1", "title": world.x1.title, "recipient": "Trust A", "amount": "200000.00",
         "paid": "75000.00", "status": "Active",
         "headline": "Bed days avoided: 600 days against a target of 1,000 (baseline 0)"},
        {"reference": "TEST-X2", "title": world.x2.title, "recipient": "Trust B", "amount": "100000.00",
         "paid": "60000.00", "status": "Closed",
         "headline": "bed days avoided : 200 Days against a target of 500 (baseline 100)"},
    ]
    assert rows(snap, "lessons") == [
        {"reference": "TEST-X2", "recipient": "Trust B", "lessons": "Start recruiting early.",
         "sustained": "Yes, funded by ICB Q"},
    ]


def test_headline_figures(world):
    snap = snapshot_of(world.report())
    assert {item["key"]: item["value"] for item in snap["headline"]} == {
        "awards": 2, "awarded": "300000.00", "committed": "160000.00", "paid": "135000.00", "realised": "75000.00",
        "cashable": "70000.00", "roi": -44.4, "patients": 290, "organisations": 4,
    }
    assert snap["meta"]["period_label"] == "2025/26"
    assert snap["meta"]["data_cutoff"] == CUTOFF.isoformat()


def test_a_call_report_covers_only_the_calls_awards_and_leaves_the_shared_budget_out(world):
    snap = snapshot_of(world.report(scope=ReportScope.CALL, call=world.c1))
    assert [r["reference"] for r in rows(snap, "awards")] == ["TEST-X1"]
    # X1 alone: committed £100,000 in 2025/26, paid £75,000; the pot also funds call two.
    assert rows(snap, "money_by_year") == [
        {"year": "2025/26", "budget": None, "committed": "100000.00", "paid": "75000.00", "remaining": None},
    ]
    assert "also fund work outside this report's scope" in find_table(snap, "money_by_year")["note"]
    assert [r["call"] for r in rows(snap, "process_by_call")] == ["Call one"]


def test_a_network_report_covers_awards_made_in_its_area(world):
    snap = snapshot_of(world.report(scope=ReportScope.NETWORK, network=world.ldn))
    assert [r["reference"] for r in rows(snap, "awards")] == ["TEST-X2"]
    assert headline_value(snap, "patients") == 40


def test_a_pot_report_shows_the_pots_budget(world):
    snap = snapshot_of(world.report(scope=ReportScope.POT, pot=world.pot))
    assert rows(snap, "money_by_year")[0]["budget"] == "1000000.00"


def test_a_period_of_quarters_counts_only_returns_ending_in_it(world):
    # Q2 2025/26 only: r2 (X1, £45,000 cashable) is the only approved return ending in it.
    snap = snapshot_of(world.report(period_start=dt.date(2025, 7, 1), period_end=dt.date(2025, 9, 30)))
    assert snap["meta"]["period_label"] == "Q2 2025/26"
    assert snap["meta"]["granularity"] == "quarters"
    assert rows(snap, "savings_by_year")[0]["real_cash"] == "45000.00"
    assert [r["quarter"] for r in rows(snap, "payback_by_quarter")] == ["Q2 2025/26"]


def test_an_empty_fund_gives_a_report_of_zeros_not_an_error():
    from tests.factories.reporting import ImpactReportFactory

    report = ImpactReportFactory()
    snap = snapshot_of(report)
    assert headline_value(snap, "awards") == 0
    assert headline_value(snap, "roi") is None
    assert rows(snap, "awards") == []


@pytest.mark.parametrize(("start", "end", "label"), [
    (dt.date(2025, 4, 1), dt.date(2026, 3, 31), "2025/26"),
    (dt.date(2025, 4, 1), dt.date(2027, 3, 31), "2025/26 to 2026/27"),
    (dt.date(2025, 10, 1), dt.date(2026, 6, 30), "Q3 2025/26 to Q1 2026/27"),
    (dt.date(2025, 5, 3), dt.date(2025, 6, 30), "3 May 2025 to 30 June 2025"),
])
def test_period_labels(start, end, label):
    assert period_label(start, end) == label
