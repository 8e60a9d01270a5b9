"""The register's read model: always exactly ``published_awards()``, after every kind of change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from awards.models import AwardStatus, LedgerEntryKind, PotLedgerEntry
from awards.visibility import published_awards
from governance.models import CallStatus, InnovationType
from reporting.models import RegisterEntry
from reporting.register.read_model import published_entries, register_rebuild, register_version
from reporting.register.selectors import list_rows
from tests.reporting.register_builders import Scene, bulk_register, published_award

pytestmark = pytest.mark.django_db
URL = "/register/"


@pytest.fixture
def scene():
    return Scene()


def assert_in_step(now=None) -> None:
    """Every published award has one row, with what the register shows of it; no other rows."""
    expected = {award.pk: award for award in list_rows(published_awards(now))}
    rows = {row.award_id: row for row in published_entries(now)}
    assert set(rows) == set(expected)
    for pk, award in expected.items():
        row = rows[pk]
        assert (row.reference, row.title, row.description, row.amount, row.paid, row.status) == (
            award.reference, award.title, award.description, award.amount, award.paid, award.status)
        assert (row.recipient_id, row.recipient_name, row.recipient_kind, row.recipient_region) == (
            award.recipient_id, award.recipient.name, award.recipient.kind, award.recipient.region or "")
        assert (row.call_id, row.fund_id, row.decided_at, row.score) == (
            award.bid.call_id, award.pot.fund_id, award.decision.decided_at, award.decision.score)


def test_the_read_model_holds_the_published_awards_and_nothing_else(scene):
    assert_in_step()
    assert {row.award_id for row in published_entries()} == {a.pk for a in scene.published}


def test_a_decision_released_later_appears(scene):
    hidden = scene.hidden[0]
    hidden.decision.released_at = timezone.now()
    hidden.decision.save()
    assert_in_step()
    assert published_entries().filter(pk=hidden.pk).exists()


def test_a_scheduled_release_shows_when_its_time_comes_without_any_write(scene):
    future = scene.hidden[4]
    later = timezone.now() + dt.timedelta(days=4)
    assert not published_entries().filter(pk=future.pk).exists()
    assert_in_step(later)
    assert published_entries(later).filter(pk=future.pk).exists()


def test_declined_and_withdrawn_awards(scene):
    scene.a1.status = AwardStatus.DECLINED
    scene.a1.save()
    scene.a2.status = AwardStatus.WITHDRAWN
    scene.a2.save()
    assert_in_step()
    assert not published_entries().filter(pk=scene.a1.pk).exists()
    assert published_entries().get(pk=scene.a2.pk).status == AwardStatus.WITHDRAWN


def test_call_changes_move_all_its_awards(scene):
    call = scene.call_a
    call.decisions_released_at = None
    call.save()
    assert_in_step()
    assert not published_entries().filter(call=call).exists()
    call.decisions_released_at = timezone.now() - dt.timedelta(days=1)
    call.save()
    assert_in_step()
    call.status = CallStatus.DRAFT
    call.save()
    assert_in_step()
    assert not published_entries().filter(call=call).exists()


def test_payments_change_what_is_paid(scene):
    award = scene.a3
    entry = PotLedgerEntry.objects.create(pot=award.pot, financial_year=award.years[0], kind=LedgerEntryKind.PAYMENT,
                                          amount=Decimal("12345.00"), award=award)
    assert_in_step()
    assert published_entries().get(pk=award.pk).paid == Decimal("12345.00")
    entry.delete()
    assert_in_step()
    assert published_entries().get(pk=award.pk).paid == Decimal("0.00")


def test_renames_and_bid_changes_follow(client, scene):
    scene.trust.name = "Tamar and Tavy NHS Foundation Trust"
    scene.trust.save()
    bid = scene.a1.bid
    bid.innovation_type = InnovationType.DEVICE
    bid.save()
    assert_in_step()
    row = published_entries().get(pk=scene.a1.pk)
    assert (row.recipient_name, row.innovation_type) == ("Tamar and Tavy NHS Foundation Trust", InnovationType.DEVICE)
    listed = client.get(URL, {"recipient": "Tavy"}).content.decode()
    assert scene.a1.reference in listed


def test_award_details_follow(scene):
    scene.a2.title = "Heart failure virtual ward, extended"
    scene.a2.amount = Decimal("260000.00")
    scene.a2.save()
    assert_in_step()


def test_new_awards_appear_and_bulk_builds_keep_step(scene):
    award = published_award(call=scene.call_b, title="A new one")
    assert published_entries().filter(pk=award.pk).exists()
    bulk_register(30, tag="RM")
    assert_in_step()


def test_rebuild_is_idempotent_and_repairs(scene):
    before = set(RegisterEntry.objects.values_list("pk", "paid", "visible_from"))
    RegisterEntry.objects.filter(pk=scene.a1.pk).delete()
    RegisterEntry.objects.filter(pk=scene.a2.pk).update(title="Wrong")
    call_command("rebuild_register", verbosity=0)
    call_command("rebuild_register", verbosity=0)
    assert set(RegisterEntry.objects.values_list("pk", "paid", "visible_from")) == before
    assert register_rebuild() == len(before)
    assert_in_step()


def test_every_change_moves_the_version_and_the_totals_follow(client, scene):
    version = register_version()
    first = client.get(URL).context["totals"]
    assert (first.count, first.awarded) == (3, Decimal("950000.00"))
    scene.hidden[0].decision.released_at = timezone.now()
    scene.hidden[0].decision.save()
    assert register_version() > version
    second = client.get(URL).context["totals"]
    assert second.count == 4


def test_totals_are_cached_for_a_filter_set(client, scene):
    from reporting.register.read_model import cached_totals
    from reporting.register.selectors import RegisterFilter

    filterset = RegisterFilter({"fund": "adoption-fund"})
    filterset.qs  # noqa: B018 - builds the filtered rows
    assert cached_totals(filterset.unsorted, filterset.totals_key).count == 2
    with CaptureQueriesContext(connection) as captured:
        again = cached_totals(filterset.unsorted, filterset.totals_key)
    assert again.count == 2
    assert not any("SUM(" in query["sql"].upper() for query in captured.captured_queries)


def test_the_rule_for_a_few_awards_is_the_rule(scene):
    """``published_awards(among=...)``, which keeping the read model in step uses, answers as the
    rule over every award does, for each award public or not, now and later."""
    later = timezone.now() + dt.timedelta(days=4)
    for award in [*scene.published, *scene.hidden]:
        for moment in (None, later):
            assert list(published_awards(moment, among=[award.pk])) == list(published_awards(moment).filter(pk=award.pk))
