"""The register's running totals (on ``RegisterVersion``) and the totals the pages show.

After every kind of change the running totals are the ``COUNT``/``SUM`` of the read model's rows,
and the unfiltered register's totals (``public_totals``) are exactly what adding up the visible
rows gives, at any moment, also when a scheduled release falls due with nothing written. A search
adds up no more than ``SEARCH_RANK_LIMIT`` matches and says when there are more.
"""

from __future__ import annotations

import datetime as dt
import html
import importlib
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from awards.models import AwardStatus, LedgerEntryKind, PotLedgerEntry
from reporting.models import RegisterEntry, RegisterVersion
from reporting.register import selectors as reg
from reporting.register.read_model import _sums, public_totals, published_entries, register_recount
from reporting.register.selectors import SEARCH_FIRST_ONLY, SEARCH_NEWEST_FIRST, Totals
from tests.reporting.register_builders import Scene, published_award

pytestmark = pytest.mark.django_db
URL = "/register/"
API = "/api/v1/awards/"


@pytest.fixture
def scene():
    return Scene()


def added_up(now=None) -> Totals:
    """The old way: every visible row added up."""
    count, awarded, paid = _sums(published_entries(now))
    return Totals(count=count, awarded=awarded, paid=paid)


def assert_true(now=None) -> Totals:
    """The running totals are the table's, and the public totals the visible rows'."""
    kept = RegisterVersion.objects.values_list("entries", "awarded", "paid").get(pk=1)
    assert kept == _sums(RegisterEntry.objects.all())
    totals = public_totals(now)
    assert totals == added_up(now)
    return totals


def test_the_totals_of_the_scene(scene):
    totals = assert_true()
    assert (totals.count, totals.awarded, totals.paid) == (
        3,
        Decimal("950000.00"),
        Decimal("105000.00"),
    )
    # The future release is in the table (and the running totals) but not public yet.
    assert RegisterVersion.objects.get(pk=1).entries == 4


def test_publishing_and_a_new_award_add_to_the_totals(scene):
    decision = scene.hidden[0].decision
    decision.released_at = timezone.now()
    decision.save()
    assert assert_true().count == 4
    published_award(call=scene.call_b, title="A new one", amount=Decimal("70000.00"))
    totals = assert_true()
    assert (totals.count, totals.awarded) == (
        5,
        Decimal("950000.00") + Decimal("200000.00") + Decimal("70000.00"),
    )


def test_withdrawn_stays_declined_leaves(scene):
    scene.a3.status = AwardStatus.WITHDRAWN
    scene.a3.save()
    assert assert_true().count == 3
    scene.a1.status = AwardStatus.DECLINED
    scene.a1.save()
    totals = assert_true()
    assert (totals.count, totals.awarded, totals.paid) == (
        2,
        Decimal("850000.00"),
        Decimal("75000.00"),
    )


def test_an_amount_change_moves_the_amount_awarded(scene):
    scene.a2.amount = Decimal("260000.00")
    scene.a2.save()
    assert assert_true().awarded == Decimal("960000.00")


def test_payments_and_their_removal(scene):
    award = scene.a3
    entry = PotLedgerEntry.objects.create(
        pot=award.pot,
        financial_year=award.years[0],
        kind=LedgerEntryKind.PAYMENT,
        amount=Decimal("12345.67"),
        award=award,
    )
    assert assert_true().paid == Decimal("117345.67")
    entry.delete()
    assert assert_true().paid == Decimal("105000.00")


def test_a_call_withdrawing_its_decisions_takes_all_its_awards_out_and_back(scene):
    call = scene.call_a
    released = call.decisions_released_at
    call.decisions_released_at = None
    call.save()
    assert assert_true().count == 1
    call.decisions_released_at = released
    call.save()
    assert assert_true().count == 3


def test_a_deleted_award_leaves_the_totals(scene):
    award = published_award(call=scene.call_b, title="Made in error", amount=Decimal("1000.00"))
    assert assert_true().count == 4
    award.delete()
    totals = assert_true()
    assert (totals.count, totals.awarded) == (3, Decimal("950000.00"))


def test_a_release_in_the_future_counts_when_it_falls_due_with_nothing_written(scene):
    due = RegisterEntry.objects.get(award=scene.hidden[4]).visible_from
    version = RegisterVersion.objects.get(pk=1).number
    with time_machine.travel(due - dt.timedelta(minutes=1), tick=False):
        assert assert_true().count == 3
    with time_machine.travel(due, tick=False):
        assert assert_true().count == 4  # visible from that moment on, as published_entries says
    with time_machine.travel(due + dt.timedelta(days=1), tick=False):
        totals = assert_true()
        assert (totals.count, totals.paid) == (4, Decimal("106000.00"))
    assert RegisterVersion.objects.get(pk=1).number == version


