"""Panel packs: a zip of the bids (and their attachments) a person may see, built by a worker."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from applications.models import Bid
from governance.access import require_actor
from governance.audit import audit_record
from governance.models import Call, CallStatus, User
from governance.outbox import outbox_enqueue

from .. import selectors
from ..lifecycle import PANEL_PACK_LIFECYCLE
from ..messages import PACK_EMPTY, PACK_NOT_IN_ASSESSMENT
from ..models import PackStatus, PanelPack

# Panel packs ---------------------------------------------------------------------------------------------


@transaction.atomic
def panel_pack_request(
    *, actor: User, call: Call, bid: Bid | None = None, now: dt.datetime | None = None
) -> PanelPack:
    """Ask for a pack of the bids the person may see (or one of them): a worker builds it."""
    require_actor(actor, "assessment.request_pack", call)
    if call.status != CallStatus.ASSESSMENT:
        raise ValidationError(PACK_NOT_IN_ASSESSMENT, code="not_in_assessment")
    bids = selectors.pack_bids_for(actor, call, bid)
    if not bids:
        raise ValidationError(PACK_EMPTY, code="empty")
    pack = PanelPack.objects.create(
        call=call,
        bid=bid,
        requested_by=actor,
        requested_at=now or timezone.now(),
        total=len(bids),
        references=[b.reference for b in bids],
    )
    audit_record(
        actor=actor,
        action="panel_pack.requested",
        target=pack,
        fund=call.fund,
        after={"bids": pack.references},
        message=f"Panel pack of {len(bids)} bid{'s' if len(bids) != 1 else ''} asked for",
    )
    outbox_enqueue("assessment.tasks.build_panel_pack", pack.pk)
    return pack


def panel_pack_build(*, pack_id: int) -> PanelPack | None:
    """Build the zip (in a temporary file, then into storage): each bid's PDF and its available
    attachments, in a folder named by the bid's reference. The bids are worked out again now,
    so a conflict declared since the request keeps its bid out. queued → running → ready | failed.
    Idempotent: a ready pack is left alone."""
    import tempfile
    import zipfile

    from django.core.files import File

    from applications.documents import render_bid_pdf
    from applications.selectors import bid_attachments
    from applications.services import attachment_download_name
    from governance.uploads import ScanStatus

    pack = (
        PanelPack.objects.select_related("call", "bid", "requested_by").filter(pk=pack_id).first()
    )
    if pack is None or pack.status == PackStatus.READY:
        return pack
    PANEL_PACK_LIFECYCLE.apply(pack, "start", actor=None, changes={"done": 0}, clean=False)
    try:
        viewer = pack.requested_by
        bids = selectors.pack_bids_for(viewer, pack.call, pack.bid)
        PanelPack.objects.filter(pk=pack.pk).update(
            total=len(bids), references=[b.reference for b in bids]
        )
        with tempfile.TemporaryFile(suffix=".zip") as handle:
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for done, bid in enumerate(bids, start=1):
                    archive.writestr(
                        f"{bid.reference}/{bid.reference}.pdf", render_bid_pdf(bid, viewer)
                    )
                    used: set[str] = set()
                    for attachment in bid_attachments(bid).filter(scan_status=ScanStatus.AVAILABLE):
                        name = attachment_download_name(attachment)
                        if name in used:
                            name = f"{attachment.pk}-{name}"
                        used.add(name)
                        with attachment.file.open("rb") as source:
                            archive.writestr(f"{bid.reference}/attachments/{name}", source.read())
                    PanelPack.objects.filter(pk=pack.pk).update(done=done)
            handle.seek(0)
            pack.refresh_from_db()
            pack.file.save(pack.download_name, File(handle), save=False)
        PANEL_PACK_LIFECYCLE.apply(
            pack,
            "finish",
            actor=None,
            clean=False,
            changes={"file": pack.file.name, "finished_at": timezone.now(), "error": ""},
        )
    except Exception as exc:  # recorded for the status page, then raised for the worker's log
        PANEL_PACK_LIFECYCLE.apply(
            pack,
            "fail",
            actor=None,
            clean=False,
            changes={"error": f"{type(exc).__name__}: {exc}", "finished_at": timezone.now()},
        )
        raise
    return pack
