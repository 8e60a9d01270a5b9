"""Monitoring follows the awards stage at once: an award that starts gets its returns when the
change commits (not at the next hourly run), a variation moves them, and the award's page links
to its returns."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from awards import services as award_services
from awards.models import Award
from awards.selectors import spread_in_proportion, years_for
from reporting.monitoring import services
from tests.awards.conftest import accept_and_start, issue, make_world
from tests.reporting.conftest import extend_fund, quarter_start
from tests.reporting.test_monitoring_schedule import _extend


def _issued(world):
    start = quarter_start(timezone.localdate(), 2)
    end = start.replace(year=start.year + 2) - dt.timedelta(days=1)
    weights = dict.fromkeys(years_for(start, end, world.fund), Decimal(1))
    profile = spread_in_proportion(world.decision.amount_approved, weights)
    return issue(world, start_date=start, end_date=end, profile=profile)


def test_starting_an_award_schedules_its_returns_when_the_change_commits(db, django_capture_on_commit_callbacks):
    world = make_world()
    extend_fund(world)
    award = _issued(world)
    with django_capture_on_commit_callbacks(execute=True):
        award = accept_and_start(world, award)
    returns = list(Award.objects.get(pk=award.pk).returns.order_by("period_start"))
    assert len(returns) == 8  # one per NHS quarter of the two years; the last is the final return
    assert returns[-1].is_final


def test_an_approved_extension_moves_the_returns_straight_away(mw, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        new_end = _extend(mw, 3)
    returns = mw.returns()
    assert returns[-1].is_final
    assert returns[-1].period_end == new_end
    # Nothing left for the hourly run to do.
    assert services.return_schedule_sync(award=mw.award) == {"created": 0, "moved": 0, "removed": 0}


def test_the_award_page_links_to_its_monitoring_returns(client, mw):
    client.force_login(mw.manager)
    body = client.get(mw.award.get_absolute_url()).content.decode()
    assert "Monitoring returns" in body
    assert f'href="/monitoring/awards/{mw.award.reference}/"' in body
    assert f"{len(mw.returns())} returns scheduled" in body


def test_suspending_keeps_the_schedule(mw, django_capture_on_commit_callbacks):
    count = len(mw.returns())
    with django_capture_on_commit_callbacks(execute=True):
        award_services.award_suspend(actor=mw.manager, award=mw.award, reason="Data-sharing agreement lapsed.")
    assert len(mw.returns()) == count
