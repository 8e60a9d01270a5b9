"""The manager's to-do counts are links to the awards they are about (the awards list, filtered)."""

import pytest
from django.urls import reverse

from awards.models import AwardCondition, ConditionStatus, Instalment, InstalmentStatus
from tests.awards.conftest import accept_and_start, issue, make_world

pytestmark = pytest.mark.django_db


def test_to_do_counts_link_to_the_awards_waiting_on_them(client):
    world = make_world()
    waiting = accept_and_start(world, issue(world))
    quiet = issue(world, decision=world.new_decision())
    AwardCondition.objects.create(award=waiting, title="Evaluation plan",
                                  status=ConditionStatus.EVIDENCE_SUBMITTED)
    Instalment.objects.filter(pk=waiting.instalments.order_by("pk").first().pk).update(status=InstalmentStatus.RELEASED)
    client.force_login(world.manager)

    dashboard = client.get(reverse("dashboard")).content.decode()
    evidence_url = reverse("awards:list") + "?needs=evidence"
    payment_url = reverse("awards:list") + "?needs=payment"
    assert f'href="{evidence_url}">Conditions with evidence to review</a>' in dashboard
    assert f'href="{payment_url}">released and waiting to be marked paid</a>' in dashboard

    for url in (evidence_url, payment_url):
        listed = client.get(url).content.decode()
        assert waiting.reference in listed, url
        assert quiet.reference not in listed, url
    # Unfiltered, both are there.
    everything = client.get(reverse("awards:list")).content.decode()
    assert waiting.reference in everything
    assert quiet.reference in everything
