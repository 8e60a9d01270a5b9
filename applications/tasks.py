"""Background work for the applications stage. Tasks take ids and call services."""

import datetime as dt
import logging

import clamd
from celery import shared_task
from django.conf import settings

from governance.uploads import ScanFailed

from .selectors import attachments_awaiting_scan
from .services import attachment_scan

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(clamd.ClamdError, ScanFailed, OSError),
    retry_backoff=15, retry_backoff_max=900, retry_jitter=True, max_retries=10,
)
def scan_attachment(attachment_id: int) -> str | None:
    """Have clamd scan a bid attachment. Safe to run twice: a scanned file is left alone."""
    return attachment_scan(attachment_id=attachment_id)


@shared_task
def rescan_awaiting_attachments() -> int:
    """Periodic: send files still awaiting their scan to be scanned again (idempotent)."""
    waiting = attachments_awaiting_scan(older_than=dt.timedelta(seconds=settings.UPLOAD_RESCAN_AFTER_SECONDS))
    for attachment_id in waiting:
        scan_attachment.delay(attachment_id)
    if waiting:
        logger.warning("Sent %d attachments awaiting their virus scan to be scanned again", len(waiting))
    return len(waiting)
