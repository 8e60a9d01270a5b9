"""The monitoring return's lifecycle, declared once (see ``governance.lifecycle``).

A return waits (upcoming) until its period ends, when the portal opens it; the grantee submits
it (from upcoming too, once the period has ended, if the portal has not opened it yet) and a
fund manager of the award's call approves it or sends it back for changes, after which the
grantee submits it again. An open return whose period is moved on by a variation goes back to
upcoming. ``reporting.monitoring.services`` makes each change through this table.
"""

from __future__ import annotations

from governance.lifecycle import Lifecycle, Transition

from ..models import MonitoringReturn, ReturnStatus

UPCOMING, OPEN, SUBMITTED, RETURNED, APPROVED = (
    ReturnStatus.UPCOMING, ReturnStatus.OPEN, ReturnStatus.SUBMITTED, ReturnStatus.RETURNED, ReturnStatus.APPROVED,
)

RETURN_LIFECYCLE: Lifecycle[MonitoringReturn] = Lifecycle(
    name="monitoring_return",
    model=MonitoringReturn,
    states=ReturnStatus,
    thing="monitoring return",
    transitions=[
        # The portal: the hourly run opens returns whose period ended and keeps the schedule.
        Transition("open", [UPCOMING], OPEN, permission="reporting.review_return", audit="return.opened",
                   verb="opened", system=True),
        Transition("postpone", [OPEN], UPCOMING, permission="reporting.review_return", audit="return.postponed",
                   verb="moved back to not yet due", system=True),
        # The grantee.
        Transition("submit", [UPCOMING, OPEN, RETURNED], SUBMITTED, permission="reporting.edit_return",
                   audit="return.submitted", verb="submitted"),
        # A fund manager of the award's call.
        Transition("approve", [SUBMITTED], APPROVED, permission="reporting.review_return", audit="return.approved",
                   verb="approved"),
        Transition("send_back", [SUBMITTED], RETURNED, permission="reporting.review_return",
                   audit="return.sent_back", verb="sent back"),
    ],
)