def test_a_release_moved_into_the_future_leaves_until_then(scene):
    frozen = timezone.now()
    with time_machine.travel(frozen, tick=False):
        decision = scene.a1.decision
        decision.released_at = frozen + dt.timedelta(days=2)
        decision.save()
        assert assert_true().count == 2
        assert RegisterVersion.objects.get(pk=1).entries == 4
    with time_machine.travel(frozen + dt.timedelta(days=5), tick=False):
        assert assert_true().count == 4


def test_rebuild_and_recount_repair_the_running_totals(scene):
    RegisterVersion.objects.filter(pk=1).update(
        entries=999, awarded=Decimal("1.00"), paid=Decimal("2.00")
    )
    call_command("rebuild_register", verbosity=0)
    assert_true()
    RegisterVersion.objects.filter(pk=1).update(entries=999)
    register_recount()
    assert_true()


def test_a_missing_version_row_comes_back_with_the_tables_totals(scene):
    RegisterVersion.objects.all().delete()
    assert public_totals() == added_up()  # never kept: added up
    scene.a2.amount = Decimal("260000.00")
    scene.a2.save()
    assert assert_true().awarded == Decimal("960000.00")


def test_the_migration_fills_them_for_existing_data(scene):
    RegisterVersion.objects.filter(pk=1).update(
        entries=0, awarded=Decimal("0.00"), paid=Decimal("0.00")
    )
    importlib.import_module("reporting.migrations.0011_register_running_totals").fill(apps, None)
    assert_true()


def test_the_public_totals_are_one_query(scene):
    with CaptureQueriesContext(connection) as captured:
        public_totals()
    assert len(captured.captured_queries) == 1


# The pages ---------------------------------------------------------------------------------


def test_the_register_and_the_api_show_the_same_figures_as_before(client, scene):
    before = added_up()
    assert client.get(URL).context["totals"] == before
    assert client.get(API).json()["count"] == before.count == 3
    decision = scene.hidden[0].decision
    decision.released_at = timezone.now()
    decision.save()
    after = added_up()
    assert client.get(URL).context["totals"] == after
    assert client.get(API).json()["count"] == after.count == 4


def test_filtered_and_searched_totals_are_still_the_rows(client, scene):
    fund = client.get(URL, {"fund": "adoption-fund"}).context["totals"]
    assert (fund.count, fund.awarded, fund.more) == (2, Decimal("350000.00"), False)
    word = "ward" if connection.vendor == "postgresql" else "virtual"
    searched = client.get(URL, {"q": word}).context["totals"]
    assert (searched.count, searched.awarded, searched.paid, searched.more) == (
        1,
        Decimal("250000.00"),
        Decimal("75000.00"),
        False,
    )


def test_a_search_past_the_cap_says_more_than_and_adds_up_no_amounts(client, scene, monkeypatch):
    params = {"q": "ward OR frailty OR falls" if connection.vendor == "postgresql" else "e"}
    monkeypatch.setattr(reg, "SEARCH_RANK_LIMIT", 2)
    cache.clear()
    response = client.get(URL, params)
    totals = response.context["totals"]
    assert (totals.count, totals.more, totals.awarded) == (2, True, Decimal("0.00"))
    page = html.unescape(response.content.decode())
    assert 'More than <span class="app-stat">2</span> awards' in page
    assert "Add words or filters to see how much these awards add up to." in page
    assert "of more than 2" in page
    assert f"{SEARCH_NEWEST_FIRST} {SEARCH_FIRST_ONLY}" in page
    assert "£" not in page.split("app-register-totals")[1].split("app-register-sort")[0]
    # Only the first matches are listed (newest first), however many pages the rest would fill.
    assert response.context["page"].num_pages == 1
    assert len(response.context["page"].object_list) == 2
    # In another order the list still says how it is limited.
    other = html.unescape(client.get(URL, {**params, "sort": "amount_desc"}).content.decode())
    assert f"{reg.SEARCH_MANY} {SEARCH_FIRST_ONLY}" in other


def test_a_search_at_the_cap_is_counted_in_full(client, scene, monkeypatch):
    params = {"q": "ward OR frailty OR falls" if connection.vendor == "postgresql" else "e"}
    monkeypatch.setattr(reg, "SEARCH_RANK_LIMIT", 3)
    cache.clear()
    totals = client.get(URL, params).context["totals"]
    assert (totals.count, totals.more, totals.awarded) == (3, False, Decimal("950000.00"))
