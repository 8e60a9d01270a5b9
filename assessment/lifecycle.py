"""The assessment stage's lifecycles, declared once (see ``governance.lifecycle``):

- an assessor's assignment to a bid: waiting for their conflict declaration, then scoring or
  off the bid with a conflict; a fund manager may take them off it (withdrawn) while it is live;
- their score sheet: a draft until submitted; a fund manager may reopen a submitted one;
- an invitation to assess: the invitee accepts or declines it; unanswered, it expires;
- a panel pack: the portal's worker builds it (queued → running → ready | failed).

``assessment.services`` makes each change through these tables, after its own checks (whose
messages the pages show).
"""

from __future__ import annotations

from governance.lifecycle import Lifecycle, Transition
from governance.models import Call

from .models import (
    AssessorInvitation,
    Assignment,
    AssignmentStatus,
    InvitationStatus,
    PackStatus,
    PanelPack,
    ScoreSheet,
    SheetStatus,
)

AWAITING, ACTIVE, CONFLICTED, WITHDRAWN = (
    AssignmentStatus.AWAITING_DECLARATION, AssignmentStatus.ACTIVE, AssignmentStatus.CONFLICTED,
    AssignmentStatus.WITHDRAWN,
)

ASSIGNMENT_LIFECYCLE: Lifecycle[Assignment] = Lifecycle(
    name="assignment",
    model=Assignment,
    states=AssignmentStatus,
    thing="assignment",
    transitions=[
        # The assessor's declaration is an event about the declaration itself (conflict.declared,
        # conflict.none_declared), written by ``conflict_declare``: the assignment's change adds none.
        Transition("declare_no_conflict", [AWAITING], ACTIVE, permission="assessment.score_assignment", audit="",
                   verb="declared on"),
        Transition("declare_conflict", [AWAITING], CONFLICTED, permission="assessment.score_assignment", audit="",
                   verb="declared on"),
        Transition("withdraw", [AWAITING, ACTIVE], WITHDRAWN, permission="assessment.manage_assignment",
                   audit="assignment.withdrawn", verb="withdrawn"),
    ],
)


def _assignment(sheet: ScoreSheet) -> Assignment:
    return sheet.assignment


SCORE_SHEET_LIFECYCLE: Lifecycle[ScoreSheet] = Lifecycle(
    name="score_sheet",
    model=ScoreSheet,
    states=SheetStatus,
    thing="score sheet",
    permission_object=_assignment,
    transitions=[
        Transition("submit", [SheetStatus.DRAFT], SheetStatus.SUBMITTED, permission="assessment.score_assignment",
                   audit="score_sheet.submitted", verb="submitted"),
        Transition("reopen", [SheetStatus.SUBMITTED], SheetStatus.DRAFT, permission="assessment.manage_assignment",
                   audit="score_sheet.reopened", verb="reopened"),
    ],
)

INVITATION_LIFECYCLE: Lifecycle[AssessorInvitation] = Lifecycle(
    name="assessor_invitation",
    model=AssessorInvitation,
    states=InvitationStatus,
    thing="invitation",
    transitions=[
        Transition("accept", [InvitationStatus.PENDING], InvitationStatus.ACCEPTED,
                   permission="assessment.answer_invitation", audit="invitation.accepted", verb="accepted"),
        Transition("decline", [InvitationStatus.PENDING], InvitationStatus.DECLINED,
                   permission="assessment.answer_invitation", audit="invitation.declined", verb="declined"),
        # The beat, once the invitation's time is up.
        Transition("expire", [InvitationStatus.PENDING], InvitationStatus.EXPIRED,
                   permission="assessment.manage_invitation", audit="invitation.expired", verb="expired", system=True),
    ],
)


def _call(pack: PanelPack) -> Call:
    return pack.call


# The worker's steps have never written audit events (the request has: panel_pack.requested).
PANEL_PACK_LIFECYCLE: Lifecycle[PanelPack] = Lifecycle(
    name="panel_pack",
    model=PanelPack,
    states=PackStatus,
    thing="panel pack",
    permission_object=_call,
    transitions=[
        # A task delivered again, or a failed pack tried again, starts over.
        Transition("start", [PackStatus.QUEUED, PackStatus.RUNNING, PackStatus.FAILED], PackStatus.RUNNING,
                   permission="assessment.request_pack", audit="", verb="started", system=True),
        Transition("finish", [PackStatus.RUNNING], PackStatus.READY, permission="assessment.request_pack", audit="",
                   verb="finished", system=True),
        Transition("fail", [PackStatus.QUEUED, PackStatus.RUNNING], PackStatus.FAILED,
                   permission="assessment.request_pack", audit="", verb="marked failed", system=True),
    ],
)
