"""Who may read a fund's audit trail, and what its events carry: the one rule for audit events.

- The trail of a fund (every event written with that fund) is read by the fund's managers (the
  host network's fund managers), its auditors and site admins (``governance.view_fund_audit``),
  and by no one else: not panel members, not applicants, not the public. The page answers 403
  to anyone signed in without the permission.
- Auditors are independent of the people they audit: never a fund manager of the host network,
  never a member of an organisation bidding in the fund (``services.fund_auditor_add``).
- What an event carries is decided where it is written, by the stage that owns the thing: a
  score sheet's draft values are not recorded until it is submitted (``assessment.visibility``),
  so nothing on the trail is more than its readers may see elsewhere.
"""

from __future__ import annotations

from django.db.models import QuerySet

from .models import AuditEvent, Fund, User


def can_read_audit_trail(user: User, fund: Fund) -> bool:
    return user.is_authenticated and user.has_perm("governance.view_fund_audit", fund)


def audit_events_visible_to(user: User, fund: Fund) -> QuerySet[AuditEvent]:
    """The fund's events the person may read, newest first: all of them, or none."""
    if not can_read_audit_trail(user, fund):
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(fund=fund).select_related("actor")
