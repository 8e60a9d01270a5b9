"""The portfolio dashboard for fund managers and auditors: its figures (RAG, returns due, overdue
and awaiting review, spend against profile, savings against projected, benefits against targets),
its filters (without JavaScript: a GET form), what each person may see, and a number of queries
that does not grow with the number of awards."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications.models import BenefitMeasure, ProjectedSaving
from awards.models import AwardStatus, AwardYear
from governance import fy
from reporting.models import (
    MonitoringReturn,
    ReturnMeasureActual,
    ReturnSaving,
    ReturnSpend,
    ReturnStatus,
)
from reporting.monitoring import services
from reporting.monitoring.selectors import PortfolioFilters, portfolio
from tests.factories.awards import AwardFactory
from tests.factories.governance import CallFactory, FundFactory, NetworkFactory, PotFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YEAR = fy.FinancialYear.of(TODAY).start_year


def add_award(call, *, rag: str = "", status: str = ReturnStatus.APPROVED, spend: str = "900", saving: str = "500",
              actual: str | None = "50", year: int = YEAR, overdue: bool = False, awaiting: bool = False, pot=None):
    """An active award on ``call`` with a profile of £1,000 in ``year``, its bid projecting a £400 saving,
    a measure from 0 to 100, and one return (approved by default) reporting spend, a saving and an actual."""
    start = fy.FinancialYear(year).start
    award = AwardFactory(decision__bid__call=call, decision__bid__pot=pot or call.pots.first(), status=AwardStatus.ACTIVE,
                         start_date=start, end_date=fy.FinancialYear(year).end, amount=Decimal("1000"))
    AwardYear.objects.create(award=award, financial_year=year, amount=Decimal("1000"))
    ProjectedSaving.objects.create(bid=award.bid, financial_year=year, kind="cashable", realised_by=award.recipient,
                                   care_setting="secondary", amount=Decimal("400"), assumptions="x")
    measure = BenefitMeasure.objects.create(bid=award.bid, name="Bed days avoided", unit="days", baseline=0, target=100,
                                            target_date=award.end_date)
    ret = MonitoringReturn.objects.create(award=award, period_start=start, period_end=start + dt.timedelta(days=90),
                                          due_date=start + dt.timedelta(days=120), status=status, rag=rag)
    ReturnSpend.objects.create(monitoring_return=ret, financial_year=year, category="staff", amount=Decimal(spend))
    ReturnSaving.objects.create(monitoring_return=ret, financial_year=year, kind="cashable", realised_by=award.recipient,
                                care_setting="secondary", amount=Decimal(saving))
    if actual is not None:
        ReturnMeasureActual.objects.create(monitoring_return=ret, measure=measure, value=Decimal(actual))
    if overdue:
        MonitoringReturn.objects.create(award=award, period_start=start + dt.timedelta(days=91), period_end=TODAY - dt.timedelta(days=40),
                                        due_date=TODAY - dt.timedelta(days=10), status=ReturnStatus.OPEN)
    if awaiting:
        MonitoringReturn.objects.create(award=award, period_start=start + dt.timedelta(days=92), period_end=TODAY - dt.timedelta(days=35),
                                        due_date=TODAY + dt.timedelta(days=5), status=ReturnStatus.SUBMITTED,
                                        submitted_at=timezone.now(), rag="amber")
    return award


@pytest.fixture
def book(mw):
    """Three awards on the world's call (another fund's award elsewhere)."""
    call = mw.call
    green = add_award(call, rag="green", actual="100")
    red = add_award(call, rag="red", spend="1500", saving="100", actual="20", overdue=True)
    unreported = add_award(call, status=ReturnStatus.SUBMITTED, rag="amber", actual=None, awaiting=False)
    other_fund = FundFactory(host_network=NetworkFactory())
    elsewhere = add_award(CallFactory(fund=other_fund, pots=[PotFactory(fund=other_fund)]), rag="red")
    return {"mw": mw, "green": green, "red": red, "unreported": unreported, "elsewhere": elsewhere}


def test_the_figures_add_up(book):
    mw = book["mw"]
    services.returns_open_ended()
    data = portfolio(mw.manager, PortfolioFilters(year=YEAR))
    # The mw award itself has no returns reported yet: it is "not reported".
    assert {value: count for value, _, count in data.rag_counts} == {"red": 1, "amber": 1, "green": 1, "": 1}
    assert data.award_count == 4
    assert data.returns_overdue == 1 + len([r for r in mw.ended() if r.due_date < TODAY and r.period_start >= fy.FinancialYear(YEAR).start])
    [spend] = data.spend
    mw_profile = AwardYear.objects.get(award=mw.award, financial_year=YEAR).amount
    assert (spend.financial_year, spend.planned, spend.actual) == (YEAR, Decimal("3000") + mw_profile, Decimal("2400"))
    [savings] = data.savings
    assert (savings.planned, savings.actual, savings.actual_cashable) == (Decimal("1200"), Decimal("600"), Decimal("600"))
    bands = {value: count for value, _, count in data.benefit_bands}
    # green: 100 of 100 (met); red: 20 of 100 (some progress); unreported: submitted, not approved;
    # the mw award's two measures have no approved actuals.
    assert bands == {"met": 1, "over_half": 0, "started": 1, "none": 0, "not_reported": 3}
    [bed_days] = [row for row in data.benefit_totals if row["name"] == "Bed days avoided"]
    assert (bed_days["n"], bed_days["reported"], bed_days["actual_total"]) == (4, 2, Decimal("120"))  # the mw bid has one too


def test_another_networks_manager_and_the_funds_auditor_see_their_own(book):
    mw = book["mw"]
    assert portfolio(mw.other_manager, PortfolioFilters()).award_count == 0
    auditor = portfolio(mw.auditor, PortfolioFilters())
    assert auditor.award_count == 4  # the fund's awards, not the other fund's


def _page(client, user, query=""):
    client.force_login(user)
    return client.get(reverse("reporting:portfolio") + query)


def _listed(response) -> set[str]:
    return {award.reference for award in response.context["page"].object_list}


@pytest.mark.parametrize(("query", "expected"), [
    ("", {"green", "red", "unreported", "mw"}),
    ("?rag=red", {"red"}),
    ("?rag=green", {"green"}),
    ("?rag=none", {"mw"}),
    (f"?year={YEAR + 3}", set()),  # after every award has ended
])
def test_the_filters_work_without_javascript(client, book, query, expected):
    names = {book[key].reference: key for key in ("green", "red", "unreported")} | {book["mw"].award.reference: "mw"}
    response = _page(client, book["mw"].manager, query)
    assert response.status_code == 200
    assert {names[ref] for ref in _listed(response)} == expected


def test_fund_call_pot_and_network_filters(client, book):
    mw = book["mw"]
    other_call = CallFactory(fund=mw.fund, pots=[mw.pot])
    extra = add_award(other_call, rag="green")
    all_refs = {book[k].reference for k in ("green", "red", "unreported")} | {mw.award.reference, extra.reference}
    assert _listed(_page(client, mw.manager, f"?fund={mw.fund.pk}")) == all_refs
    assert _listed(_page(client, mw.manager, f"?call={other_call.pk}")) == {extra.reference}
    assert _listed(_page(client, mw.manager, f"?pot={mw.pot.pk}")) == all_refs
    # The national pot has no network: its awards belong to the network hosting the call.
    assert _listed(_page(client, mw.manager, f"?network={mw.network.pk}")) == all_refs
    assert _listed(_page(client, mw.manager, f"?network={mw.other_network.pk}")) == set()
    # A choice that is not offered is an error on the form, not a crash.
    response = _page(client, mw.manager, "?fund=999999")
    assert response.status_code == 200
    assert "<title>Error: " in response.content.decode()


def test_each_chart_is_an_accessible_svg_beside_its_table(client, book):
    html = _page(client, book["mw"].manager).content.decode()
    for chart_id in ("rag-chart", "spend-chart", "savings-chart", "benefits-chart"):
        assert f'aria-labelledby="{chart_id}-title"' in html
        assert f'<title id="{chart_id}-title">' in html
    assert html.count('role="img"') >= 4 + 1  # and the NHS logo
    assert "style=" not in html  # the CSP forbids inline styles
    assert "Awards by latest RAG status" in html
    assert "Profile and spend reported, by financial year" in html


def test_an_applicant_may_not_see_the_portfolio(client, book):
    assert _page(client, book["mw"].member).status_code == 403


def _count_queries(client, user, query="") -> int:
    client.force_login(user)
    url = reverse("reporting:portfolio") + query
    client.get(url)  # warm up (session, content types)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("query", ["", f"?year={YEAR}&rag=green", "?page=2"])
def test_the_number_of_queries_does_not_grow_with_the_awards(client, mw, query):
    for index in range(3):
        add_award(mw.call, rag=["green", "amber", "red"][index % 3], overdue=index == 0, awaiting=index == 1)
    few = _count_queries(client, mw.manager, query)
    for index in range(30):
        add_award(mw.call, rag=["green", "amber", "red"][index % 3], overdue=index % 4 == 0, awaiting=index % 5 == 0)
    many = _count_queries(client, mw.manager, query)
    assert many == few, f"{few} queries with 4 awards, {many} with 34"
    assert few <= 30
