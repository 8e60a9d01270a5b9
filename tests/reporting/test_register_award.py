"""One award's public page: everything the issue lists, nothing personal, and 404 when unpublished."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from awards.models import ConditionStatus
from reporting.models import ReportScope, ReturnStatus
from reporting.register.selectors import EMAIL_REDACTED, award_record, register_award
from tests.reporting.register_builders import (
    Scene,
    approved_return,
    condition_for,
    measure_for,
    people,
    published_report,
    reinvest,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    scene = Scene()
    award = scene.a1
    start = award.start_date
    scene.beds = measure_for(award, name="Bed days avoided", unit="days", baseline=Decimal("0"), target=Decimal("400"))
    scene.falls = measure_for(award, name="Falls per month", unit="falls", baseline=Decimal("40"), target=Decimal("20"), higher_is_better=False)
    first = approved_return(award, start=start, cashable=Decimal("1000.00"), non_cashable=Decimal("400.00"),
                            actuals={scene.beds: Decimal("100"), scene.falls: Decimal("35")},
                            organisations_adopting=2, sites_adopting=3, patients_reached=150)
    reinvest(first, Decimal("700.00"), "Extra community falls classes")
    approved_return(award, start=start + dt.timedelta(days=91), cashable=Decimal("2000.00"), non_cashable=Decimal("600.00"),
                    actuals={scene.beds: Decimal("300")}, organisations_adopting=4, sites_adopting=6, patients_reached=420,
                    adoption_notes="Two more practices joined.", is_final=True,
                    lessons_learned="Recruit before the start date.", will_be_sustained=True, sustained_funding_by="NHS Kernow ICB")
    # A return still under review: none of its figures are public.
    approved_return(award, start=start + dt.timedelta(days=182), status=ReturnStatus.SUBMITTED, cashable=Decimal("99999.00"),
                    actuals={scene.beds: Decimal("9999")}, organisations_adopting=99, lessons_learned="Draft lesson not yet approved")
    condition_for(award, "Data protection impact assessment completed", ConditionStatus.MET)
    condition_for(award, "Commissioner agreement to sustain the service", ConditionStatus.OPEN)
    scene.report = published_report(fund=scene.fund_a, title="Adoption Fund impact 2025/26")
    scene.call_report = published_report(fund=scene.fund_a, scope=ReportScope.CALL, call=award.bid.call, title="Frailty call results")
    published_report(fund=scene.fund_a, title="Withdrawn fund report", withdrawn=True)
    published_report(fund=scene.fund_a, title="Draft fund report", public=False)
    published_report(fund=scene.fund_b, title="Spread Fund impact")
    published_report(fund=scene.fund_a, scope=ReportScope.NETWORK, network=scene.north, title="North East network report")
    return scene


def page(client, award):
    response = client.get(f"/register/{award.reference}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_the_award_recipient_partners_and_money(client, scene):
    body = page(client, scene.a2)
    assert "Heart failure virtual ward" in body
    assert "Specialist nurses run a virtual ward from the practice." in body
    assert "Hackney Green Surgery" in body
    assert "GB-NHS-F84001" in body
    assert "NHS Kernow Integrated Care Board" in body
    assert "GB-NHS-QT901" in body
    assert "Commissioner" in body
    assert "£250,000.00" in body
    assert "Paid to date" in body
    assert "£75,000.00" in body
    assert f"360Giving identifier: 360G-fundportal-{scene.a2.reference}" in body
    years = award_record(scene.a2).years
    assert [row.paid for row in years][:2] == [Decimal("50000.00"), Decimal("25000.00")]
    for row in years:
        assert row.label in body
    assert 'role="img"' in body
    assert "<title" in body


def test_the_page_shows_each_criterion_score_weight_and_scale_and_the_overall_score(client, scene):
    body = page(client, scene.a1)
    for criterion in scene.a1.bid.call.criteria.all():
        assert criterion.title in body
    assert "3 on a scale of 0 to 4" in body
    assert "37.50 of 50" in body  # weight 50 × (3 − 0) / (4 − 0)
    assert "75 of 100" in body
    assert "Strong evidence of savings and benefit." in body  # the panel's rationale
    assert "Each assessor scores every criterion" in body  # the scoring method include


def test_a_criterion_without_a_recorded_score_says_so(client, scene):
    scene.a3.decision.criterion_scores = {}
    scene.a3.decision.save()
    assert "Not recorded" in page(client, scene.a3)


def test_the_page_shows_conditions_and_only_approved_monitoring_results(client, scene):
    body = page(client, scene.a1)
    assert "Data protection impact assessment completed" in body
    assert "Met" in body
    assert "Commissioner agreement to sustain the service" in body
    record = award_record(register_award(scene.a1.reference))
    assert record.savings == {"cashable": Decimal("3000.00"), "non_cashable": Decimal("1000.00")}
    assert "£3,000" in body
    assert "£1,000" in body
    assert "99,999" not in body
    assert "9999" not in body
    assert "Draft lesson" not in body
    beds, falls = record.measures
    assert (beds.actual, beds.progress) == (Decimal("300.00"), 75)
    assert (falls.actual, falls.progress) == (Decimal("35.00"), 25)  # lower is better: 40 → 35 of the way to 20
    assert "75%" in body
    assert "25%" in body
    assert record.latest_return.patients_reached == 420
    assert "420" in body
    assert "Two more practices joined." in body
    assert "£700" in body
    assert "Extra community falls classes" in body
    assert "Recruit before the start date." in body
    assert "funded by NHS Kernow ICB" in body


def test_an_award_without_approved_returns_says_results_are_to_come(client, scene):
    body = page(client, scene.a3)
    assert "No monitoring return for this award has been approved yet" in body
    assert "Lessons learned" not in body


def test_links_to_published_reports_covering_the_award(client, scene):
    body = page(client, scene.a1)
    assert "Adoption Fund impact 2025/26" in body
    assert "Frailty call results" in body
    for hidden in ("Withdrawn fund report", "Draft fund report", "Spread Fund impact", "North East network report"):
        assert hidden not in body
    assert "Spread Fund impact" in page(client, scene.a3)
    assert "North East network report" in page(client, scene.a3)  # the recipient's network


def test_report_links_open_the_published_pdf(client, scene):
    from reporting.register.selectors import reports_covering

    version = reports_covering(scene.a1)[0]
    pdf_url = reverse("reporting:report_pdf", args=[version.report_id, version.number])
    assert f'href="{pdf_url}"' in page(client, scene.a1)


def test_no_personal_data_appears(client, scene):
    award = scene.a1
    award.description = "Contact jo.bloggs@trust.nhs.uk for the evaluation."
    award.save()
    body = page(client, award)
    assert "jo.bloggs@trust.nhs.uk" not in body
    assert EMAIL_REDACTED in body
    names = [award.decision.decided_by, award.issued_by, award.bid.created_by, *[p for p in people(scene).values() if p]]
    for person in names:
        assert person.full_name not in body
        assert person.email not in body
    assert "@" not in body.split("<main", 1)[1].split("</main>", 1)[0]


def test_an_unpublished_award_is_a_404_just_like_a_missing_one(client, scene):
    missing = client.get("/register/NO-SUCH-REF-1/")
    assert missing.status_code == 404
    for award in scene.hidden:
        response = client.get(f"/register/{award.reference}/")
        assert response.status_code == 404
        assert response.content == missing.content
        assert award.title not in response.content.decode()


def test_strange_references_are_404s_not_errors(client, scene):
    for reference in ["'%20OR%201=1", "%3Cscript%3E", "x" * 300, "..%2F..%2Fetc"]:
        assert client.get(f"/register/{reference}/").status_code == 404


def test_the_page_runs_a_fixed_number_of_queries(client, scene):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            page(client, scene.a1)
        return len(captured.captured_queries)

    before = count()
    for index in range(6):
        approved_return(scene.a1, start=scene.a1.start_date + dt.timedelta(days=300 + 91 * index), actuals={scene.beds: Decimal(index)})
        measure_for(scene.a1, name=f"Measure {index}")
        condition_for(scene.a1, f"Condition {index}")
    assert count() == before
