"""Object permissions for bids, as django-rules predicates.

Views first find the bid in ``bids_visible_to(user)`` (404 for anyone else), then check one
of these permissions (403 when the person may see the bid but not do this).

- ``applications.view_bid``: see the bid read-only: ``bids_visible_to`` asked about this bid
  (``visibility.sees_bid``), or an assigned assessor (``extensions.read_by_later_stage``).
- ``applications.write_bid``: a member of the lead organisation; whether the bid can still
  change (a draft on an open call) is the services' rule, shown as a message.
- ``applications.submit_bid``: submit and withdraw the bid (a member of the lead organisation).
- ``applications.endorse_bid``: a member of the commissioning organisation named on the bid.
- ``applications.manage_bid``: a fund manager of the call (mark ineligible, and the moves the
  later stages make). The managers of a network that only holds a pot on the call read its
  bids (``view_bid``) but change nothing.
- ``applications.manage_team``: invite and remove the bid team (members of the lead organisation).
- ``applications.comment_bid`` / ``view_comments``: the bid team's section comments (never assessors').
- ``applications.sign_off_bid``: the sign-off page (which partner the person signs for is the services' rule).
- ``applications.view_call_bids``: the list of a call's bids and its export.
"""

from __future__ import annotations

import rules

from governance.models import Membership, MembershipRole
from governance.rules import audits_call, manages_call

from .extensions import read_by_later_stage
from .models import Bid, TeamRole
from .visibility import ENDORSEMENT_ASKED, bid_memberships, sees_bid, team_membership


def _member(user, organisation_id, bid: Bid | None = None) -> bool:
    if not user.is_authenticated or organisation_id is None:
        return False
    if bid is not None:
        return organisation_id in _bid_memberships(user, bid)
    return Membership.objects.filter(user=user, organisation_id=organisation_id).exists()


def _bid_memberships(user, bid: Bid) -> set[int]:
    """Which of the bid's lead and commissioning organisations the person belongs to: read once
    per bid object (one request), however many permissions the page checks."""
    return bid_memberships(user, bid)


@rules.predicate
def may_see_bid(user, bid: Bid) -> bool:
    """The bid is one of ``bids_visible_to(user)`` (the one rule), or a later stage lets the
    person read it (an assigned assessor)."""
    return bid is not None and (sees_bid(user, bid) or read_by_later_stage(user, bid))


@rules.predicate
def is_lead_member(user, bid: Bid) -> bool:
    """A member of the organisation leading the bid: a colleague of its writers."""
    return bid is not None and _member(user, bid.lead_organisation_id, bid)


@rules.predicate
def is_named_commissioner(user, bid: Bid) -> bool:
    """A member of the commissioning organisation the bid names for endorsement."""
    return bid is not None and _member(user, bid.commissioner_id, bid)


@rules.predicate
def endorsement_asked(user, bid: Bid) -> bool:
    return bid is not None and bid.endorsement_status in ENDORSEMENT_ASKED


@rules.predicate
def manages_pot_network(user, bid: Bid) -> bool:
    if bid is None or bid.pot is None or not user.is_authenticated:
        return False
    network_id = bid.pot.network_id
    return network_id is not None and Membership.objects.filter(
        user=user, organisation_id=network_id, role=MembershipRole.FUND_MANAGER
    ).exists()


@rules.predicate
def manages_bid_call(user, bid: Bid) -> bool:
    return bid is not None and manages_call(user, bid.call)


@rules.predicate
def audits_bid_call(user, bid: Bid) -> bool:
    return bid is not None and audits_call(user, bid.call)


@rules.predicate
def manages_a_pot_of_call(user, call) -> bool:
    if call is None or not user.is_authenticated:
        return False
    network_ids = [pot.network_id for pot in call.pots.all() if pot.network_id]
    return bool(network_ids) and Membership.objects.filter(
        user=user, organisation_id__in=network_ids, role=MembershipRole.FUND_MANAGER
    ).exists()


def _team_role(user, bid: Bid) -> str | None:
    if bid is None or not user.is_authenticated:
        return None
    cache = getattr(bid, "_team_roles", None)
    if cache is None or cache[0] != user.pk:
        member = team_membership(user, bid)
        cache = (user.pk, member.role if member else None)
        bid._team_roles = cache
    return cache[1]


@rules.predicate
def is_team_member(user, bid: Bid) -> bool:
    """On the bid team (an accepted invitation), whatever the role."""
    return _team_role(user, bid) is not None


@rules.predicate
def is_team_commenter(user, bid: Bid) -> bool:
    return _team_role(user, bid) in (TeamRole.COMMENT, TeamRole.EDIT)


@rules.predicate
def is_team_editor(user, bid: Bid) -> bool:
    """Edits the sections they are responsible for (the services check which)."""
    return _team_role(user, bid) == TeamRole.EDIT


is_site_admin = rules.is_superuser
manages_bid = manages_bid_call | manages_pot_network

rules.add_perm("applications.view_bid", may_see_bid)
rules.add_perm("applications.write_bid", is_lead_member | is_team_editor)
# Submitting and withdrawing are for the lead organisation only, not the bid team.
rules.add_perm("applications.submit_bid", is_lead_member)
rules.add_perm("applications.manage_team", is_lead_member)
rules.add_perm("applications.comment_bid", is_lead_member | is_team_commenter)
rules.add_perm("applications.view_comments", is_lead_member | is_team_member)
rules.add_perm("applications.sign_off_bid", is_team_member | is_lead_member)
rules.add_perm("applications.endorse_bid", is_named_commissioner & endorsement_asked)
rules.add_perm("applications.manage_bid", manages_bid_call | is_site_admin)
# A fund manager records an endorsement the commissioner sent outside the portal (with its evidence).
rules.add_perm("applications.record_offline_endorsement", manages_bid | is_site_admin)
rules.add_perm("applications.view_call_bids", manages_call | manages_a_pot_of_call | audits_call | is_site_admin)


# Two-stage calls: the call's fund managers shortlist expressions of interest; an expression of
# interest is read by its organisation's members, the call's managers and auditors.
@rules.predicate
def is_eoi_member(user, eoi) -> bool:
    return eoi is not None and _member(user, eoi.lead_organisation_id)


@rules.predicate
def manages_eoi_call(user, eoi) -> bool:
    return eoi is not None and manages_call(user, eoi.call)


@rules.predicate
def audits_eoi_call(user, eoi) -> bool:
    return eoi is not None and audits_call(user, eoi.call)


rules.add_perm("applications.send_eoi_for", is_eoi_member)
rules.add_perm("applications.shortlist_eois", manages_call | is_site_admin)
rules.add_perm("applications.view_eoi", is_eoi_member | manages_eoi_call | audits_eoi_call | is_site_admin)
