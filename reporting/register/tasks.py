"""Background work for the register: the open data files built ahead of downloads."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=20 * 60, time_limit=21 * 60)
def build_open_data() -> str | None:
    """Build the unfiltered 360Giving JSON, CSV and XLSX for the current public version."""
    from .opendata_files import open_data_build

    return open_data_build()


@shared_task(acks_late=True)
def refresh_open_data() -> bool:
    """The beat: ask for the open data files when the register has changed since they were built."""
    from .opendata_files import open_data_refresh

    return open_data_refresh()
