"""Monitoring pages: returns listed next due first (overdue on top, approved last), and measures
shown as entered (8.1 and 6.5, not 8 and 7) on the portfolio."""

from decimal import Decimal

import pytest
from django.urls import reverse

from reporting.models import ReturnStatus
from reporting.monitoring.selectors import returns_next_due_first
from reporting.visibility import returns_visible_to

pytestmark = pytest.mark.django_db


def test_returns_are_listed_next_due_first_with_approved_ones_last(client, mw):
    returns = mw.returns()
    assert len(returns) >= 4
    approved = returns[0]
    approved.status = ReturnStatus.APPROVED
    approved.save(update_fields=["status"])
    pending = [r for r in returns if r.pk != approved.pk]

    listed = list(returns_next_due_first(returns_visible_to(mw.manager)))
    assert [r.pk for r in listed] == [r.pk for r in sorted(pending, key=lambda r: r.due_date)] + [approved.pk]

    client.force_login(mw.manager)
    page = client.get(reverse("reporting:return_list")).context["page"]
    assert [r.pk for r in page.object_list][:2] == [r.pk for r in sorted(pending, key=lambda r: r.due_date)][:2]
    # The one due soonest comes before one due years later.
    assert page.object_list[0].due_date < page.object_list[len(pending) - 1].due_date


def test_the_portfolio_shows_measures_as_entered(client, mw):
    measure = mw.measures[1]
    measure.baseline, measure.target = Decimal("8.1"), Decimal("6.5")
    measure.save(update_fields=["baseline", "target"])
    client.force_login(mw.manager)
    page = client.get(reverse("reporting:portfolio")).content.decode()
    row = page[page.index(f"{measure.name} ({measure.unit})"):]
    row = row[:row.index("</tr>")]
    assert ">8.1<" in row
    assert ">6.5<" in row
