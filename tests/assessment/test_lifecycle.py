"""The assessment lifecycles walked (state × action × role): assignments, score sheets,
invitations to assess and panel packs. Each case puts a fresh row in the state and has the role
try the action through the table; ``tests.lifecycle_walk`` checks the outcome against the table."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from assessment.lifecycle import (
    ASSIGNMENT_LIFECYCLE,
    INVITATION_LIFECYCLE,
    PANEL_PACK_LIFECYCLE,
    SCORE_SHEET_LIFECYCLE,
)
from assessment.models import AssessorInvitation, AssignmentStatus, DeclineReason, PanelPack
from governance.lifecycle import REGISTRY
from tests.awards.conftest import make_world
from tests.factories.assessment import AssignmentFactory, ScoreSheetFactory
from tests.factories.governance import UserFactory
from tests.lifecycle_walk import ModuleWorld, check_step, rolled_back, walk_cases

pytestmark = pytest.mark.django_db

ROLES = {
    "manager": lambda obj: WORLD.manager,  # a fund manager of the call's fund
    "other_manager": lambda obj: WORLD.other_manager,  # another network's fund manager
    "grantee": lambda obj: WORLD.member,  # a member of the bidding organisation
    "assessor": lambda obj: WORLD.assessor,  # the panel assessor assigned (and invited)
    "chair": lambda obj: WORLD.chair,  # the panel's chair
    "auditor": lambda obj: WORLD.auditor,  # the fund's auditor
    "no_role": lambda obj: WORLD.nobody,  # signed in, no part in the fund
    "portal": lambda obj: None,
}
# Who holds each permission the tables name, on this world's assignment, sheet, invitation and pack.
HOLDERS = {
    "assessment.score_assignment": {"assessor"},
    "assessment.manage_assignment": {"manager"},
    "assessment.answer_invitation": {"assessor"},
    "assessment.manage_invitation": {"manager"},
    "assessment.request_pack": {"manager", "chair"},
}


def may(row, role: str) -> bool:
    return role in HOLDERS[row.permission]


# The awards tests' world (its call decided, a bid on it, a panel with an assessor and a chair),
# made once for the module in a transaction rolled back at its end.
WORLD = ModuleWorld()


@pytest.fixture(scope="module", autouse=True)
def world(django_db_setup, django_db_blocker):
    with rolled_back(django_db_blocker):
        w = make_world()
        WORLD.world = w
        WORLD.bid = w.decision.bid
        WORLD.nobody = UserFactory()
        yield WORLD


def _assignment(state: str = AssignmentStatus.ACTIVE):
    return AssignmentFactory(bid=WORLD.bid, assessor=WORLD.assessor, assigned_by=WORLD.manager, status=state)


def test_every_table_is_in_the_registry():
    assert {"assignment", "score_sheet", "assessor_invitation", "panel_pack"} <= set(REGISTRY)
    assert sorted(ASSIGNMENT_LIFECYCLE.final_states()) == ["conflicted", "withdrawn"]
    assert INVITATION_LIFECYCLE.final_states() == ["accepted", "declined", "expired"]


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(ASSIGNMENT_LIFECYCLE, ROLES))
def test_assignment_walk(state, action, role):
    check_step(ASSIGNMENT_LIFECYCLE, state=state, action=action, role=role, roles=ROLES, may=may, make=_assignment,
               changes={"withdrawn_reason": "Cannot do it in time"} if action == "withdraw" else None)


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(SCORE_SHEET_LIFECYCLE, ROLES))
def test_score_sheet_walk(state, action, role):
    check_step(SCORE_SHEET_LIFECYCLE, state=state, action=action, role=role, roles=ROLES, may=may,
               make=lambda s: ScoreSheetFactory(assignment=_assignment(), status=s))


def _invitation(state: str) -> AssessorInvitation:
    return AssessorInvitation.objects.create(
        call=WORLD.call, invitee=WORLD.assessor, invited_by=WORLD.manager, status=state,
        expires_at=timezone.now() + dt.timedelta(days=7),
        decline_reason=DeclineReason.NOT_AVAILABLE if state == "declined" else "")


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(INVITATION_LIFECYCLE, ROLES))
def test_invitation_walk(state, action, role):
    check_step(INVITATION_LIFECYCLE, state=state, action=action, role=role, roles=ROLES, may=may, make=_invitation,
               changes={"decline_reason": DeclineReason.NOT_AVAILABLE} if action == "decline" else None)


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(PANEL_PACK_LIFECYCLE, ROLES))
def test_panel_pack_walk(state, action, role):
    check_step(PANEL_PACK_LIFECYCLE, state=state, action=action, role=role, roles=ROLES, may=may,
               make=lambda s: PanelPack.objects.create(call=WORLD.call, requested_by=WORLD.chair, status=s))
