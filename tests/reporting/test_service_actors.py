"""Reporting services check the person acting with the permission their view checks and refuse
anyone else before changing anything (issue 13, finding 7): the award's fund managers review
returns and ask for the schedule to be kept; the fund's managers request, rebuild, retry,
schedule, publish and withdraw impact reports."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from governance.models import FundRole, FundRoleKind
from reporting.impact import services as impact
from reporting.models import ImpactReport, MonitoringReturn, ReportVersion
from reporting.monitoring import services as monitoring
from tests.actor_checks import assert_refused
from tests.factories.governance import (
    FundFactory,
    FundManagerFactory,
    MembershipFactory,
    NetworkFactory,
    PotFactory,
    UserFactory,
)
from tests.factories.reporting import ImpactReportFactory, ReportVersionFactory
from tests.reporting.conftest import submitted

pytestmark = pytest.mark.django_db


# Monitoring returns ------------------------------------------------------------------------------

NOT_REVIEWERS = ["member", "signatory", "outsider", "commissioner", "assessor", "chair", "auditor", "other_manager",
                 None]


@pytest.mark.parametrize("actor", NOT_REVIEWERS)
@pytest.mark.parametrize(("service", "extra"), [
    (monitoring.return_approve, {"comments": "Fine"}),
    (monitoring.return_send_back, {"comments": "Add the spend"}),
], ids=["return_approve", "return_send_back"])
def test_only_the_award_s_managers_review_a_return(mw, service, extra, actor):
    ret = submitted(mw)
    person = getattr(mw, actor) if actor else None
    assert_refused(lambda: service(actor=person, monitoring_return=ret, **extra), watch=[ret],
                   refusal=ValidationError)  # the monitoring stage's own refusal, NOT_REVIEWER


@pytest.mark.parametrize("actor", ["member", "auditor", "other_manager", "chair"])
def test_only_the_award_s_managers_ask_for_the_schedule_to_be_kept(mw, actor):
    MonitoringReturn.objects.filter(award=mw.award).delete()
    assert_refused(lambda: monitoring.return_schedule_sync(award=mw.award, actor=getattr(mw, actor)),
                   counted=[MonitoringReturn])
    assert monitoring.return_schedule_sync(award=mw.award, actor=mw.manager)["created"]


def test_the_portal_keeps_the_schedule_without_a_person(mw):
    MonitoringReturn.objects.filter(award=mw.award).delete()
    assert monitoring.return_schedule_sync(award=mw.award)["created"]


# Impact reports ----------------------------------------------------------------------------------


@pytest.fixture
def scene():
    fund = FundFactory(first_year=2026, last_year=2027)
    pot_network = NetworkFactory()
    PotFactory(fund=fund, network=pot_network)
    auditor = UserFactory()
    FundRole.objects.create(user=auditor, fund=fund, role=FundRoleKind.AUDITOR)
    people = {
        "manager": FundManagerFactory(organisation=fund.host_network).user,
        "pot_manager": FundManagerFactory(organisation=pot_network).user,
        "other_manager": FundManagerFactory(organisation=NetworkFactory()).user,
        "auditor": auditor,
        "applicant": MembershipFactory().user,
        None: None,
    }
    return fund, people


def _published(fund, manager):
    version = ReportVersionFactory(report__fund=fund, status="ready")
    impact.report_version_publish(actor=manager, version=version)
    return version


ROWS = [
    ("impact_report_request", lambda fund, people: (impact.impact_report_request, {
        "fund": fund, "period_start": dt.date(2026, 4, 1), "period_end": dt.date(2027, 3, 31), "enqueue": False},
        [], [ImpactReport, ReportVersion])),
    ("impact_report_rebuild", lambda fund, people: (lambda report: (impact.impact_report_rebuild, {
        "report": report, "enqueue": False}, [report], [ReportVersion]))(ImpactReportFactory(fund=fund))),
    ("report_version_retry", lambda fund, people: (lambda version: (impact.report_version_retry, {
        "version": version, "enqueue": False}, [version], [ReportVersion]))(
        ReportVersionFactory(report__fund=fund, status="failed", error="Lost"))),
    ("impact_report_schedule", lambda fund, people: (lambda report: (impact.impact_report_schedule, {
        "report": report, "scheduled": True}, [report], []))(ImpactReportFactory(fund=fund))),
    ("report_version_publish", lambda fund, people: (lambda version: (impact.report_version_publish, {
        "version": version}, [version], []))(ReportVersionFactory(report__fund=fund, status="ready"))),
    ("report_version_unpublish", lambda fund, people: (lambda version: (impact.report_version_unpublish, {
        "version": version, "reason": "Wrong figures"}, [version], []))(_published(fund, people["manager"]))),
]
WRONG = ["pot_manager", "other_manager", "auditor", "applicant", None]


@pytest.mark.parametrize(("build", "actor"), [
    pytest.param(build, actor, id=f"{name}-{actor}") for name, build in ROWS for actor in WRONG
])
def test_an_impact_report_service_refuses_the_wrong_person_and_changes_nothing(scene, build, actor):
    fund, people = scene
    service, kwargs, watch, counted = build(fund, people)
    assert_refused(lambda: service(actor=people[actor], **kwargs), watch=watch, counted=counted,
                   refusal=PermissionDenied)


def test_the_fund_s_manager_schedules_a_report(scene):
    fund, people = scene
    report = ImpactReportFactory(fund=fund)
    impact.impact_report_schedule(actor=people["manager"], report=report, scheduled=True)
    report.refresh_from_db()
    assert report.scheduled_quarterly


@pytest.mark.parametrize("actor", ["manager", "auditor", "outsider", "other_manager", None])
def test_only_the_grantee_s_members_write_and_submit_a_return(mw, actor):
    ret = mw.last_ended()
    person = getattr(mw, actor) if actor else None
    assert_refused(lambda: monitoring.return_risks_save(actor=person, monitoring_return=ret, version=0, risks="None"),
                   watch=[ret], refusal=ValidationError)
    assert_refused(lambda: monitoring.return_submit(actor=person, monitoring_return=ret), watch=[ret],
                   refusal=ValidationError)
