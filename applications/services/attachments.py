"""Files on a bid: the upload pipeline's messages, adding and removing a file, the virus scan
that makes it available or quarantines it, and the name it downloads under."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse

from governance import uploads
from governance.audit import audit_record
from governance.models import User
from governance.outbox import outbox_enqueue
from governance.services import notify
from governance.uploads import ScanStatus

from ..messages import TOO_MANY_ATTACHMENTS
from ..models import Attachment, Bid, BidSection
from ._shared import _clean_text, _editing

# Files: the messages of the upload pipeline every upload goes through (governance.uploads).
FILE_NEEDED = uploads.FILE_NEEDED
FILE_EMPTY = uploads.FILE_EMPTY
FILE_TOO_LARGE = uploads.FILE_TOO_LARGE
FILE_TYPE_NOT_ALLOWED = uploads.BID_ATTACHMENT.type_message
FILE_HAS_MACROS = uploads.FILE_HAS_MACROS
FILE_ARCHIVE_UNSAFE = uploads.FILE_ARCHIVE_UNSAFE
ATTACHMENT_LIMIT = 20


# Sections: attachments -------------------------------------------------------------------------


def check_upload(upload: UploadedFile[Any] | None) -> uploads.CheckedUpload:
    """The upload's real type, size and hash; a ValidationError if it is missing, empty, too big,
    not allowed, or carries macros or archives (the pipeline every upload goes through)."""
    return uploads.check(upload, policy=uploads.BID_ATTACHMENT)


def bid_attachment_add(
    *,
    actor: User,
    bid: Bid,
    upload: UploadedFile[Any] | None,
    description: str = "",
    now: dt.datetime | None = None,
) -> Attachment:
    """Store a checked file through the default storage (outside the web root), named after
    what it is; with a virus scanner set up, it waits for its scan before anyone can open it."""
    checked = check_upload(upload)
    stored_name = None
    try:
        with _editing(
            actor=actor,
            bid=bid,
            now=now,
            section=BidSection.ATTACHMENTS,
            version=None,
            message=f"File added: {checked.original_name[:100]}",
        ) as (locked, record):
            if locked.attachments.count() >= ATTACHMENT_LIMIT:
                raise ValidationError({"file": TOO_MANY_ATTACHMENTS.format(limit=ATTACHMENT_LIMIT)})
            attachment = Attachment(
                bid=locked,
                original_name=checked.original_name or "attachment",
                content_type=checked.file_type.content_type,
                size=checked.size,
                sha256=checked.sha256,
                description=_clean_text(description)[:200],
                uploaded_by=actor,
                scan_status=uploads.initial_scan_status(),
            )
            attachment.file.save(checked.storage_name, checked.upload, save=False)
            stored_name = attachment.file.name
            attachment.full_clean()
            attachment.save()
            record.update(
                action="bid.attachment_added",
                after={
                    "name": attachment.original_name,
                    "type": checked.file_type.label,
                    "size": attachment.size,
                    "sha256": attachment.sha256,
                    "scan_status": attachment.scan_status,
                },
            )
            if attachment.scan_status == ScanStatus.AWAITING:
                from ..tasks import scan_attachment

                outbox_enqueue(scan_attachment, attachment.pk)
    except Exception:
        if stored_name:
            default_storage.delete(stored_name)
        raise
    return attachment


def attachment_scan(*, attachment_id: int) -> str | None:
    """Scan a file awaiting its virus scan and record the result: available, or quarantined
    (the uploader is told). Safe to run twice. Returns the new status, or None if there was
    nothing to do. Raises if clamd could not scan it (the task tries again later)."""
    attachment = Attachment.objects.filter(
        pk=attachment_id, scan_status=ScanStatus.AWAITING
    ).first()
    if attachment is None:
        return None
    scanned_name = attachment.file.name
    signature = uploads.scan_file(attachment.file)
    with transaction.atomic():
        locked = (
            Attachment.objects.select_for_update()
            .select_related("bid")
            .filter(pk=attachment_id)
            .first()
        )
        if (
            locked is None
            or locked.scan_status != ScanStatus.AWAITING
            or locked.file.name != scanned_name
        ):
            return None
        bid = locked.bid
        locked.scan_status = ScanStatus.QUARANTINED if signature else ScanStatus.AVAILABLE
        locked.scan_signature = (signature or "")[:200]
        locked.save(update_fields=["scan_status", "scan_signature"])
        if signature:
            audit_record(
                actor=None,
                action="bid.attachment_quarantined",
                target=bid,
                message=f"A virus was found in {locked.original_name[:100]}: it is quarantined",
                before={"scan_status": ScanStatus.AWAITING},
                after={
                    "name": locked.original_name,
                    "scan_status": locked.scan_status,
                    "signature": signature,
                },
            )
            notify(
                user=locked.uploaded_by,
                subject=f"A virus was found in a file on {bid.reference}",
                body=(
                    f"The virus scanner found {signature} in {locked.original_name}, so nobody can open it. "
                    "Remove it from the bid and upload a clean copy."
                ),
                link=reverse("applications:bid_section", args=[bid.pk, BidSection.ATTACHMENTS]),
            )
        else:
            audit_record(
                actor=None,
                action="bid.attachment_scanned",
                target=bid,
                message=f"{locked.original_name[:100]} scanned: no virus found",
                before={"scan_status": ScanStatus.AWAITING},
                after={"name": locked.original_name, "scan_status": locked.scan_status},
            )
    return locked.scan_status


def bid_attachment_remove(
    *, actor: User, bid: Bid, attachment: Attachment, now: dt.datetime | None = None
) -> None:
    with _editing(
        actor=actor,
        bid=bid,
        now=now,
        section=BidSection.ATTACHMENTS,
        version=None,
        message=f"File removed: {attachment.original_name[:100]}",
    ) as (locked, record):
        found = locked.attachments.filter(pk=attachment.pk).first()
        if found is None:
            raise ValidationError("That file is not on this bid")
        name, storage = found.file.name, found.file.storage
        record.update(
            action="bid.attachment_removed",
            before={"name": found.original_name, "sha256": found.sha256},
        )
        found.delete()
        uploads.delete_after_commit(storage, name)


# Reads used by the views after a write ---------------------------------------------------------


def attachment_download_name(attachment: Attachment) -> str:
    return uploads.safe_download_name(
        attachment.original_name, uploads.by_content_type(attachment.content_type)
    )
