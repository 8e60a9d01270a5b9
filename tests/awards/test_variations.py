"""Variations: re-profile, extension, change of scope. Approval moves commitments between
years under the pot's row locks, only if every year stays within budget."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from awards import services
from awards.models import (
    InstalmentStatus,
    LedgerEntryKind,
    PotLedgerEntry,
    VariationKind,
    VariationStatus,
)
from awards.selectors import award_profile, pot_ledger
from governance import fy
from governance.models import AuditEvent, PotBudget
from tests.awards.conftest import accept, accept_and_start, first_award_year, issue, messages_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def active(world):
    return accept_and_start(world, issue(world))


def _committed(world) -> dict[int, Decimal]:
    return {row.financial_year: row.committed for row in pot_ledger([world.pot.pk])}


def _year_instalments(award, year):
    return [i for i in award.instalments.order_by("quarter") if i.financial_year == year and i.status != InstalmentStatus.CANCELLED]


def test_an_approved_re_profile_moves_commitments_and_the_schedule_follows(world, active):
    y = first_award_year()
    variation = services.variation_request(
        actor=world.member, award=active, kind=VariationKind.REPROFILE, reasons="Recruitment slipped a year.",
        proposed_profile={y: Decimal("60000.00"), y + 1: Decimal("140000.00")},
    )
    assert variation.status == VariationStatus.REQUESTED
    assert award_profile(active) == {y: Decimal("100000.00"), y + 1: Decimal("100000.00")}  # nothing moves yet
    variation = services.variation_approve(actor=world.manager, variation=variation, note="Agreed.")
    assert variation.status == VariationStatus.APPROVED
    assert variation.previous_profile == {str(y): "100000.00", str(y + 1): "100000.00"}
    assert award_profile(active) == {y: Decimal("60000.00"), y + 1: Decimal("140000.00")}
    assert _committed(world)[y] == Decimal("60000.00")
    assert _committed(world)[y + 1] == Decimal("140000.00")
    entries = PotLedgerEntry.objects.filter(award=active).exclude(note="Award issued")
    assert {(e.kind, e.financial_year, e.amount) for e in entries} == {
        (LedgerEntryKind.RELEASE, y, Decimal("40000.00")), (LedgerEntryKind.COMMIT, y + 1, Decimal("40000.00")),
    }
    assert sum(i.amount for i in _year_instalments(active, y + 1)) == Decimal("140000.00")
    assert AuditEvent.objects.filter(action="award.varied", target_id=str(active.pk)).exists()


def test_a_variation_that_would_overspend_a_year_is_refused_and_nothing_moves(world, active):
    y = first_award_year()
    # Another award takes most of the next year's money.
    PotBudget.objects.filter(pot=world.pot, financial_year=y + 1).update(amount=Decimal("300000.00"))
    issue(world, decision=world.new_decision(), profile={y: Decimal("30000.00"), y + 1: Decimal("170000.00")})
    variation = services.variation_request(
        actor=world.member, award=active, kind=VariationKind.REPROFILE, reasons="Move money later.",
        proposed_profile={y: Decimal("50000.00"), y + 1: Decimal("150000.00")},
    )
    before = _committed(world)
    with pytest.raises(ValidationError) as exc:
        services.variation_approve(actor=world.manager, variation=variation)
    assert exc.value.message_dict["decision"] == [services.VARIATION_OVERSPENDS % {
        "pot": world.pot.name, "year": fy.label(y + 1), "remaining": "£30,000.00", "needed": "£50,000.00",
    }]
    variation.refresh_from_db()
    assert variation.status == VariationStatus.REQUESTED
    assert _committed(world) == before
    assert award_profile(active) == {y: Decimal("100000.00"), y + 1: Decimal("100000.00")}


def test_a_year_cannot_go_below_what_has_been_released_or_paid_in_it(world, active):
    y = first_award_year()
    first = active.instalments.order_by("financial_year", "quarter").first()
    services.instalment_release(actor=world.manager, instalment=first)
    services.instalment_mark_paid(actor=world.manager, instalment=first, reference="AP-TEST-1")
    with pytest.raises(ValidationError) as exc:
        services.variation_request(
            actor=world.member, award=active, kind=VariationKind.REPROFILE, reasons="Move everything later.",
            proposed_profile={y: Decimal("10000.00"), y + 1: Decimal("190000.00")},
        )
    assert exc.value.message_dict["profile"] == [
        services.VARIATION_BELOW_PAID % {"year": fy.label(y), "fixed": "£25,000.00"}
    ]


def test_a_re_profile_must_still_total_the_award_and_change_something(world, active):
    y = first_award_year()
    with pytest.raises(ValidationError) as exc:
        services.variation_request(actor=world.member, award=active, kind=VariationKind.REPROFILE, reasons="More",
                                   proposed_profile={y: Decimal("100000.00"), y + 1: Decimal("150000.00")})
    assert exc.value.message_dict["profile"] == [services.PROFILE_NOT_TOTAL % {"total": "£250,000.00", "amount": "£200,000.00"}]
    with pytest.raises(ValidationError) as exc:
        services.variation_request(actor=world.member, award=active, kind=VariationKind.REPROFILE, reasons="Same",
                                   proposed_profile=award_profile(active))
    assert exc.value.message_dict["profile"] == [services.VARIATION_NO_CHANGE]


def test_an_extension_moves_the_end_date_and_adds_quarters_to_the_schedule(world):
    y = first_award_year()
    bid = world.decision.bid
    award = accept_and_start(world, issue(world, end_date=dt.date(y + 1, 9, 30),
                                            profile={y: Decimal("100000.00"), y + 1: Decimal("100000.00")}))
    assert len(_year_instalments(award, y + 1)) == 2
    with pytest.raises(ValidationError) as exc:
        services.variation_request(actor=world.member, award=award, kind=VariationKind.EXTENSION, reasons="Later",
                                   proposed_end_date=award.end_date)
    assert exc.value.message_dict["proposed_end_date"] == [
        services.VARIATION_END_NOT_LATER % {"current": award.end_date.strftime("%-d %B %Y")}
    ]
    variation = services.variation_request(actor=world.member, award=award, kind=VariationKind.EXTENSION,
                                           reasons="Recruitment took longer.", proposed_end_date=bid.end_date)
    services.variation_approve(actor=world.manager, variation=variation)
    award.refresh_from_db()
    assert award.end_date == bid.end_date
    variation.refresh_from_db()
    assert variation.previous_end_date == dt.date(y + 1, 9, 30)
    next_year = _year_instalments(award, y + 1)
    assert [i.quarter for i in next_year] == [1, 2, 3, 4]
    assert sum(i.amount for i in next_year) == Decimal("100000.00")


def test_a_change_of_scope_updates_the_description_when_approved(world, active):
    with pytest.raises(ValidationError) as exc:
        services.variation_request(actor=world.member, award=active, kind=VariationKind.SCOPE, reasons="Wider")
    assert exc.value.message_dict["proposed_scope"] == [services.VARIATION_SCOPE_MISSING]
    variation = services.variation_request(actor=world.member, award=active, kind=VariationKind.SCOPE,
                                           reasons="Two more practices want to join.", proposed_scope="Eight practices, not six.")
    services.variation_approve(actor=world.manager, variation=variation)
    active.refresh_from_db()
    assert active.description == "Eight practices, not six."


def test_rejection_needs_a_note_and_only_one_request_is_open_at_a_time(world, active):
    y = first_award_year()
    variation = services.variation_request(actor=world.member, award=active, kind=VariationKind.REPROFILE, reasons="Slip",
                                           proposed_profile={y: Decimal("90000.00"), y + 1: Decimal("110000.00")})
    with pytest.raises(ValidationError) as exc:
        services.variation_request(actor=world.member, award=active, kind=VariationKind.SCOPE, reasons="x", proposed_scope="y")
    assert messages_of(exc) == [services.VARIATION_ALREADY_OPEN]
    with pytest.raises(ValidationError) as exc:
        services.variation_reject(actor=world.manager, variation=variation, note=" ")
    assert exc.value.message_dict["note"] == [services.REJECTION_NOTE_MISSING]
    variation = services.variation_reject(actor=world.manager, variation=variation, note="Keep to the plan.")
    assert variation.status == VariationStatus.REJECTED
    with pytest.raises(ValidationError) as exc:
        services.variation_approve(actor=world.manager, variation=variation)
    assert messages_of(exc) == [services.VARIATION_DECIDED % {"status": "rejected"}]
    assert award_profile(active) == {y: Decimal("100000.00"), y + 1: Decimal("100000.00")}
    # History is kept: both decisions stay on the award.
    services.variation_request(actor=world.member, award=active, kind=VariationKind.SCOPE, reasons="x", proposed_scope="y")
    assert active.variations.count() == 2


def test_only_the_grantee_asks_and_only_for_a_live_award(world):
    award = issue(world)  # offered, not yet accepted
    with pytest.raises(ValidationError) as exc:
        services.variation_request(actor=world.member, award=award, kind=VariationKind.SCOPE, reasons="x", proposed_scope="y")
    assert messages_of(exc) == [services.VARIATION_NOT_ALLOWED % {"status": "offered"}]
    award = accept(world, award)
    with pytest.raises(ValidationError) as exc:
        services.variation_request(actor=world.outsider, award=award, kind=VariationKind.SCOPE, reasons="x", proposed_scope="y")
    assert messages_of(exc) == [services.NOT_RECIPIENT % {"organisation": world.lead.name}]
