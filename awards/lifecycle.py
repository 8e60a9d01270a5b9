"""The awards stage's lifecycles, each declared once as a table (``governance.lifecycle``):
the award itself, its conditions, its instalments, its variations and its offer letters.

Services in ``awards.services`` stay the public API: they check what the table cannot (the
offer deadline, pre-start conditions, the money), then call ``<LIFECYCLE>.apply``, which
checks who may and the state, saves and writes the audit event. Rows are created in their
first state by the service that makes them (``award_issue``: offered; ``variation_request``:
requested; an instalment: scheduled; a condition: open), so creation is not a transition.

The permissions are those the services and views ask: a fund manager of the award's call
manages it (``awards.manage_award``), its recipient's authorised signatory answers the offer
(``awards.respond_to_offer``), any member of the recipient sends evidence
(``awards.act_for_recipient``). Conditions, instalments and variations are asked about on
their award.
"""

from __future__ import annotations

from governance.lifecycle import Lifecycle, Transition

from .models import (
    Award,
    AwardCondition,
    AwardStatus,
    ConditionStatus,
    DocumentStatus,
    Instalment,
    InstalmentStatus,
    OfferLetter,
    Variation,
    VariationStatus,
)

MANAGE = "awards.manage_award"
RESPOND = "awards.respond_to_offer"
ACT_FOR_RECIPIENT = "awards.act_for_recipient"
# No person: only the portal, as what follows from another change (an award ending, a variation).
PORTAL_ONLY = ""

# Refusals, in the words the awards pages have always used (``awards.services`` re-exports them).
TRANSITION_NOT_ALLOWED = "An award that is %(status)s cannot be %(action)s"
NOT_OFFERED = "This offer is no longer open: the award is %(status)s"
CONDITION_CLOSED = "This condition is %(status)s, so evidence can no longer be sent"
CONDITION_NOT_OPEN = "This condition is %(status)s, so it cannot be %(action)s"
INSTALMENT_NOT_SCHEDULED = "This instalment is %(status)s, so it cannot be released"
INSTALMENT_NOT_RELEASED = "Only a released instalment can be marked paid: this one is %(status)s"
VARIATION_DECIDED = "This variation has already been %(status)s"

A = AwardStatus
# States in which an offer or award can still be withdrawn (its profile holds money in the pot).
_LIVE = (A.OFFERED, A.ACCEPTED, A.ACTIVE, A.SUSPENDED)

AWARD_LIFECYCLE: Lifecycle[Award] = Lifecycle(
    name="award",
    model=Award,
    states=AwardStatus,
    thing="award",
    audit_fields=("status_reason",),
    refusal=TRANSITION_NOT_ALLOWED,
    transitions=[
        Transition("accept", [A.OFFERED], A.ACCEPTED, permission=RESPOND, audit="award.accepted", verb="accepted",
                   refusal=NOT_OFFERED, refusal_code="not_offered"),
        Transition("decline", [A.OFFERED], A.DECLINED, permission=RESPOND, audit="award.declined", verb="declined",
                   refusal=NOT_OFFERED, refusal_code="not_offered"),
        # The daily beat, once the offer deadline has passed.
        Transition("lapse", [A.OFFERED], A.LAPSED, permission=PORTAL_ONLY, system=True, audit="award.lapsed",
                   verb="lapsed"),
        Transition("activate", [A.ACCEPTED], A.ACTIVE, permission=MANAGE, audit="award.activated", verb="started"),
        Transition("suspend", [A.ACTIVE], A.SUSPENDED, permission=MANAGE, audit="award.suspended", verb="suspended"),
        Transition("resume", [A.SUSPENDED], A.ACTIVE, permission=MANAGE, audit="award.resumed", verb="resumed"),
        Transition("withdraw", _LIVE, A.WITHDRAWN, permission=MANAGE, audit="award.withdrawn", verb="withdrawn"),
        Transition("close", [A.ACTIVE, A.SUSPENDED], A.CLOSED, permission=MANAGE, audit="award.closed", verb="closed"),
    ],
)

C = ConditionStatus

