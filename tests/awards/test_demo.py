"""The demo data: awards in every state, made through the services, the ledger balanced
(checked after the test), and the keys later stages read."""

import pytest
from django.core.management import call_command

from awards.demo import AWARDS
from awards.models import Award, AwardStatus
from awards.selectors import decisions_ready_for_award
from governance.models import User

pytestmark = pytest.mark.django_db


def test_the_demo_has_awards_in_every_state_and_a_decision_waiting():
    call_command("seed_demo", verbosity=0)
    assert set(Award.objects.values_list("status", flat=True)) == set(AwardStatus.values)
    for key in ("falls-devon", "falls-plymouth", "falls-somerset", "cvd-barts", "cvd-newcastle", "outpatients-devon"):
        assert key in AWARDS
    manager = User.objects.get(email="manager.southwest@example.com")
    assert decisions_ready_for_award(manager).count() == 1
    # The demo applicant has an offer to respond to.
    applicant = User.objects.get(email="applicant.devon@example.com")
    assert Award.objects.filter(status=AwardStatus.OFFERED, recipient__memberships__user=applicant).exists()
