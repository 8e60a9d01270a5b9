"""Assessment services check the person acting with the permission their view checks and refuse
anyone else before changing anything (issue 13, finding 7): the call's fund managers start
assessment, assign, reassign, reopen sheets and release decisions; the chair moderates and
decides; only the assigned assessor declares and scores."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assessment import services
from assessment.models import (
    Assignment,
    ConflictDeclaration,
    Moderation,
    PanelDecision,
    Score,
    ScoreSheet,
)
from tests.actor_checks import assert_refused
from tests.assessment.conftest import assign, scored, scores_for
from tests.factories.governance import FundManagerFactory, NetworkFactory, PotFactory

pytestmark = pytest.mark.django_db

NOT_MANAGERS = ["applicant", "assessor", "chair", "auditor", "other_manager", "pot_manager", None]
NOT_CHAIRS = ["manager", "applicant", "assessor", "auditor", "other_manager", "pot_manager", None]
NOT_THE_ASSESSOR = ["manager", "chair", "assessor_b", "auditor", "applicant", None]


def _person(world, name):
    if name is None:
        return None
    if name == "pot_manager":  # a network holding a pot in the fund: reads, changes nothing
        network = NetworkFactory()
        PotFactory(fund=world.fund, network=network, name="Their pot")
        return FundManagerFactory(organisation=network).user
    return getattr(world, name)


def _sheet(world):
    return ScoreSheet.objects.get(assignment=scored(world, world.bids[0], world.assessor, [3, 3]))


ROWS = [
    ("call_assessment_start", NOT_MANAGERS, lambda w: (
        services.call_assessment_start, {"call": w.call}, [w.call], [Assignment])),
    ("assignment_create", NOT_MANAGERS, lambda w: (
        services.assignment_create, {"bid": w.bids[0], "assessor": w.assessor}, [], [Assignment])),
    ("assignments_auto", NOT_MANAGERS, lambda w: (
        services.assignments_auto, {"call": w.call}, [], [Assignment])),
    ("assignment_reassign", NOT_MANAGERS, lambda w: (lambda a: (
        services.assignment_reassign, {"assignment": a, "reason": "Away", "replacement": w.assessor_b},
        [a], [Assignment]))(assign(w, w.bids[0], w.assessor))),
    ("score_sheet_reopen", NOT_MANAGERS, lambda w: (lambda sheet: (
        services.score_sheet_reopen, {"assignment": sheet.assignment, "reason": "A typo"}, [sheet], []))(_sheet(w))),
    ("decisions_release", NOT_MANAGERS, lambda w: (
        services.decisions_release, {"call": w.call}, [w.call, *w.bids], [])),
    ("moderation_record", NOT_CHAIRS, lambda w: (
        services.moderation_record, {"bid": w.bids[0], "criterion": w.criteria[0], "score": 3,
                                     "rationale": "Agreed"}, [], [Moderation])),
    ("decision_record", NOT_CHAIRS, lambda w: (
        services.decision_record, {"bid": w.bids[0], "outcome": "fund", "public_reason": "Strong",
                                   "amount_approved": Decimal("1000")}, [w.bids[0]], [PanelDecision])),
    ("conflict_declare", NOT_THE_ASSESSOR, lambda w: (lambda a: (
        services.conflict_declare, {"assignment": a, "has_conflict": False}, [a], [ConflictDeclaration]))(
        assign(w, w.bids[0], w.assessor))),
    ("score_sheet_save", NOT_THE_ASSESSOR, lambda w: (lambda a: (
        services.score_sheet_save, {"assignment": a, "scores": scores_for(w, [3, 3])}, [a], [ScoreSheet, Score]))(
        assign(w, w.bids[0], w.assessor))),
]


@pytest.mark.parametrize(("build", "actor"), [
    pytest.param(build, actor, id=f"{name}-{actor}") for name, wrong, build in ROWS for actor in wrong
])
def test_an_assessment_service_refuses_the_wrong_person_and_changes_nothing(world, build, actor):
    service, kwargs, watch, counted = build(world)
    person = _person(world, actor)
    assert_refused(lambda: service(actor=person, **kwargs), watch=watch, counted=counted)


def test_the_call_s_manager_passes_the_same_check(world):
    made = services.assignments_auto(actor=world.manager, call=world.call)
    assert made.created