CONDITION_LIFECYCLE: Lifecycle[AwardCondition] = Lifecycle(
    name="award_condition",
    model=AwardCondition,
    states=ConditionStatus,
    thing="condition",
    refusal=CONDITION_NOT_OPEN,
    refusal_code="condition_not_open",
    permission_object=lambda condition: condition.award,
    transitions=[
        # New evidence replaces evidence still waiting to be signed off.
        Transition("submit_evidence", [C.OPEN, C.EVIDENCE_SUBMITTED], C.EVIDENCE_SUBMITTED,
                   permission=ACT_FOR_RECIPIENT, audit="condition.evidence_submitted", verb="sent evidence",
                   refusal=CONDITION_CLOSED, refusal_code="condition_closed"),
        Transition("sign_off", [C.EVIDENCE_SUBMITTED], C.MET, permission=MANAGE, audit="condition.met",
                   verb="signed off as met"),
        Transition("waive", [C.OPEN, C.EVIDENCE_SUBMITTED], C.WAIVED, permission=MANAGE, audit="condition.waived",
                   verb="waived"),
        Transition("send_back", [C.EVIDENCE_SUBMITTED], C.OPEN, permission=MANAGE, audit="condition.returned",
                   verb="sent back"),
    ],
)

I = InstalmentStatus  # noqa: E741 (I for Instalment, like A and C above)

INSTALMENT_LIFECYCLE: Lifecycle[Instalment] = Lifecycle(
    name="instalment",
    model=Instalment,
    states=InstalmentStatus,
    thing="instalment",
    permission_object=lambda instalment: instalment.award,
    transitions=[
        Transition("release", [I.SCHEDULED], I.RELEASED, permission=MANAGE, audit="instalment.released",
                   verb="released", refusal=INSTALMENT_NOT_SCHEDULED, refusal_code="not_scheduled"),
        Transition("mark_paid", [I.RELEASED], I.PAID, permission=MANAGE, audit="instalment.paid", verb="marked paid",
                   refusal=INSTALMENT_NOT_RELEASED, refusal_code="not_released"),
        # What follows an award ending (its unpaid money goes back to the pot) or a variation
        # moving money out of a quarter; a variation moving money back reinstates it.
        Transition("cancel", [I.SCHEDULED, I.RELEASED], I.CANCELLED, permission=PORTAL_ONLY, system=True,
                   audit="instalment.cancelled", verb="cancelled"),
        Transition("reinstate", [I.CANCELLED], I.SCHEDULED, permission=PORTAL_ONLY, system=True,
                   audit="instalment.reinstated", verb="reinstated"),
    ],
)

V = VariationStatus

VARIATION_LIFECYCLE: Lifecycle[Variation] = Lifecycle(
    name="variation",
    model=Variation,
    states=VariationStatus,
    thing="variation",
    refusal=VARIATION_DECIDED,
    refusal_code="decided",
    permission_object=lambda variation: variation.award,
    transitions=[
        Transition("approve", [V.REQUESTED], V.APPROVED, permission=MANAGE, audit="variation.approved",
                   verb="approved"),
        Transition("reject", [V.REQUESTED], V.REJECTED, permission=MANAGE, audit="variation.rejected",
                   verb="rejected"),
    ],
)

D = DocumentStatus

# An offer letter is made by the worker: queued → running → ready, or failed. A redelivered task
# makes a running or failed letter again; a ready letter is never made again (a new version is).
# Only the portal moves it; its events are filed under the award, and starting writes none.
OFFER_LETTER_LIFECYCLE: Lifecycle[OfferLetter] = Lifecycle(
    name="offer_letter",
    model=OfferLetter,
    states=DocumentStatus,
    thing="offer letter",
    permission_object=lambda letter: letter.award,
    audit_target=lambda letter: letter.award,
    transitions=[
        Transition("start", [D.QUEUED, D.RUNNING, D.FAILED], D.RUNNING, permission=PORTAL_ONLY, system=True, audit="",
                   verb="started"),
        Transition("finish", [D.RUNNING, D.FAILED], D.READY, permission=PORTAL_ONLY, system=True, audit="offer_letter.ready",
                   verb="made"),
        Transition("fail", [D.QUEUED, D.RUNNING, D.FAILED], D.FAILED, permission=PORTAL_ONLY, system=True,
                   audit="offer_letter.failed", verb="failed"),
    ],
)
