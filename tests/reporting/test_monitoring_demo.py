"""The demo's monitoring returns: several quarters, approved, submitted, sent back and overdue,
consistent with the awards demo's payments, made through the services, and idempotent."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from awards.models import Instalment, InstalmentStatus
from governance.models import AuditEvent
from reporting.demo import LATEST
from reporting.models import MonitoringReturn, ReminderSent, ReturnStatus

pytestmark = pytest.mark.django_db


def test_the_demo():
    """One seeding (it takes a while) checked for everything; then seeded again, nothing changes."""
    call_command("seed_demo", verbosity=0)
    _returns_in_every_state_over_several_quarters()
    _returns_match_the_payments()
    _submissions_and_reviews_went_through_the_services()
    _idempotent_and_keeps_its_keys()


def _returns_in_every_state_over_several_quarters():
    today = timezone.localdate()
    statuses = set(MonitoringReturn.objects.values_list("status", flat=True))
    assert statuses == set(ReturnStatus.values)
    assert MonitoringReturn.objects.filter(status=ReturnStatus.OPEN, due_date__lt=today).exists()  # overdue
    returned = MonitoringReturn.objects.get(status=ReturnStatus.RETURNED)
    assert returned.review_comments
    final = MonitoringReturn.objects.get(is_final=True, status=ReturnStatus.APPROVED)
    assert final.lessons_learned
    assert final.will_be_sustained is True
    for award_id in MonitoringReturn.objects.values_list("award", flat=True).distinct():
        assert MonitoringReturn.objects.filter(award_id=award_id, period_end__lt=today).count() >= 2
    # The demo applicant has a return to file, and a draft started ahead of its period's end.
    assert MonitoringReturn.objects.filter(status=ReturnStatus.OPEN, award__recipient__ods_code="RH8").exists()
    assert MonitoringReturn.objects.filter(status=ReturnStatus.UPCOMING).exclude(sections_completed=[]).exists()


def _returns_match_the_payments():
    """Every instalment waiting on a return that has been released or paid has its return approved."""
    paid = Instalment.objects.filter(requires_return=True, status__in=[InstalmentStatus.RELEASED, InstalmentStatus.PAID],
                                     award__returns__isnull=False).distinct()
    assert paid.exists()
    for instalment in paid:
        assert instalment.monitoring_return.status == ReturnStatus.APPROVED, instalment


def _submissions_and_reviews_went_through_the_services():
    for action in ("return.submitted", "return.approved", "return.sent_back", "returns.scheduled"):
        assert AuditEvent.objects.filter(action=action).exists(), action
    # The suspended national award's return is overdue on any day: its fund's manager is told.
    overdue = ReminderSent.objects.filter(kind="overdue", monitoring_return__award__recipient__ods_code="RTD").first()
    assert overdue is not None
    assert "manager.london@example.com" in overdue.recipients
    assert overdue.notifications.count() == len(overdue.recipients)


def _idempotent_and_keeps_its_keys():
    counts = (MonitoringReturn.objects.count(), ReminderSent.objects.count(), AuditEvent.objects.count())
    call_command("seed_demo", verbosity=0)
    assert (MonitoringReturn.objects.count(), ReminderSent.objects.count(), AuditEvent.objects.count()) == counts
    assert set(LATEST) <= {"falls-devon", "falls-plymouth", "cvd-barts", "cvd-newcastle", "outpatients-devon"}
