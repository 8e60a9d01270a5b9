"""A copy of the bid as a PDF: which copy is current, asking a worker for one, and the
worker rendering it (queued, running, ready or failed, through ``BID_PDF_LIFECYCLE``)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from governance.access import require_actor
from governance.audit import audit_record
from governance.models import User
from governance.outbox import outbox_enqueue

from ..lifecycle import BID_PDF_LIFECYCLE
from ..models import Bid, BidPdf, BidSectionState, PdfStatus
from ._shared import _lock

# A copy of the bid as a PDF ---------------------------------------------------------------------


def bid_content_version(bid: Bid) -> str:
    """What the bid's copy depends on: its status and each section's version."""
    versions = sum(BidSectionState.objects.filter(bid=bid).values_list("version", flat=True))
    return f"{bid.status}-{versions}"


def bid_pdf_current(bid: Bid) -> BidPdf | None:
    """The copy of the bid as it stands now, if one has been asked for."""
    return BidPdf.objects.filter(bid=bid, content_version=bid_content_version(bid)).first()


def bid_pdf_request(*, actor: User, bid: Bid) -> BidPdf:
    """Ask a worker for a PDF of the bid as it stands (or again, after a failure). Anyone who
    may read the bid may ask: the copy holds what the bid's page shows, no more."""
    require_actor(actor, "applications.view_bid", bid)
    with transaction.atomic():
        locked = _lock(bid)
        version = bid_content_version(locked)
        pdf = BidPdf.objects.select_for_update().filter(bid=locked, content_version=version).first()
        if pdf is not None and pdf.status != PdfStatus.FAILED:
            return pdf
        if pdf is None:
            pdf = BidPdf.objects.create(bid=locked, content_version=version, requested_by=actor)
        else:
            BID_PDF_LIFECYCLE.apply(
                pdf,
                "ask_again",
                actor=actor,
                locked=pdf,
                clean=False,
                changes={"error": "", "requested_by": actor, "requested_at": timezone.now()},
            )
        audit_record(
            actor=actor,
            action="bid.pdf_requested",
            target=locked,
            message=f"PDF copy of {locked.reference} asked for",
            after={"version": version},
        )
        outbox_enqueue("applications.tasks.generate_bid_pdf", pdf.pk)
    return pdf


def bid_pdf_generate(*, pdf_id: int) -> BidPdf | None:
    """Render and store one copy: queued → running → ready, or failed. Safe to run twice."""
    from django.core.files.base import ContentFile

    from ..documents import render_bid_pdf

    with transaction.atomic():
        pdf = BidPdf.objects.select_for_update().filter(pk=pdf_id).first()
        if pdf is None or pdf.status == PdfStatus.READY:
            return pdf
        BID_PDF_LIFECYCLE.apply(
            pdf, "start", actor=None, locked=pdf, clean=False, changes={"error": ""}
        )
    try:
        content = render_bid_pdf(pdf.bid)
    except Exception as exc:  # recorded, and can be asked for again
        with transaction.atomic():
            pdf = BidPdf.objects.select_for_update().get(pk=pdf_id)
            if BID_PDF_LIFECYCLE.allows(pdf.status, "fail"):  # not if another run made it meanwhile
                BID_PDF_LIFECYCLE.apply(
                    pdf,
                    "fail",
                    actor=None,
                    locked=pdf,
                    clean=False,
                    changes={"error": f"{type(exc).__name__}: {exc}"[:2000]},
                )
        return pdf
    with transaction.atomic():
        pdf = BidPdf.objects.select_for_update().select_related("bid").get(pk=pdf_id)
        if pdf.status == PdfStatus.READY:
            return pdf
        pdf.file.save(f"{pdf.bid.reference}.pdf", ContentFile(content), save=False)
        BID_PDF_LIFECYCLE.apply(
            pdf,
            "finish",
            actor=None,
            locked=pdf,
            clean=False,
            changes={"ready_at": timezone.now()},
            recorded=(),
        )
    return pdf
