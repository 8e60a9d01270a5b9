"""Object permissions for awards, as django-rules predicates.

Views find the award in ``awards_visible_to(user)`` (404 outside it) and check
``awards.view_award`` (the same rule, asked of that queryset), then one of these (403 if
refused). Templates use ``{% has_perm %}`` with the same names.
"""

import rules

from governance.models import Membership, MembershipRole
from governance.rules import audits_fund, is_site_admin, manages_call, manages_fund

from .models import Award
from .visibility import sees_award_private


@rules.predicate
def manages_award(user, award: Award) -> bool:
    """A fund manager of the network hosting the award's call (or its fund)."""
    return award is not None and manages_call(user, award.bid.call)


@rules.predicate
def manages_award_pot(user, award: Award) -> bool:
    """A fund manager of the network whose ring-fenced pot the award is paid from: reads only."""
    if award is None or not user.is_authenticated or award.pot.network_id is None:
        return False
    return Membership.objects.filter(
        user=user, organisation_id=award.pot.network_id, role=MembershipRole.FUND_MANAGER
    ).exists()


@rules.predicate
def audits_award(user, award: Award) -> bool:
    return award is not None and audits_fund(user, award.pot.fund)


@rules.predicate
def is_recipient_member(user, award: Award) -> bool:
    """A member of the organisation receiving the award (the grantee)."""
    if award is None or not user.is_authenticated:
        return False
    return Membership.objects.filter(user=user, organisation_id=award.recipient_id).exists()


@rules.predicate
def is_recipient_signatory(user, award: Award) -> bool:
    """The recipient organisation's authorised signatory: may accept or decline the offer."""
    if award is None or not user.is_authenticated:
        return False
    return Membership.objects.filter(
        user=user, organisation_id=award.recipient_id, is_authorised_signatory=True
    ).exists()


@rules.predicate
def manages_decision_call(user, decision) -> bool:
    return decision is not None and manages_call(user, decision.bid.call)


@rules.predicate
def sees_award(user, award: Award) -> bool:
    """The award is one of ``awards_visible_to(user)``: the one rule for its pages and exports."""
    return sees_award_private(user, award)


rules.add_perm("awards.view_award", sees_award)
rules.add_perm("awards.manage_award", manages_award | is_site_admin)
rules.add_perm("awards.act_for_recipient", is_recipient_member)
rules.add_perm("awards.respond_to_offer", is_recipient_signatory)
rules.add_perm("awards.issue_award", manages_decision_call | is_site_admin)
rules.add_perm("awards.manage_conditions", manages_fund | is_site_admin)
