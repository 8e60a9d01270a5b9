"""Conditions (evidence, sign-off, waiver) and payments (release against approved returns,
marked paid with a ledger entry)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from awards import services
from awards.models import (
    ConditionStatus,
    ConditionTemplate,
    InstalmentStatus,
    LedgerEntryKind,
    PotLedgerEntry,
)
from awards.selectors import award_money_by_year, award_paid_to_date, manager_to_do, pot_ledger
from governance.models import AuditEvent
from reporting.models import ReturnStatus
from tests.awards.conftest import (
    PDF_BYTES,
    accept,
    accept_and_start,
    first_award_year,
    issue,
    messages_of,
    pdf_upload,
)
from tests.factories.reporting import MonitoringReturnFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conditioned(world):
    world.decision.conditions = ["Data protection impact assessment (DPIA) completed"]
    world.decision.save()
    award = accept(world, issue(world))
    return award, award.conditions.get()


def test_evidence_is_stored_through_default_storage_and_checked_by_content(world, conditioned):
    award, condition = conditioned
    condition = services.condition_evidence_submit(actor=world.member, condition=condition,
                                                   upload=pdf_upload("signed DPIA.pdf"), note="Signed by the DPO")
    assert condition.status == ConditionStatus.EVIDENCE_SUBMITTED
    assert condition.evidence_name == "signed DPIA.pdf"
    assert condition.evidence_content_type == "application/pdf"
    assert condition.evidence_size == len(PDF_BYTES)
    assert "DPIA" not in condition.evidence.name  # the stored name never uses the uploader's
    assert default_storage.exists(condition.evidence.name)
    with default_storage.open(condition.evidence.name) as stored:
        assert stored.read() == PDF_BYTES


def test_a_file_that_only_claims_to_be_a_pdf_is_refused(world, conditioned):
    _, condition = conditioned
    fake = pdf_upload("report.pdf", b"MZ\x90\x00 this is really a program, not a PDF")
    with pytest.raises(ValidationError) as exc:
        services.condition_evidence_submit(actor=world.member, condition=condition, upload=fake)
    assert exc.value.message_dict["file"] == [services.EVIDENCE_WRONG_TYPE]
    condition.refresh_from_db()
    assert condition.status == ConditionStatus.OPEN
    assert not condition.evidence


def test_a_file_over_ten_megabytes_is_refused(world, conditioned, settings):
    _, condition = conditioned
    big = pdf_upload("big.pdf", PDF_BYTES + b"0" * (settings.MAX_UPLOAD_BYTES + 1))
    with pytest.raises(ValidationError) as exc:
        services.condition_evidence_submit(actor=world.member, condition=condition, upload=big)
    assert exc.value.message_dict["file"] == [services.EVIDENCE_TOO_LARGE]


def test_only_members_of_the_recipient_send_evidence(world, conditioned):
    _, condition = conditioned
    with pytest.raises(ValidationError) as exc:
        services.condition_evidence_submit(actor=world.outsider, condition=condition, upload=pdf_upload())
    assert messages_of(exc) == [services.NOT_RECIPIENT % {"organisation": world.lead.name}]


def test_sign_off_needs_evidence_and_sending_back_needs_a_note(world, conditioned):
    _, condition = conditioned
    with pytest.raises(ValidationError) as exc:
        services.condition_sign_off(actor=world.manager, condition=condition)
    assert messages_of(exc) == [services.NO_EVIDENCE_TO_SIGN_OFF]
    services.condition_evidence_submit(actor=world.member, condition=condition, upload=pdf_upload())
    with pytest.raises(ValidationError) as exc:
        services.condition_return(actor=world.manager, condition=condition, note="")
    assert exc.value.message_dict["note"] == [services.NOTE_MISSING]
    condition = services.condition_return(actor=world.manager, condition=condition, note="Unsigned copy: send the signed one.")
    assert condition.status == ConditionStatus.OPEN
    services.condition_evidence_submit(actor=world.member, condition=condition, upload=pdf_upload())
    condition = services.condition_sign_off(actor=world.manager, condition=condition, note="Thank you.")
    assert condition.status == ConditionStatus.MET
    assert condition.signed_off_by == world.manager
    with pytest.raises(ValidationError):
        services.condition_waive(actor=world.manager, condition=condition, note="Too late")
    actions = list(AuditEvent.objects.filter(target_type="awards.awardcondition").order_by("pk").values_list("action", flat=True))
    assert actions == ["condition.evidence_submitted", "condition.returned", "condition.evidence_submitted", "condition.met"]


def test_fund_managers_add_standard_conditions_for_their_fund(world):
    template = services.condition_template_create(actor=world.manager, fund=world.fund, title="Local clinical safety sign-off",
                                                  description="Signed by the CSO.", for_digital=True)
    assert template.fund == world.fund
    with pytest.raises(ValidationError) as exc:
        services.condition_template_create(actor=world.manager, fund=world.fund, title="local clinical safety SIGN-OFF",
                                           description="Again")
    assert exc.value.message_dict["title"] == [services.TEMPLATE_TITLE_TAKEN]
    assert ConditionTemplate.objects.filter(fund=world.fund).count() == 1


# Payments ----------------------------------------------------------------------------------


def _instalments(award):
    return list(award.instalments.order_by("financial_year", "quarter"))


def test_payments_wait_until_pre_start_conditions_are_met(world, conditioned):
    award, condition = conditioned
    # Even an active award cannot pay while a pre-start condition is open (waived, then reopened here by data).
    services.condition_waive(actor=world.manager, condition=condition, note="Waived to start")
    award = services.award_activate(actor=world.manager, award=award)
    type(condition).objects.filter(pk=condition.pk).update(status=ConditionStatus.OPEN)
    first = _instalments(award)[0]
    with pytest.raises(ValidationError) as exc:
        services.instalment_release(actor=world.manager, instalment=first)
    assert messages_of(exc) == [services.CONDITIONS_HOLD_BACK % {
        "count": 1, "plural": "", "titles": f"\u201c{condition.title}\u201d"}]
    first.refresh_from_db()
    assert first.status == InstalmentStatus.SCHEDULED


def test_the_first_instalment_is_released_and_paid_without_a_return(world):
    award = accept_and_start(world, issue(world))
    first = _instalments(award)[0]
    assert manager_to_do(world.manager).instalments_to_release == 1
    first = services.instalment_release(actor=world.manager, instalment=first)
    assert first.status == InstalmentStatus.RELEASED
    assert first.released_by == world.manager
    first = services.instalment_mark_paid(actor=world.manager, instalment=first, reference="AP-TEST-1")
    assert first.status == InstalmentStatus.PAID
    payment = PotLedgerEntry.objects.get(award=award, kind=LedgerEntryKind.PAYMENT)
    assert (payment.financial_year, payment.amount) == (first.financial_year, first.amount)
    assert award_paid_to_date(award) == Decimal("25000.00")
    year = next(row for row in award_money_by_year(award) if row.financial_year == first.financial_year)
    assert (year.paid, year.outstanding) == (Decimal("25000.00"), Decimal("75000.00"))
    row = next(r for r in pot_ledger([world.pot.pk]) if r.financial_year == first.financial_year)
    assert (row.paid, row.outstanding) == (Decimal("25000.00"), Decimal("75000.00"))
    with pytest.raises(ValidationError) as exc:
        services.instalment_mark_paid(actor=world.manager, instalment=first, reference="AP-TEST-1")
    assert messages_of(exc) == [services.INSTALMENT_NOT_RELEASED % {"status": "paid"}]
    assert PotLedgerEntry.objects.filter(award=award, kind=LedgerEntryKind.PAYMENT).count() == 1


def test_an_instalment_waits_for_its_return_to_be_approved(world):
    award = accept_and_start(world, issue(world))
    second = _instalments(award)[1]
    with pytest.raises(ValidationError) as exc:
        services.instalment_release(actor=world.manager, instalment=second)
    assert messages_of(exc) == [services.RETURN_NOT_LINKED]
    monitoring_return = MonitoringReturnFactory(award=award, instalment=second, status=ReturnStatus.SUBMITTED)
    with pytest.raises(ValidationError) as exc:
        services.instalment_release(actor=world.manager, instalment=second)
    assert messages_of(exc) == [services.RETURN_NOT_APPROVED % {"status": "submitted, awaiting review"}]
    second.refresh_from_db()
    assert second.status == InstalmentStatus.SCHEDULED
    assert not PotLedgerEntry.objects.filter(kind=LedgerEntryKind.PAYMENT).exists()
    monitoring_return.status = ReturnStatus.APPROVED
    monitoring_return.save()
    second = services.instalment_release(actor=world.manager, instalment=second)
    services.instalment_mark_paid(actor=world.manager, instalment=second, reference="AP-TEST-1")
    assert award_paid_to_date(award) == second.amount


def test_no_payments_while_an_award_is_suspended(world):
    award = accept_and_start(world, issue(world))
    first = services.instalment_release(actor=world.manager, instalment=_instalments(award)[0])
    services.award_suspend(actor=world.manager, award=award, reason="Paused")
    with pytest.raises(ValidationError) as exc:
        services.instalment_mark_paid(actor=world.manager, instalment=first, reference="AP-TEST-1")
    assert messages_of(exc) == [services.AWARD_NOT_ACTIVE % {"status": "suspended"}]


def test_a_payment_can_never_exceed_the_years_commitment(world):
    y = first_award_year()
    award = accept_and_start(world, issue(world))
    first = services.instalment_release(actor=world.manager, instalment=_instalments(award)[0])
    # Tamper with the instalment so it would overpay the year; the ledger check refuses it.
    type(first).objects.filter(pk=first.pk).update(amount=Decimal("100000.01"))
    first.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        services.instalment_mark_paid(actor=world.manager, instalment=first, reference="AP-TEST-1")
    assert exc.value.code == "above_commitment"
    type(first).objects.filter(pk=first.pk).update(amount=Decimal("25000.00"))
    assert award_money_by_year(award)[0].financial_year == y
