"""A call's lifecycle, in one table: draft → scheduled → open → closed → in assessment →
decided → closed out, with taking a scheduled call back to draft before it opens.

The fund managers of the call make each change; the portal itself (the beat task, on time)
also opens and closes calls. The services in ``governance/services/call_steps.py`` check what
the table cannot say (the opening and closing times, the reasons, a complete call before
publishing) and then change the state through ``CALL_LIFECYCLE.apply``.
"""

from __future__ import annotations

from .lifecycle import Lifecycle, Transition
from .models import Call, CallStatus

MANAGE_CALL = "governance.manage_call"

CALL_LIFECYCLE: Lifecycle[Call] = Lifecycle(
    name="call",
    model=Call,
    states=CallStatus,
    transitions=[
        Transition("publish", [CallStatus.DRAFT], CallStatus.SCHEDULED, permission=MANAGE_CALL,
                   audit="call.published", verb="published"),
        Transition("unpublish", [CallStatus.SCHEDULED], CallStatus.DRAFT, permission=MANAGE_CALL,
                   audit="call.unpublished", verb="taken back to draft"),
        Transition("open", [CallStatus.SCHEDULED], CallStatus.OPEN, permission=MANAGE_CALL,
                   audit="call.opened", verb="opened", system=True),
        # A scheduled call whose closing time has come (the beat missed its opening) closes too.
        Transition("close", [CallStatus.SCHEDULED, CallStatus.OPEN], CallStatus.CLOSED, permission=MANAGE_CALL,
                   audit="call.closed", verb="closed", system=True),
        Transition("start_assessment", [CallStatus.CLOSED], CallStatus.ASSESSMENT, permission=MANAGE_CALL,
                   audit="call.assessment_started", verb="put into assessment"),
        Transition("decide", [CallStatus.ASSESSMENT], CallStatus.DECIDED, permission=MANAGE_CALL,
                   audit="call.decided", verb="marked as decided"),
        Transition("close_out", [CallStatus.DECIDED], CallStatus.CLOSED_OUT, permission=MANAGE_CALL,
                   audit="call.closed_out", verb="closed out"),
    ],
)
