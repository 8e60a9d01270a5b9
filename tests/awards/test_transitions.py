"""Award states: offered, accepted, active, suspended, closed, withdrawn, declined, lapsed.
One service per transition; ending an award releases its unpaid money to the pot."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from awards import services, tasks
from awards.models import (
    Award,
    AwardStatus,
    ConditionStatus,
    InstalmentStatus,
    LedgerEntryKind,
    PotLedgerEntry,
)
from awards.selectors import award_paid_to_date, pot_ledger
from governance.models import AuditEvent
from tests.awards.conftest import (
    accept,
    accept_and_start,
    first_award_year,
    issue,
    letter_ready,
    messages_of,
    pdf_upload,
)

pytestmark = pytest.mark.django_db


def _remaining(world, year):
    return next(row.remaining for row in pot_ledger([world.pot.pk]) if row.financial_year == year)


def test_the_authorised_signatory_accepts_the_offer_once_its_letter_is_ready(world):
    award = issue(world)
    # The letter is still being made: nothing to read, so nothing to accept yet.
    with pytest.raises(ValidationError) as exc:
        services.award_accept(actor=world.signatory, award=award)
    assert messages_of(exc) == [services.OFFER_LETTER_NOT_READY]
    award.refresh_from_db()
    assert award.status == AwardStatus.OFFERED
    award = services.award_accept(actor=world.signatory, award=letter_ready(award))
    assert award.status == AwardStatus.ACCEPTED
    assert award.accepted_by == world.signatory
    event = AuditEvent.objects.get(action="award.accepted", target_id=str(award.pk), actor=world.signatory)
    assert event.after["letter_version"] == 1


def test_an_offer_whose_terms_changed_waits_for_its_new_letter(world):
    award = letter_ready(issue(world))
    services.award_return_frequency_set(actor=world.manager, award=award, months=6)  # version 2 is being made
    with pytest.raises(ValidationError) as exc:
        services.award_accept(actor=world.signatory, award=award)
    assert messages_of(exc) == [services.OFFER_LETTER_NOT_READY]
    award = services.award_accept(actor=world.signatory, award=letter_ready(award))
    assert AuditEvent.objects.get(action="award.accepted", target_id=str(award.pk)).after["letter_version"] == 2


@pytest.mark.parametrize("who", ["member", "outsider", "manager"])
def test_only_the_recipients_authorised_signatory_may_accept_or_decline(world, who):
    award = issue(world)
    with pytest.raises(ValidationError) as exc:
        services.award_accept(actor=getattr(world, who), award=award)
    assert messages_of(exc) == [services.NOT_SIGNATORY % {"organisation": world.lead.name}]
    with pytest.raises(ValidationError):
        services.award_decline(actor=getattr(world, who), award=award, reason="No")
    award.refresh_from_db()
    assert award.status == AwardStatus.OFFERED


def test_an_offer_cannot_be_accepted_after_its_deadline(world):
    award = issue(world)
    Award.objects.filter(pk=award.pk).update(offer_deadline=timezone.localdate() - dt.timedelta(days=1))
    with pytest.raises(ValidationError) as exc:
        services.award_accept(actor=world.signatory, award=award)
    assert messages_of(exc) == [services.OFFER_EXPIRED]


def test_declining_releases_the_whole_commitment(world):
    y = first_award_year()
    award = issue(world)
    before = _remaining(world, y)
    with pytest.raises(ValidationError) as exc:
        services.award_decline(actor=world.signatory, award=award, reason="  ")
    assert exc.value.message_dict["reason"] == [services.DECLINE_REASON_MISSING]
    award = services.award_decline(actor=world.signatory, award=award, reason="Funded locally instead.")
    assert award.status == AwardStatus.DECLINED
    assert award.status_reason == "Funded locally instead."
    assert _remaining(world, y) == before + Decimal("100000.00")
    assert set(award.instalments.values_list("status", flat=True)) == {InstalmentStatus.CANCELLED}
    # An ended award takes no further steps.
    with pytest.raises(ValidationError):
        services.award_accept(actor=world.signatory, award=award)


def test_offers_past_their_deadline_lapse_once_and_release_their_money(world):
    y = first_award_year()
    late = issue(world)
    on_time = issue(world, decision=world.new_decision())
    Award.objects.filter(pk=late.pk).update(offer_deadline=timezone.localdate() - dt.timedelta(days=1))
    assert tasks.lapse_overdue_offers() == 1
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert late.status == AwardStatus.LAPSED
    assert on_time.status == AwardStatus.OFFERED
    releases = PotLedgerEntry.objects.filter(award=late, kind=LedgerEntryKind.RELEASE)
    assert sum(e.amount for e in releases) == late.amount
    # Running again changes nothing: no second release.
    assert tasks.lapse_overdue_offers() == 0
    assert services.award_lapse(award=late) is False
    assert PotLedgerEntry.objects.filter(award=late, kind=LedgerEntryKind.RELEASE).count() == releases.count()
    assert _remaining(world, y) == Decimal("1000000.00") - Decimal("100000.00")
    assert AuditEvent.objects.filter(action="award.lapsed", actor__isnull=True).count() == 1


def test_an_accepted_award_starts_only_when_its_pre_start_conditions_are_met_or_waived(world):
    world.decision.conditions = ["DPIA completed", "Clinical safety case"]
    world.decision.save()
    award = accept(world, issue(world))
    with pytest.raises(ValidationError) as exc:
        services.award_activate(actor=world.manager, award=award)
    assert messages_of(exc) == [services.PRESTART_CONDITIONS_OPEN]
    first, second = award.conditions.all()
    services.condition_evidence_submit(actor=world.member, condition=first, upload=pdf_upload())
    services.condition_sign_off(actor=world.manager, condition=first)
    services.condition_waive(actor=world.manager, condition=second, note="Covered by the supplier's case.")
    award = services.award_activate(actor=world.manager, award=award)
    assert award.status == AwardStatus.ACTIVE
    assert list(award.conditions.values_list("status", flat=True)) == [ConditionStatus.MET, ConditionStatus.WAIVED]


def test_suspend_and_resume_need_the_right_state_and_a_reason(world):
    award = accept_and_start(world, issue(world))
    with pytest.raises(ValidationError) as exc:
        services.award_suspend(actor=world.manager, award=award, reason="")
    assert exc.value.message_dict["reason"] == [services.REASON_MISSING]
    award = services.award_suspend(actor=world.manager, award=award, reason="Data-sharing agreement lapsed.")
    assert award.status == AwardStatus.SUSPENDED
    with pytest.raises(ValidationError) as exc:
        services.award_suspend(actor=world.manager, award=award, reason="Again")
    assert messages_of(exc) == [services.TRANSITION_NOT_ALLOWED % {"status": "suspended", "action": "suspended"}]
    award = services.award_resume(actor=world.manager, award=award)
    assert award.status == AwardStatus.ACTIVE
    assert AuditEvent.objects.filter(target_id=str(award.pk), action__in=["award.suspended", "award.resumed"]).count() == 2


def test_withdrawal_releases_everything_unpaid_and_keeps_what_was_paid(world):
    y = first_award_year()
    award = accept_and_start(world, issue(world))
    first = award.instalments.order_by("financial_year", "quarter").first()
    services.instalment_release(actor=world.manager, instalment=first)
    services.instalment_mark_paid(actor=world.manager, instalment=first, reference="AP-TEST-1")
    with pytest.raises(ValidationError):
        services.award_withdraw(actor=world.manager, award=award, reason="")
    award = services.award_withdraw(actor=world.manager, award=award, reason="Project cannot go ahead.")
    assert award.status == AwardStatus.WITHDRAWN
    assert award_paid_to_date(award) == first.amount
    released = sum(PotLedgerEntry.objects.filter(award=award, kind=LedgerEntryKind.RELEASE).values_list("amount", flat=True))
    assert released == award.amount - first.amount
    row = next(r for r in pot_ledger([world.pot.pk]) if r.financial_year == y)
    assert row.committed == row.paid == first.amount


def test_closing_releases_the_underspend_but_not_before_released_instalments_are_paid(world):
    award = accept_and_start(world, issue(world))
    first = award.instalments.order_by("financial_year", "quarter").first()
    services.instalment_release(actor=world.manager, instalment=first)
    with pytest.raises(ValidationError) as exc:
        services.award_close(actor=world.manager, award=award)
    assert messages_of(exc) == [services.RELEASED_NOT_PAID]
    services.instalment_mark_paid(actor=world.manager, instalment=first, reference="AP-TEST-1")
    award = services.award_close(actor=world.manager, award=award, reason="Project finished early.")
    assert award.status == AwardStatus.CLOSED
    assert award.closed_at is not None
    released = sum(PotLedgerEntry.objects.filter(award=award, kind=LedgerEntryKind.RELEASE).values_list("amount", flat=True))
    assert released == award.amount - first.amount
    assert AuditEvent.objects.get(action="award.closed", target_id=str(award.pk)).after["released"] == str(released)


@pytest.mark.parametrize(
    ("service", "kwargs"),
    [
        (services.award_activate, {}),
        (services.award_resume, {}),
        (services.award_close, {}),
        (services.award_suspend, {"reason": "x"}),
    ],
)
def test_transitions_from_the_wrong_state_are_refused(world, service, kwargs):
    award = issue(world)  # offered
    with pytest.raises(ValidationError) as exc:
        service(actor=world.manager, award=award, **kwargs)
    assert exc.value.code == "transition_not_allowed"
    award.refresh_from_db()
    assert award.status == AwardStatus.OFFERED
