"""Issuing an award: one per decision, within the decision, a profile that totals the award
and fits its dates, committed against the pot without ever over-committing it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from assessment.models import DecisionOutcome
from awards import services
from awards.models import (
    Award,
    AwardStatus,
    DocumentStatus,
    Instalment,
    LedgerEntryKind,
    PotLedgerEntry,
)
from awards.selectors import award_profile, decisions_ready_for_award, pot_ledger, suggested_profile
from governance import fy
from governance.models import AuditEvent, Notification, PotBudget
from tests.awards.conftest import first_award_year, issue, messages_of

pytestmark = pytest.mark.django_db


def _ledger_committed(pot) -> dict[int, Decimal]:
    return {row.financial_year: row.committed for row in pot_ledger([pot.pk])}


def test_issuing_commits_the_profile_and_sets_up_conditions_schedule_and_letter(world, django_capture_on_commit_callbacks):
    y = first_award_year()
    world.decision.conditions = ["Commissioner agreement to sustain the service after the award"]
    world.decision.save()
    with django_capture_on_commit_callbacks(execute=True):
        award = issue(world, profile={y: Decimal("120000.00"), y + 1: Decimal("80000.00")})
    assert award.status == AwardStatus.OFFERED
    assert award.reference == world.decision.bid.reference
    assert award.grant_id.endswith(f"-{award.reference}")
    assert award.recipient == world.lead
    assert award_profile(award) == {y: Decimal("120000.00"), y + 1: Decimal("80000.00")}
    # The ledger holds one commit per year, and the pot shows it committed.
    commits = PotLedgerEntry.objects.filter(award=award, kind=LedgerEntryKind.COMMIT)
    assert {(e.financial_year, e.amount) for e in commits} == {(y, Decimal("120000.00")), (y + 1, Decimal("80000.00"))}
    committed = _ledger_committed(world.pot)
    assert committed[y] == Decimal("120000.00")
    assert committed[y - 1] == 0
    # The decision's conditions, to be met before the first payment.
    assert [(c.title, c.holds_back is not None) for c in award.conditions.all()] == [
        ("Commissioner agreement to sustain the service after the award", True)
    ]
    # Quarterly instalments that add up to each year; only the first needs no return.
    instalments = list(award.instalments.order_by("financial_year", "quarter"))
    assert [(i.financial_year, i.quarter) for i in instalments] == [(y, q) for q in (1, 2, 3, 4)] + [(y + 1, q) for q in (1, 2, 3, 4)]
    assert sum(i.amount for i in instalments if i.financial_year == y) == Decimal("120000.00")
    assert [i.requires_return for i in instalments] == [False] + [True] * 7
    # The letter was made by the task once the transaction committed.
    letter = award.letters.get()
    assert letter.status == DocumentStatus.READY
    assert letter.file.name.endswith(".pdf")
    assert AuditEvent.objects.filter(action="award.issued", target_id=str(award.pk), fund=world.fund).exists()
    assert Notification.objects.filter(user=world.signatory, subject__contains=award.reference).exists()
    assert not decisions_ready_for_award(world.manager).filter(pk=world.decision.pk).exists()


def test_the_suggested_profile_follows_the_bids_costs_and_totals_exactly(world):
    y = first_award_year()
    decision = world.new_decision(amount=Decimal("100000.00"), costs={y: Decimal("30000"), y + 1: Decimal("60000")})
    profile = suggested_profile(decision.bid, Decimal("100000.00"), [y, y + 1])
    assert profile == {y: Decimal("33333.33"), y + 1: Decimal("66666.67")}
    assert sum(profile.values()) == Decimal("100000.00")


def test_a_profile_that_does_not_total_the_amount_is_refused(world):
    y = first_award_year()
    with pytest.raises(ValidationError) as exc:
        issue(world, profile={y: Decimal("100000.00"), y + 1: Decimal("50000.00")})
    assert exc.value.message_dict["profile"] == [
        services.PROFILE_NOT_TOTAL % {"total": "£150,000.00", "amount": "£200,000.00"}
    ]
    assert not Award.objects.exists()
    assert not PotLedgerEntry.objects.exists()


def test_a_profile_with_money_in_a_year_outside_the_awards_dates_is_refused(world):
    y = first_award_year()
    with pytest.raises(ValidationError) as exc:
        issue(world, profile={y - 1: Decimal("50000.00"), y: Decimal("150000.00")})
    assert exc.value.message_dict["profile"] == [
        services.PROFILE_YEAR_OUTSIDE_DATES % {"year": fy.label(y - 1), "first": fy.label(y), "last": fy.label(y + 1)}
    ]
    assert not Award.objects.exists()


def test_an_award_cannot_end_after_the_funds_last_year(world):
    bid = world.decision.bid
    with pytest.raises(ValidationError) as exc:
        issue(world, end_date=bid.end_date + dt.timedelta(days=366))
    last = fy.FinancialYear(world.fund.last_year).end
    assert services.END_AFTER_FUND % {"last": last.strftime("%-d %B %Y")} in exc.value.message_dict["end_date"]


def test_an_award_above_the_decision_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        issue(world, amount=Decimal("200000.01"))
    assert exc.value.message_dict["amount"] == [services.AMOUNT_ABOVE_DECISION % {"approved": "£200,000.00"}]
    assert not Award.objects.exists()


def test_an_award_of_nothing_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        issue(world, amount=Decimal("0"), profile={})
    assert exc.value.message_dict["amount"] == [services.AMOUNT_NOT_POSITIVE]


def test_issuing_twice_for_one_decision_makes_one_award(world):
    first = issue(world)
    with pytest.raises(ValidationError) as exc:
        issue(world)
    assert messages_of(exc) == [services.ALREADY_ISSUED % {"reference": first.reference}]
    assert Award.objects.count() == 1
    assert PotLedgerEntry.objects.filter(kind=LedgerEntryKind.COMMIT).count() == 2


def test_only_a_released_decision_to_fund_becomes_an_award(world):
    not_funded = world.new_decision(outcome=DecisionOutcome.NOT_FUND)
    with pytest.raises(ValidationError) as exc:
        issue(world, decision=not_funded)
    assert messages_of(exc) == [services.DECISION_NOT_FUNDED]
    unreleased = world.new_decision(released_at=None)
    with pytest.raises(ValidationError) as exc:
        issue(world, decision=unreleased)
    assert messages_of(exc) == [services.DECISION_NOT_RELEASED]
    future = world.new_decision(released_at=timezone.now() + dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        issue(world, decision=future)
    assert not Award.objects.exists()


def test_a_pot_is_never_over_committed(world):
    y = first_award_year()
    PotBudget.objects.filter(pot=world.pot, financial_year=y).update(amount=Decimal("150000.00"))
    issue(world, profile={y: Decimal("100000.00"), y + 1: Decimal("100000.00")})
    second = world.new_decision()
    with pytest.raises(ValidationError) as exc:
        issue(world, decision=second, profile={y: Decimal("60000.00"), y + 1: Decimal("140000.00")})
    assert exc.value.message_dict["profile"] == [services.POT_OVERCOMMITTED % {
        "pot": world.pot.name, "year": fy.label(y), "remaining": "£50,000.00", "needed": "£60,000.00",
    }]
    assert not Award.objects.filter(decision=second).exists()
    # Exactly the last of the money is fine.
    award = issue(world, decision=second, profile={y: Decimal("50000.00"), y + 1: Decimal("150000.00")})
    assert _ledger_committed(world.pot)[y] == Decimal("150000.00")
    assert award.status == AwardStatus.OFFERED


def test_a_year_without_a_budget_cannot_hold_money(world):
    y = first_award_year()
    PotBudget.objects.filter(pot=world.pot, financial_year=y + 1).delete()
    with pytest.raises(ValidationError) as exc:
        issue(world)
    assert exc.value.message_dict["profile"] == [services.POT_HAS_NO_BUDGET % {"pot": world.pot.name, "year": fy.label(y + 1)}]


def test_the_offer_deadline_must_be_in_the_future_and_dates_in_order(world):
    bid = world.decision.bid
    with pytest.raises(ValidationError) as exc:
        issue(world, offer_deadline=timezone.localdate(), end_date=bid.start_date)
    errors = exc.value.message_dict
    assert errors["offer_deadline"] == [services.OFFER_DEADLINE_PAST]
    assert services.DATES_OUT_OF_ORDER in errors["end_date"]


def test_conditions_can_be_picked_from_templates_and_added(world):
    award = issue(world, conditions=[
        services.ConditionSpec("Data protection impact assessment (DPIA) completed", "Signed off by the DPO.", True),
        services.ConditionSpec("NICE or other evidence of effectiveness", "", False),
    ])
    assert [(c.title, c.holds_back is not None) for c in award.conditions.all()] == [
        ("Data protection impact assessment (DPIA) completed", True), ("NICE or other evidence of effectiveness", False),
    ]


def test_instalments_split_each_year_over_the_quarters_in_the_award(world):
    y = first_award_year()
    bid = world.decision.bid
    # Starting in August: the first year has Q2 to Q4 only.
    award = issue(world, start_date=dt.date(y, 8, 1), end_date=bid.end_date,
                  profile={y: Decimal("100000.00"), y + 1: Decimal("100000.00")})
    first_year = list(Instalment.objects.filter(award=award, financial_year=y).order_by("quarter"))
    assert [(i.quarter, i.amount) for i in first_year] == [
        (2, Decimal("33333.33")), (3, Decimal("33333.33")), (4, Decimal("33333.34"))
    ]


def test_a_funder_without_its_official_org_id_issues_no_award_and_is_told_why(world):
    network = world.fund.host_network
    network.official_org_id = ""
    network.save()
    with pytest.raises(ValidationError) as caught:
        issue(world)
    assert messages_of(caught) == [services.FUNDER_ORG_ID_MISSING % {"network": network.name}]
    assert not Award.objects.exists()
    network.official_org_id = "GB-COH-08989931"
    network.save()
    assert issue(world).status == AwardStatus.OFFERED
