"""The build of one report version, step by step, as the Celery task runs it.

``report_version_build`` claims the version (see ``services``), then reads the data in one
consistent snapshot, works out the figures, draws the charts, lays out the HTML, renders the
PDF, writes the CSV and XLSX and saves everything, recording each step for the progress page.
A heartbeat thread shows the worker is alive during long steps (WeasyPrint on a big fund).

Temporary errors (the database or the broker briefly away) are raised to the task, which gives
the version back to the queue and retries with backoff; anything else fails the version with
its reason. The pipeline functions are also what ``benchmarks/impact_report.py`` times.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from ..models import ImpactReport, ReportVersion
from . import services
from .analytics import impact_snapshot
from .charts import draw_charts
from .document import render_document_html, render_pdf
from .exports import report_csv, report_xlsx
from .selectors import Sources, impact_sources

logger = logging.getLogger(__name__)

# Errors worth retrying: the database or the broker was briefly unreachable.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)

STEP_READ = "Reading the data"
STEP_FIGURES = "Working out the figures"
STEP_CHARTS = "Drawing the charts"
STEP_HTML = "Laying out the report"
STEP_PDF = "Making the PDF"
STEP_EXPORTS = "Making the CSV and spreadsheet"
STEP_SAVE = "Saving the files"
STEPS = (STEP_READ, STEP_FIGURES, STEP_CHARTS, STEP_HTML, STEP_PDF, STEP_EXPORTS, STEP_SAVE)


def read_consistently(report: ImpactReport) -> tuple[dt.datetime, Sources]:
    """The data cut-off and the source data, read in one repeatable-read transaction on
    PostgreSQL so every figure comes from the same moment."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cutoff = timezone.now()
        return cutoff, impact_sources(report, cutoff)


@dataclass
class Built:
    data_cutoff: dt.datetime
    snapshot: dict
    charts: dict[str, str]
    html: str
    pdf: bytes
    csv: bytes
    xlsx: bytes


def build_outputs(report: ImpactReport, *, version_number: int | None = None, on_step=None) -> Built:
    """Everything a version holds, computed from the data as it stands now."""
    step = on_step or (lambda name: None)
    step(STEP_READ)
    cutoff, sources = read_consistently(report)
    step(STEP_FIGURES)
    snapshot = impact_snapshot(report, sources, cutoff)
    step(STEP_CHARTS)
    charts = draw_charts(snapshot)
    step(STEP_HTML)
    html = render_document_html(snapshot, charts, generated_at=timezone.now(), version_number=version_number)
    step(STEP_PDF)
    pdf = render_pdf(html)
    step(STEP_EXPORTS)
    return Built(cutoff, snapshot, charts, html, pdf, report_csv(snapshot), report_xlsx(snapshot))


class Heartbeat(threading.Thread):
    """Beats the claimed version's heartbeat every few seconds, on its own connection."""

    def __init__(self, claim: services.Claim, interval: float = services.HEARTBEAT_SECONDS):
        super().__init__(name=f"impact-report-heartbeat-{claim.version_id}", daemon=True)
        self.claim = claim
        self.interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self._stopped.wait(self.interval):
                try:
                    if not services.report_version_heartbeat(claim=self.claim):
                        return
                except DatabaseError:
                    logger.warning("Heartbeat of impact report version %s missed", self.claim.version_id)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stopped.set()
        if self.is_alive():
            self.join(timeout=self.interval + 5)


def report_version_build(*, version_id: int, heartbeat: bool = True) -> services.Claim:
    """Build a version if it is this worker's to build; see the module docstring."""
    claim = services.report_version_claim(version_id=version_id)
    if claim.outcome != "claimed":
        logger.info("Impact report version %s not built here: %s", version_id, claim.outcome)
        return claim
    version = ReportVersion.objects.select_related("report__fund", "report__call", "report__pot",
                                                   "report__network").get(pk=version_id)
    beat = Heartbeat(claim) if heartbeat else None
    if beat:
        beat.start()
    try:
        built = build_outputs(version.report, version_number=version.number,
                              on_step=lambda name: services.report_version_step(claim=claim, step=name))
        services.report_version_step(claim=claim, step=STEP_SAVE)
        saved = services.report_version_complete(
            claim=claim, data_cutoff=built.data_cutoff, snapshot_data=built.snapshot, pdf=built.pdf,
            csv=built.csv, xlsx=built.xlsx, charts=built.charts,
        )
        if saved is None:
            raise services.BuildSuperseded
        claim.outcome = "built"
    except services.BuildSuperseded:
        logger.info("Impact report version %s was taken over by another worker; this build stops", version_id)
        claim.outcome = "superseded"
    except SoftTimeLimitExceeded:
        from .tasks import build_impact_report

        minutes = int((build_impact_report.soft_time_limit or 0) // 60)
        services.report_version_fail(version_id=version_id, claim=claim, reason=services.TIMED_OUT.format(minutes=minutes))
        claim.outcome = "failed"
    except TRANSIENT_ERRORS as exc:
        # Give the version back to the queue for the task's retry. If the database itself is
        # away this fails too; the retry then takes over once the heartbeat has lapsed.
        try:
            services.report_version_release(claim=claim, reason=type(exc).__name__)
        except DatabaseError:
            logger.warning("Impact report version %s could not be given back to the queue", version_id)
        raise
    except Exception as exc:
        logger.exception("Impact report version %s failed", version_id)
        reason = f"The build stopped with an error ({type(exc).__name__}: {str(exc)[:300]})"
        services.report_version_fail(version_id=version_id, claim=claim, reason=reason)
        claim.outcome = "failed"
    finally:
        if beat:
            beat.stop()
    return claim
