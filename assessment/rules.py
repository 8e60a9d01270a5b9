"""Object permissions for the assessment stage, as django-rules predicates.

Views first find the object in what the person may see (404 otherwise: an assessor's own
assignments, a call's bids), then check one of these (403 when they may not do this).

- ``assessment.manage_call`` (call): the fund managers who run the call: start assessment,
  assign and re-assign assessors, reopen score sheets, release decisions.
- ``assessment.chair_call`` (call): the chair and deputy chair of the call's panel: moderate
  and decide; which bids each chairs is the services' rule (``selectors.bids_chaired_by``).
- ``assessment.view_call`` (call): the above and the fund's auditors: the assignments, the
  ranking and funding line, each bid's scores, the decisions (read only for auditors).
- ``assessment.view_conflicts`` (fund): the fund's conflicts of interest register, for its fund
  managers and auditors.
- ``assessment.view_feedback`` (bid): the applicant's organisation (and the fund's managers and
  auditors) once decisions are released: the views check the release.
- ``assessment.use_assessment``: anyone with a part in assessment (the menu and hub page), and
  anyone in an assessor pool.
- ``assessment.manage_pool`` (network): the network's fund managers keep its assessor pool.
- ``assessment.declare_interests``: someone in a pool makes their yearly declaration.
- ``assessment.request_pack`` (call): the fund managers and the chairs download panel packs;
  which bids each pack holds is ``selectors.pack_bids_for`` (the conflicts the pages honour).
"""

from __future__ import annotations

import rules

from applications.rules import audits_bid_call, is_lead_member, manages_bid
from governance.models import FundRole, Membership, MembershipRole, PanelMember, PanelRole
from governance.rules import audits_call, audits_fund, manages_call, manages_fund

from .selectors import panel_reads_bid


@rules.predicate
def chairs_call(user, call) -> bool:
    """The chair or a deputy chair of the call's panel."""
    if call is None or not user.is_authenticated or call.panel_id is None:
        return False
    return PanelMember.objects.filter(
        panel_id=call.panel_id, user=user, role__in=(PanelRole.CHAIR, PanelRole.DEPUTY_CHAIR),
    ).exists()


@rules.predicate
def has_assessment_role(user) -> bool:
    """Sits on a panel, manages a network's funds, or audits a fund."""
    if not user.is_authenticated:
        return False
    return (
        PanelMember.objects.filter(user=user).exists()
        or Membership.objects.filter(user=user, role=MembershipRole.FUND_MANAGER).exists()
        or FundRole.objects.filter(user=user).exists()
    )


@rules.predicate
def manages_network(user, network) -> bool:
    """A fund manager of the network (whose assessor pool this is)."""
    if network is None or not user.is_authenticated:
        return False
    return Membership.objects.filter(user=user, organisation=network, role=MembershipRole.FUND_MANAGER).exists()


@rules.predicate
def has_assessor_profile(user) -> bool:
    return user.is_authenticated and hasattr(user, "assessor_profile")


is_site_admin = rules.is_superuser

rules.add_perm("assessment.manage_call", manages_call | is_site_admin)
rules.add_perm("assessment.chair_call", chairs_call)
rules.add_perm("assessment.view_call", manages_call | chairs_call | audits_call | is_site_admin)
rules.add_perm("assessment.view_conflicts", manages_fund | audits_fund | is_site_admin)
rules.add_perm("assessment.view_feedback", is_lead_member | manages_bid | audits_bid_call | is_site_admin)
rules.add_perm("assessment.use_assessment", has_assessment_role | has_assessor_profile | is_site_admin)
rules.add_perm("assessment.manage_pool", manages_network | is_site_admin)
rules.add_perm("assessment.declare_interests", has_assessor_profile)
rules.add_perm("assessment.request_pack", manages_call | chairs_call | is_site_admin)



@rules.predicate
def reads_bid_on_panel(user, bid) -> bool:
    """An assessor of the bid with no conflict declared, or the chair who chairs it."""
    return bid is not None and panel_reads_bid(user, bid)


@rules.predicate
def is_clarification_lead_member(user, clarification) -> bool:
    return clarification is not None and is_lead_member(user, clarification.bid)


# Clarification questions: asked by the bid's panel readers, answered by the applicant's organisation.
rules.add_perm("assessment.ask_clarification", reads_bid_on_panel)
rules.add_perm("assessment.reply_clarification", is_clarification_lead_member)
rules.add_perm("assessment.reply_clarifications_of", is_lead_member)


# The lifecycle tables (``lifecycle.py``) check these on the assignment or invitation itself: the
# same people as the services' checks (the assigned assessor; the call's fund managers; the invitee).


@rules.predicate
def is_assignment_assessor(user, assignment) -> bool:
    return assignment is not None and user.is_authenticated and assignment.assessor_id == user.pk


@rules.predicate
def manages_assignment_call(user, assignment) -> bool:
    return assignment is not None and manages_call(user, assignment.bid.call)


@rules.predicate
def is_invitee(user, invitation) -> bool:
    return invitation is not None and user.is_authenticated and invitation.invitee_id == user.pk


@rules.predicate
def manages_invitation_call(user, invitation) -> bool:
    return invitation is not None and manages_call(user, invitation.call)


rules.add_perm("assessment.score_assignment", is_assignment_assessor)
rules.add_perm("assessment.manage_assignment", manages_assignment_call | is_site_admin)
rules.add_perm("assessment.answer_invitation", is_invitee)
rules.add_perm("assessment.manage_invitation", manages_invitation_call | is_site_admin)
