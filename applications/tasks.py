"""Background work for the applications stage. Tasks take ids and call services."""

import clamd
from celery import shared_task

from governance.uploads import ScanFailed

from .services import attachment_scan


@shared_task(
    autoretry_for=(clamd.ClamdError, ScanFailed, OSError),
    retry_backoff=15, retry_backoff_max=900, retry_jitter=True, max_retries=10,
)
def scan_attachment(attachment_id: int) -> str | None:
    """Have clamd scan a bid attachment. Safe to run twice: a scanned file is left alone."""
    return attachment_scan(attachment_id=attachment_id)
