"""The pages a bid writer opens in the last minute before a call closes: how many queries each
makes, so a page that reads the same rows twice again shows up here (the deadline rush,
``benchmarks/deadline_rush.py``, is 200 writers opening them at once)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Prefetch, prefetch_related_objects
from django.test.utils import CaptureQueriesContext

from applications import selectors
from applications.models import Bid, BidPartner, ProjectedSaving

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> list[str]:
    client.get(url)  # the header menu is worked out once a minute per person: this reads it
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def _reading(queries: list[str], table: str) -> list[str]:
    return [sql for sql in queries if sql.startswith("SELECT") and f'FROM "{table}"' in sql]


def test_task_list_reads_the_section_states_once_for_statuses_and_who_completed_them(client, world, ready):
    client.force_login(world.applicant)
    queries = _queries(client, f"/bids/{ready.pk}/")
    # One for the states (with who completed each), one for the PDF's content version.
    assert len(_reading(queries, "applications_bidsectionstate")) == 2
    assert len(queries) == 21


def test_check_page_reads_partners_and_savings_once(client, world, ready):
    client.force_login(world.applicant)
    queries = _queries(client, f"/bids/{ready.pk}/check/")
    assert len(_reading(queries, "applications_bidpartner")) == 1
    assert len(_reading(queries, "applications_projectedsaving")) == 1  # the totals come from the same rows
    assert len(queries) == 17


def test_bid_content_is_the_same_from_rows_already_read(world, ready):
    fresh = selectors.bid_content(Bid.objects.get(pk=ready.pk))
    bid = Bid.objects.get(pk=ready.pk)
    prefetch_related_objects([bid], Prefetch("partners", BidPartner.objects.select_related("organisation")),
                             Prefetch("projected_savings", ProjectedSaving.objects.select_related("realised_by")))
    with CaptureQueriesContext(connection) as captured:
        reused = selectors.bid_content(bid)
    assert not _reading([q["sql"] for q in captured.captured_queries], "applications_projectedsaving")
    assert not _reading([q["sql"] for q in captured.captured_queries], "applications_bidpartner")
    for key in ("partners", "savings", "savings_by_year", "total_savings", "projected_return"):
        assert reused[key] == fresh[key], key
    assert [s.realised_by.name for s in reused["savings"]] == [s.realised_by.name for s in fresh["savings"]]
    assert fresh["total_savings"] > 0
    assert len(fresh["savings_by_year"]) == 2
