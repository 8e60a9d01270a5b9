"""Object permissions for the governance stage, as django-rules predicates.

Views call ``request.user.has_perm("governance.manage_fund", fund)``; templates use
``{% has_perm %}`` from the rules template tags. Predicates take the object they guard.

- A fund is managed by the fund managers of the network that hosts it.
- A fund that also holds other networks' pots (jointly managed) may be read, not changed,
  by those networks' fund managers.
- A call is managed by the fund managers of the network hosting the call, and of the network
  hosting its fund.
- An auditor of a fund reads everything of the fund, including its audit trail, and changes
  nothing.

Services ask the same permissions of the person acting (``access.require_actor``).
"""

import rules

from .models import Call, Fund, FundRoleKind, Membership, MembershipRole, Pot


def _manages_network(user, network_id) -> bool:
    if not user.is_authenticated or network_id is None:
        return False
    return Membership.objects.filter(
        user=user, organisation_id=network_id, role=MembershipRole.FUND_MANAGER
    ).exists()


@rules.predicate
def manages_network(user, network) -> bool:
    """A fund manager of this network: may create funds it hosts."""
    return network is not None and _manages_network(user, network.pk)


@rules.predicate
def manages_fund(user, fund: Fund) -> bool:
    """A fund manager of the network that hosts the fund."""
    return fund is not None and _manages_network(user, fund.host_network_id)


@rules.predicate
def holds_pot_in_fund(user, fund: Fund) -> bool:
    """A fund manager of a network with a pot in the fund (a jointly managed fund)."""
    if not user.is_authenticated or fund is None:
        return False
    networks = Membership.objects.filter(user=user, role=MembershipRole.FUND_MANAGER).values("organisation_id")
    return Pot.objects.filter(fund=fund, network__in=networks).exists()


@rules.predicate
def manages_call(user, call: Call) -> bool:
    """A fund manager of the network that hosts the call (or the fund it belongs to)."""
    if call is None:
        return False
    return _manages_network(user, call.host_network_id) or _manages_network(user, call.fund.host_network_id)


@rules.predicate
def audits_fund(user, fund: Fund) -> bool:
    if not user.is_authenticated or fund is None:
        return False
    return fund.roles.filter(user=user, role=FundRoleKind.AUDITOR).exists()


@rules.predicate
def audits_call(user, call: Call) -> bool:
    return call is not None and audits_fund(user, call.fund)


@rules.predicate
def holds_pot_in_calls_fund(user, call: Call) -> bool:
    return call is not None and holds_pot_in_fund(user, call.fund)


is_site_admin = rules.is_superuser

rules.add_perm("governance.host_fund", manages_network | is_site_admin)
rules.add_perm("governance.manage_fund", manages_fund | is_site_admin)
rules.add_perm("governance.view_fund", manages_fund | audits_fund | holds_pot_in_fund | is_site_admin)
rules.add_perm("governance.view_fund_audit", manages_fund | audits_fund | is_site_admin)
rules.add_perm("governance.manage_call", manages_call | is_site_admin)
rules.add_perm(
    "governance.view_call_internal", manages_call | audits_call | holds_pot_in_calls_fund | is_site_admin
)



@rules.predicate
def manages_requests_network(user, request) -> bool:
    """A fund manager of the network a request for a missing organisation went to."""
    return request is not None and _manages_network(user, request.network_id)


rules.add_perm("governance.decide_organisation_request", manages_requests_network | is_site_admin)
# Organisations, people and their memberships are the site admin's (the admin site, imports).
rules.add_perm("governance.manage_people", is_site_admin)

# Questions on an open call: any signed-in person who does not run, share or audit the call may ask
# (the service also checks the call is open and the deadline for questions has not passed);
# its managers answer and publish; unpublished questions are seen by those who see the call's
# internal pages.
rules.add_perm("governance.ask_call_question",
               rules.is_authenticated & ~manages_call & ~audits_call & ~holds_pot_in_calls_fund)
rules.add_perm("governance.answer_call_question", manages_call | is_site_admin)
rules.add_perm("governance.view_call_questions",
               manages_call | audits_call | holds_pot_in_calls_fund | is_site_admin)
