"""The reporting lifecycles walked (state × action × role): monitoring returns, and an impact
report version's two machines, its build and its publication. Each case puts a fresh row in the
state and has the role try the action through the table; ``tests.lifecycle_walk`` checks the
outcome against the table. Also: the tables are in the registry and the services follow them."""

from __future__ import annotations

import pytest
from django.utils import timezone

from governance.lifecycle import REGISTRY
from reporting.impact.lifecycle import REPORT_BUILD_LIFECYCLE, REPORT_PUBLICATION_LIFECYCLE
from reporting.models import Publication, ReportVersion
from reporting.monitoring.lifecycle import RETURN_LIFECYCLE
from tests.awards.conftest import issue, make_world
from tests.factories.governance import UserFactory
from tests.factories.reporting import (
    ImpactReportFactory,
    MonitoringReturnFactory,
    ReportVersionFactory,
)
from tests.lifecycle_walk import ModuleWorld, check_step, rolled_back, walk_cases

pytestmark = pytest.mark.django_db

ROLES = {
    "manager": lambda obj: WORLD.manager,  # a fund manager of the fund (its host network)
    "other_manager": lambda obj: WORLD.other_manager,  # another network's fund manager
    "grantee": lambda obj: WORLD.member,  # a member of the award's recipient
    "assessor": lambda obj: WORLD.assessor,
    "chair": lambda obj: WORLD.chair,
    "auditor": lambda obj: WORLD.auditor,  # the fund's auditor
    "no_role": lambda obj: WORLD.nobody,  # signed in, no part in the fund
    "portal": lambda obj: None,
}
# Who holds each permission the tables name, on this world's return and report.
HOLDERS = {
    "reporting.edit_return": {"grantee"},
    "reporting.review_return": {"manager"},
    "reporting.manage_impact_report": {"manager"},
}


def may(row, role: str) -> bool:
    return role in HOLDERS[row.permission]


# The awards tests' world with an issued award and an impact report on its fund, made once for the
# module (in a transaction rolled back at its end); each case's rows are its own.
WORLD = ModuleWorld()


@pytest.fixture(scope="module", autouse=True)
def world(django_db_setup, django_db_blocker):
    with rolled_back(django_db_blocker):
        w = make_world()
        WORLD.world = w
        WORLD.award = issue(w)
        WORLD.report = ImpactReportFactory(fund=w.fund, requested_by=w.manager)
        WORLD.nobody = UserFactory()
        yield WORLD


def test_every_table_is_in_the_registry():
    assert {"monitoring_return", "report_version_build", "report_version_publication"} <= set(REGISTRY)
    assert REGISTRY["report_version_build"].final_states() == ["ready", "failed"]
    assert REGISTRY["monitoring_return"].final_states() == ["approved"]
    assert "unpublished --> published: published" in REPORT_PUBLICATION_LIFECYCLE.mermaid()


# Monitoring returns --------------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(RETURN_LIFECYCLE, ROLES))
def test_monitoring_return_walk(state, action, role):
    check_step(RETURN_LIFECYCLE, state=state, action=action, role=role, roles=ROLES, may=may,
               make=lambda s: MonitoringReturnFactory(award=WORLD.award, status=s))


# Impact report versions: the build ------------------------------------------------------------------


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(REPORT_BUILD_LIFECYCLE, ROLES))
def test_report_build_walk(state, action, role):
    check_step(REPORT_BUILD_LIFECYCLE, state=state, action=action, role=role, roles=ROLES, may=may,
               make=lambda s: ReportVersionFactory(report=WORLD.report, status=s))


# Impact report versions: publication ----------------------------------------------------------------

# Publication's state is kept in step with its dates, so each change brings the dates it sets.
PUBLICATION_DATES = {
    Publication.UNPUBLISHED: {},
    Publication.PUBLISHED: {"published_at": "now"},
    Publication.WITHDRAWN: {"published_at": "now", "unpublished_at": "now", "unpublished_reason": "Corrected"},
}
CHANGES = {
    "publish": {"published_at": "now", "unpublished_at": None, "unpublished_reason": ""},
    "withdraw": {"unpublished_at": "now", "unpublished_reason": "Corrected"},
    "replace": {"unpublished_at": "now", "unpublished_reason": "Replaced by version 9"},
}


def _dated(values: dict) -> dict:
    now = timezone.now()
    return {name: now if value == "now" else value for name, value in values.items()}


def _built_version(state: str) -> ReportVersion:
    version = ReportVersionFactory(report=WORLD.report, status="ready", **_dated(PUBLICATION_DATES[state]))
    assert version.publication == state
    return version


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(REPORT_PUBLICATION_LIFECYCLE, ROLES))
def test_report_publication_walk(state, action, role):
    check_step(REPORT_PUBLICATION_LIFECYCLE, state=state, action=action, role=role, roles=ROLES, may=may,
               make=_built_version, changes=_dated(CHANGES[action]))


def test_publication_is_its_own_state_beside_the_build():
    version = ReportVersionFactory(report=WORLD.report, status="ready")
    assert (version.status, version.publication, version.is_public) == ("ready", "unpublished", False)
    REPORT_PUBLICATION_LIFECYCLE.apply(version, "publish", actor=WORLD.manager, changes=_dated(CHANGES["publish"]))
    version.refresh_from_db()
    assert (version.status, version.publication, version.is_public) == ("ready", "published", True)
    assert ReportVersion.objects.filter(publication=Publication.PUBLISHED).get() == version


def test_the_migration_fills_publication_in_from_the_dates():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("reporting.migrations.0009_report_version_publication")
    now = timezone.now()
    draft = ReportVersionFactory(report=WORLD.report, status="ready")
    public = ReportVersionFactory(report=WORLD.report, status="ready", published_at=now)
    withdrawn = ReportVersionFactory(report=WORLD.report, status="ready", published_at=now, unpublished_at=now)
    ReportVersion.objects.update(publication=Publication.UNPUBLISHED)  # as the new column starts
    migration.fill_publication(apps, None)
    assert {v.pk: v.publication for v in ReportVersion.objects.filter(report=WORLD.report)} == {
        draft.pk: "unpublished", public.pk: "published", withdrawn.pk: "withdrawn"}
