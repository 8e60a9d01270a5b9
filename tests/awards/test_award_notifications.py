"""Catalogue messages to grantees: the award starts, an instalment is released and paid, a
condition is met: each once, in the person's chosen way, in the fund's wording."""

import pytest

from awards import services
from governance.models import Notification, User
from tests.notification_checks import assert_sent_once, reword

from .conftest import accept, issue, pdf_upload

pytestmark = pytest.mark.django_db


def test_the_grantee_hears_of_start_conditions_and_payments_once_each(world):
    world.member.notification_delivery = User.DELIVERY_DIGEST
    world.member.save()
    for key in ("award_started", "condition_met", "instalment_released", "instalment_paid"):
        reword(world.fund, key)
    world.decision.conditions = ["Data protection impact assessment (DPIA) completed"]
    world.decision.save()
    award = accept(world, issue(world))
    conditions = list(award.conditions.filter(holds_back__isnull=False))
    assert conditions
    for condition in conditions:
        services.condition_evidence_submit(actor=world.member, condition=condition, upload=pdf_upload())
        services.condition_sign_off(actor=world.manager, condition=condition)
    award = services.award_activate(actor=world.manager, award=award)
    assert_sent_once("award_started", world.signatory, marker="FUND WORDING")
    assert Notification.objects.filter(kind="condition_met", user=world.signatory).count() == len(conditions)
    instalment = award.instalments.order_by("financial_year", "quarter").first()
    services.instalment_release(actor=world.manager, instalment=instalment)
    services.instalment_mark_paid(actor=world.manager, instalment=instalment, reference="AP-2026-000101")
    assert_sent_once("instalment_released", world.signatory, marker="FUND WORDING")
    paid = assert_sent_once("instalment_paid", world.signatory, marker="FUND WORDING")
    assert award.reference in paid.body
    # Not the outsider (another organisation) nor the other fund manager.
    assert not Notification.objects.filter(user__in=[world.outsider, world.other_manager],
                                           kind__in=["award_started", "instalment_paid"]).exists()


def test_a_condition_signed_off_as_met_is_told_once_in_the_digest(world):
    world.signatory.notification_delivery = User.DELIVERY_DIGEST
    world.signatory.save()
    reword(world.fund, "condition_met")
    world.decision.conditions = ["Data protection impact assessment (DPIA) completed"]
    world.decision.save()
    award = accept(world, issue(world))
    condition = award.conditions.get()
    services.condition_evidence_submit(actor=world.member, condition=condition, upload=pdf_upload())
    services.condition_sign_off(actor=world.manager, condition=condition)
    note = assert_sent_once("condition_met", world.signatory, digest=True, marker="FUND WORDING")
    assert condition.title in note.body
