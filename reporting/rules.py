"""Object permissions for monitoring returns, as django-rules predicates.

Views first find the return in ``returns_visible_to(user)`` (404 outside it), then check one of
these (403 if refused). Templates use ``{% has_perm %}`` with the same names.

- Whoever may see the award may read its returns (its fund managers, the pot's network's
  managers, the fund's auditors, the grantee's members).
- Only members of the recipient organisation write and submit returns.
- Only fund managers of the award's call (or its fund) review them and release their payments.
- The portfolio dashboard is for fund managers and auditors.
"""

import rules

from awards.rules import is_recipient_member, manages_award
from awards.visibility import sees_award_private
from governance.models import FundRoleKind, Membership, MembershipRole, OrganisationKind
from governance.rules import is_site_admin

from .models import MonitoringReturn


def _award(ret: MonitoringReturn | None):
    return ret.award if ret is not None else None


@rules.predicate
def reads_return_award(user, ret: MonitoringReturn) -> bool:
    """Whoever may see the award (``awards.view_award``, the award queryset's rule)."""
    return sees_award_private(user, _award(ret))


@rules.predicate
def is_return_grantee(user, ret: MonitoringReturn) -> bool:
    return is_recipient_member(user, _award(ret))


@rules.predicate
def manages_return_award(user, ret: MonitoringReturn) -> bool:
    return manages_award(user, _award(ret))


@rules.predicate
def oversees_portfolio(user) -> bool:
    """A fund manager of a network, or an auditor of a fund."""
    if not user.is_authenticated:
        return False
    return (
        Membership.objects.filter(user=user, role=MembershipRole.FUND_MANAGER,
                                  organisation__kind=OrganisationKind.HEALTH_INNOVATION_NETWORK).exists()
        or user.fund_roles.filter(role=FundRoleKind.AUDITOR).exists()
    )


rules.add_perm("reporting.view_return", reads_return_award | is_site_admin)
rules.add_perm("reporting.edit_return", is_return_grantee)
rules.add_perm("reporting.review_return", manages_return_award | is_site_admin)
rules.add_perm("reporting.view_portfolio", oversees_portfolio | is_site_admin)
