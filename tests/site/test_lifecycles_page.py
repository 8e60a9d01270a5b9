"""The public lifecycle page and docs/lifecycles.md are drawn from the lifecycle tables."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from fundportal import lifecycles as lifecycle_tables
from governance.lifecycle import REGISTRY, Lifecycle, Transition
from governance.models import Call, CallStatus


@pytest.fixture
def sample_lifecycle():
    """A table made for this test (removed after it), so the page has something to draw
    whatever the apps declare."""
    lifecycle = Lifecycle("zz_sample", Call, CallStatus, [
        Transition("open", [CallStatus.SCHEDULED], CallStatus.OPEN, permission="governance.manage_call",
                   audit="call.opened", verb="opened", system=True),
        Transition("close", [CallStatus.SCHEDULED, CallStatus.OPEN], CallStatus.CLOSED,
                   permission="governance.manage_call", audit="call.closed", verb="closed"),
    ], thing="sample call")
    yield lifecycle
    REGISTRY.pop("zz_sample", None)


@pytest.mark.django_db
def test_anyone_can_read_every_lifecycle_on_the_public_page(anyone, sample_lifecycle):
    response = anyone.get("/how-it-works/lifecycles/")
    assert response.status_code == 200
    html = response.content.decode()
    for lifecycle in REGISTRY.values():
        assert f'id="{lifecycle.name}"' in html
        for row in lifecycle.transitions:
            assert row.verb.capitalize() in html
    # One row per source state, in the people's words, with the portal named for scheduled steps.
    rows = lifecycle_tables.steps(sample_lifecycle)
    assert [(r.source, r.verb, r.target) for r in rows] == [
        ("Published, opening soon", "opened", "Open"),
        ("Published, opening soon", "closed", "Closed"),
        ("Open", "closed", "Closed"),
    ]
    assert rows[0].who == "the fund's managers, or the portal itself"
    assert "The fund&#x27;s managers, or the portal itself" in html


def test_every_permission_in_a_lifecycle_has_words_for_people():
    missing = {row.permission for lifecycle in REGISTRY.values() for row in lifecycle.transitions
               if row.permission and not lifecycle.name.startswith("zz_")} - set(lifecycle_tables.WHO)
    assert not missing, f"add these to fundportal/lifecycles.py WHO: {sorted(missing)}"


def test_the_diagrams_document_is_up_to_date():
    call_command("lifecycle_diagrams", "--check")


def test_the_diagrams_document_notices_a_new_table(sample_lifecycle):
    with pytest.raises(CommandError, match="out of date"):
        call_command("lifecycle_diagrams", "--check")
    assert "scheduled --> open: opened" in lifecycle_tables.markdown()


def test_the_page_follows_a_funds_life_and_names_every_table():
    names = [lifecycle.name for lifecycle in lifecycle_tables.lifecycles()]
    assert names[0] == "call"
    assert names.index("bid") < names.index("award") < names.index("monitoring_return")
    assert set(names) == set(REGISTRY)
    titles = [lifecycle_tables.title(lifecycle) for lifecycle in lifecycle_tables.lifecycles()]
    assert len(set(titles)) == len(titles), "two tables share a heading"
