"""The lifecycles of a bid and of an expression of interest, each in one table.

A bid: draft → submitted (by the lead organisation, before the call closes) → withdrawn (by
them, before it closes), or → in assessment (when the call enters assessment) → funded or not
funded (the panel's decision); a submitted bid or one in assessment can be found ineligible.

An expression of interest (the first stage of a two-stage call): waiting → invited to bid or
not invited, decided by the call's fund managers once expressions of interest have closed.

The services in ``applications/services/`` check what the table cannot say (the closing time,
a complete bid, the reasons) and change the state through ``apply``.
"""

from __future__ import annotations

from governance.lifecycle import Lifecycle, Transition

from .models import Bid, BidPdf, BidStatus, EoiStatus, ExpressionOfInterest, PdfStatus

TRANSITION_NOT_ALLOWED = "A bid that is %(status)s cannot be %(action)s"

# A bid's links: the database keeps them whole, and a service sets them only to rows it has
# in hand, so re-reading each linked row on every save would check nothing.
_LINKS = ("call", "lead_organisation", "pot", "commissioner", "endorsed_by", "declarations_accepted_by",
          "created_by", "submitted_by")


def clean_bid(bid: Bid) -> None:
    """``full_clean`` for a bid (fields, choices, lengths, constraints) without re-reading linked rows."""
    bid.full_clean(exclude=_LINKS, validate_unique=False)


# Members of the lead organisation submit and withdraw; the call's fund managers do the rest.
SUBMIT_BID = "applications.submit_bid"
MANAGE_BID = "applications.manage_bid"

BID_LIFECYCLE: Lifecycle[Bid] = Lifecycle(
    name="bid",
    model=Bid,
    states=BidStatus,
    transitions=[
        Transition("submit", [BidStatus.DRAFT], BidStatus.SUBMITTED, permission=SUBMIT_BID,
                   audit="bid.submitted", verb="submitted"),
        Transition("withdraw", [BidStatus.SUBMITTED], BidStatus.WITHDRAWN, permission=SUBMIT_BID,
                   audit="bid.withdrawn", verb="withdrawn"),
        Transition("mark_ineligible", [BidStatus.SUBMITTED, BidStatus.IN_ASSESSMENT], BidStatus.INELIGIBLE,
                   permission=MANAGE_BID, audit="bid.marked_ineligible", verb="marked ineligible"),
        Transition("start_assessment", [BidStatus.SUBMITTED], BidStatus.IN_ASSESSMENT, permission=MANAGE_BID,
                   audit="bid.assessment_started", verb="put into assessment"),
        Transition("fund", [BidStatus.IN_ASSESSMENT], BidStatus.FUNDED, permission=MANAGE_BID,
                   audit="bid.funded", verb="marked funded"),
        Transition("not_fund", [BidStatus.IN_ASSESSMENT], BidStatus.NOT_FUNDED, permission=MANAGE_BID,
                   audit="bid.not_funded", verb="marked not funded"),
    ],
    # The audit event shows every state field of the bid, as it always has.
    audit_fields=("endorsement_status", "submitted_at", "withdrawn_at", "ineligible_reason"),
    refusal=TRANSITION_NOT_ALLOWED,
    refusal_code="transition",
    validate=clean_bid,
)

# Shortlisting is a decision about the call's field of ideas, so the permission is on the call.
SHORTLIST_EOIS = "applications.shortlist_eois"

EOI_LIFECYCLE: Lifecycle[ExpressionOfInterest] = Lifecycle(
    name="expression_of_interest",
    model=ExpressionOfInterest,
    states=EoiStatus,
    transitions=[
        Transition("invite", [EoiStatus.SUBMITTED], EoiStatus.INVITED, permission=SHORTLIST_EOIS,
                   audit="eoi.invited", verb="invited to bid"),
        Transition("decline", [EoiStatus.SUBMITTED], EoiStatus.NOT_INVITED, permission=SHORTLIST_EOIS,
                   audit="eoi.not_invited", verb="not invited"),
    ],
    audit_fields=("reason",),
    permission_object=lambda eoi: eoi.call,
)


# A PDF copy of a bid: made by a worker (queued → running → ready, or failed); a failed copy can
# be asked for again by anyone who may read the bid. The worker's steps write no audit event, as
# they never have: the request is recorded against the bid ("bid.pdf_requested").
BID_PDF_LIFECYCLE: Lifecycle[BidPdf] = Lifecycle(
    name="bid_pdf",
    model=BidPdf,
    states=PdfStatus,
    transitions=[
        Transition("ask_again", [PdfStatus.FAILED], PdfStatus.QUEUED, permission="applications.view_bid",
                   audit="", verb="asked for again"),
        Transition("start", [PdfStatus.QUEUED, PdfStatus.RUNNING, PdfStatus.FAILED], PdfStatus.RUNNING,
                   permission="", system=True, audit="", verb="started"),
        Transition("finish", [PdfStatus.QUEUED, PdfStatus.RUNNING, PdfStatus.FAILED], PdfStatus.READY,
                   permission="", system=True, audit="", verb="made"),
        Transition("fail", [PdfStatus.QUEUED, PdfStatus.RUNNING], PdfStatus.FAILED,
                   permission="", system=True, audit="", verb="recorded as failed"),
    ],
    thing="PDF copy",
    permission_object=lambda pdf: pdf.bid,
)
