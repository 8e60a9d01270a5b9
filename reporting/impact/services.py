"""Writes for impact reports: one function per state change, each audited, in a transaction.

A version moves ``queued → running → ready | failed``. Requests return at once: the build is
recorded in the outbox with the version and sent to the workers when the transaction commits
(or by the beat, if the broker is down). Workers *claim* a version under a row lock
before building it, so a task delivered twice (Redis redelivers unacknowledged tasks after a
lost worker) builds it once: a finished version is left alone, a version whose worker still
beats its heartbeat is left to that worker, and a version whose worker fell silent is taken
over. Each claim carries a token (the attempt number); a worker that lost its claim cannot save.

Publication is a second lifecycle on the version, apart from the build. Every change of either
goes through its table in ``lifecycle.py``, which checks it and writes the audit event; the row
locks and compare-and-set updates here still decide which worker holds a build.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from awards.models import DocumentStatus
from governance import fy
from governance.access import require_actor
from governance.audit import audit_record, snapshot
from governance.models import Call, Fund, Organisation, OrganisationKind, Pot, User
from governance.outbox import outbox_enqueue, outbox_is_waiting
from governance.services import notify

from ..models import ImpactReport, ReportScope, ReportVersion, report_file_path
from ..visibility import publication_blockers
from .analytics import period_label
from .lifecycle import REPORT_BUILD_LIFECYCLE, REPORT_PUBLICATION_LIFECYCLE
from .messages import (  # the messages live beside the services; kept importable from here
    ALREADY_PUBLISHED as ALREADY_PUBLISHED,
    BUILD_ALREADY_QUEUED as BUILD_ALREADY_QUEUED,
    CALL_NOT_IN_FUND as CALL_NOT_IN_FUND,
    CALL_REQUIRED as CALL_REQUIRED,
    GAVE_UP as GAVE_UP,
    NETWORK_REQUIRED as NETWORK_REQUIRED,
    NOT_A_NETWORK as NOT_A_NETWORK,
    NOT_PUBLISHED as NOT_PUBLISHED,
    ONLY_FAILED_RETRY as ONLY_FAILED_RETRY,
    ONLY_READY_PUBLISH as ONLY_READY_PUBLISH,
    PERIOD_IN_ORDER as PERIOD_IN_ORDER,
    PERIOD_OUTSIDE_FUND as PERIOD_OUTSIDE_FUND,
    POT_NOT_IN_FUND as POT_NOT_IN_FUND,
    POT_REQUIRED as POT_REQUIRED,
    QUEUE_UNAVAILABLE as QUEUE_UNAVAILABLE,
    REASON_REQUIRED as REASON_REQUIRED,
    REPLACED_BY as REPLACED_BY,
    TIMED_OUT as TIMED_OUT,
)

logger = logging.getLogger(__name__)


# The build's lease: a worker beats every HEARTBEAT_SECONDS; silence for LEASE_SECONDS means it was lost.
HEARTBEAT_SECONDS = 5
LEASE_SECONDS = 20
MAX_ATTEMPTS = 5
# A silent build sent again is not sent again before this time has passed.
RESENT_AFTER = dt.timedelta(minutes=5)

REPORT_FIELDS = ("fund", "scope", "call", "pot", "network", "title", "period_start", "period_end", "scheduled_quarterly")
ACTIVE_STATUSES = (DocumentStatus.QUEUED, DocumentStatus.RUNNING)


# Sending builds to the workers ----------------------------------------------------------------

BUILD_TASK = "reporting.impact.tasks.build_impact_report"


def _enqueue_on_commit(version: ReportVersion, enqueue: bool) -> None:
    """Record the build in the outbox with the version: handed to the workers after the commit,
    or by the beat once the broker is back. ``build_waits_for_broker(version)`` says, after the
    commit, whether the broker refused it, so the page can say the build will start later."""
    version.build_message = outbox_enqueue(BUILD_TASK, version.pk) if enqueue else None


def build_waits_for_broker(version: ReportVersion) -> bool:
    return outbox_is_waiting(getattr(version, "build_message", None))


def _new_version(*, report: ImpactReport, actor: User | None, enqueue: bool) -> ReportVersion:
    """Version N+1 of a report, queued. The report row is locked so numbers never clash."""
    ImpactReport.objects.select_for_update().filter(pk=report.pk).first()
    if report.versions.filter(status__in=ACTIVE_STATUSES).exists():
        raise ValidationError(BUILD_ALREADY_QUEUED)
    number = (report.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    now = timezone.now()
    version = ReportVersion(report=report, number=number, status=DocumentStatus.QUEUED, requested_by=actor,
                            created_at=now, enqueued_at=now, step="Waiting for a worker")
    version.full_clean()
    version.save()
    _enqueue_on_commit(version, enqueue)
    return version


# Requests -------------------------------------------------------------------------------------


def default_title(*, fund: Fund, scope: str, call: Call | None, pot: Pot | None, network: Organisation | None,
                  period_start: dt.date, period_end: dt.date) -> str:
    subjects: dict[str, Call | Pot | Organisation | None] = {ReportScope.CALL: call, ReportScope.POT: pot, ReportScope.NETWORK: network}
    subject = subjects.get(scope) or fund
    name = getattr(subject, "title", None) or getattr(subject, "name", str(subject))
    return f"{name}: impact report {period_label(period_start, period_end)}"[:200]


def _check_request(*, fund: Fund, scope: str, call: Call | None, pot: Pot | None, network: Organisation | None,
                   period_start: dt.date, period_end: dt.date) -> None:
    errors: dict[str, str] = {}
    if scope == ReportScope.CALL:
        if call is None:
            errors["call"] = CALL_REQUIRED
        elif call.fund_id != fund.pk:
            errors["call"] = CALL_NOT_IN_FUND
    if scope == ReportScope.POT:
        if pot is None:
            errors["pot"] = POT_REQUIRED
        elif pot.fund_id != fund.pk:
            errors["pot"] = POT_NOT_IN_FUND
    if scope == ReportScope.NETWORK:
        if network is None:
            errors["network"] = NETWORK_REQUIRED
        elif network.kind != OrganisationKind.HEALTH_INNOVATION_NETWORK:
            errors["network"] = NOT_A_NETWORK
    if period_end < period_start:
        errors["period_end"] = PERIOD_IN_ORDER
    elif period_start < fy.FinancialYear(fund.first_year).start or period_end > fy.FinancialYear(fund.last_year).end:
        errors["period_start"] = PERIOD_OUTSIDE_FUND.format(first=fy.label(fund.first_year), last=fy.label(fund.last_year))
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def impact_report_request(
    *, actor: User, fund: Fund, scope: str = ReportScope.FUND, period_start: dt.date, period_end: dt.date,
    title: str = "", call: Call | None = None, pot: Pot | None = None, network: Organisation | None = None,
    scheduled_quarterly: bool = False, enqueue: bool = True,
) -> ReportVersion:
    """Ask for an impact report: the report and its first version, queued for the workers."""
    require_actor(actor, "reporting.request_impact_report", fund)
    _check_request(fund=fund, scope=scope, call=call, pot=pot, network=network,
                   period_start=period_start, period_end=period_end)
    report = ImpactReport(
        fund=fund, scope=scope, period_start=period_start, period_end=period_end,
        call=call if scope == ReportScope.CALL else None, pot=pot if scope == ReportScope.POT else None,
        network=network if scope == ReportScope.NETWORK else None, scheduled_quarterly=scheduled_quarterly,
        title=(title or "").strip() or default_title(fund=fund, scope=scope, call=call, pot=pot, network=network,
                                                     period_start=period_start, period_end=period_end),
        requested_by=actor,
    )
    report.full_clean()
    report.save()
    version = _new_version(report=report, actor=actor, enqueue=enqueue)
    audit_record(actor=actor, action="impact_report.requested", target=report, after=snapshot(report, REPORT_FIELDS),
                 message=f"Version {version.number} queued for building")
    return version


@transaction.atomic
def impact_report_rebuild(*, actor: User | None, report: ImpactReport, enqueue: bool = True) -> ReportVersion:
    """A new version of a report with the data as it stands now."""
    require_actor(actor, "reporting.manage_impact_report", report)
    version = _new_version(report=report, actor=actor, enqueue=enqueue)
    audit_record(actor=actor, action="impact_report.rebuild_requested", target=report,
                 message=f"Version {version.number} queued for building")
    return version


@transaction.atomic
def report_version_retry(*, actor: User, version: ReportVersion, enqueue: bool = True) -> ReportVersion:
    """Try a failed build again. The failed version is kept, with its reason; the retry is a new version."""
    require_actor(actor, "reporting.manage_impact_report", version.report)
    if version.status != DocumentStatus.FAILED:
        raise ValidationError(ONLY_FAILED_RETRY)
    retry = _new_version(report=version.report, actor=actor, enqueue=enqueue)
    audit_record(actor=actor, action="report_version.retried", target=version,
                 message=f"Tried again as version {retry.number}")
    return retry


@transaction.atomic
def impact_report_schedule(*, actor: User, report: ImpactReport, scheduled: bool) -> ImpactReport:
    require_actor(actor, "reporting.manage_impact_report", report)
    before = snapshot(report, ["scheduled_quarterly"])
    report.scheduled_quarterly = scheduled
    report.save(update_fields=["scheduled_quarterly"])
    audit_record(actor=actor, action="impact_report.schedule_changed", target=report, before=before,
                 after=snapshot(report, ["scheduled_quarterly"]),
                 message="Rebuilt every quarter" if scheduled else "No longer rebuilt every quarter")
    return report


def impact_reports_build_scheduled(*, today: dt.date | None = None, enqueue: bool = True) -> list[ReportVersion]:
    """A new version of each report marked for quarterly rebuilds that has none this quarter.

    Safe to run every day: a report gets one scheduled build per NHS quarter.
    """
    today = today or timezone.localdate()
    year, quarter = fy.quarter_of(today)
    quarter_start = timezone.make_aware(dt.datetime.combine(fy.FinancialYear(year).quarter(quarter)[0], dt.time.min))
    due = ImpactReport.objects.filter(scheduled_quarterly=True).exclude(
        Q(versions__created_at__gte=quarter_start) | Q(versions__status__in=ACTIVE_STATUSES)
    ).distinct()
    built = []
    for report in due:
        with transaction.atomic():
            version = _new_version(report=report, actor=None, enqueue=enqueue)
            audit_record(actor=None, action="impact_report.scheduled_build", target=report,
                         message=f"Quarterly rebuild: version {version.number} queued for building")
        built.append(version)
    return built


def report_versions_requeue_stale(*, now: dt.datetime | None = None) -> list[int]:
    """Send again the builds whose worker fell silent (killed, or its machine lost) without
    waiting for the broker to hand the message on (an hour's visibility timeout). A queued build
    the broker refused needs nothing here: its outbox message waits for the beat."""
    now = now or timezone.now()
    stale = ReportVersion.objects.filter(
        Q(status=DocumentStatus.RUNNING) & (Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - dt.timedelta(seconds=LEASE_SECONDS)))
        & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - RESENT_AFTER))
    )
    sent = []
    for version in stale:
        with transaction.atomic():
            if ReportVersion.objects.filter(pk=version.pk).update(enqueued_at=now):
                outbox_enqueue(BUILD_TASK, version.pk)
                sent.append(version.pk)
    if sent:
        logger.info("Sent %s impact report builds whose worker fell silent to the workers again: %s", len(sent), sent)
    return sent


# The build, from the worker's side -------------------------------------------------------------


class BuildSuperseded(Exception):
    """The version was claimed by another worker (or finished): this worker must stop."""


@dataclass
class Claim:
    outcome: str  # "claimed", "finished", "busy", "gone" or "gave_up"
    version_id: int
    token: int = 0
    retry_after: int = 0


@transaction.atomic
def report_version_claim(*, version_id: int, now: dt.datetime | None = None) -> Claim:
    """Take a version for building, under a row lock (see the module docstring)."""
    now = now or timezone.now()
    version = ReportVersion.objects.select_for_update().filter(pk=version_id).first()
    if version is None:
        return Claim("gone", version_id)
    if version.status in (DocumentStatus.READY, DocumentStatus.FAILED):
        return Claim("finished", version_id)
    taking_over = False
    if version.status == DocumentStatus.RUNNING:
        silent = (now - (version.heartbeat_at or version.started_at or now)).total_seconds()
        if silent < LEASE_SECONDS:
            return Claim("busy", version_id, retry_after=int(LEASE_SECONDS - silent) + 1)
        taking_over = True
    if version.attempts >= MAX_ATTEMPTS:
        _fail(version, GAVE_UP.format(attempts=version.attempts), now)
        return Claim("gave_up", version_id)
    attempt = version.attempts + 1
    REPORT_BUILD_LIFECYCLE.apply(
        version, "resume" if taking_over else "start", actor=None, locked=version, clean=False,
        changes={"attempts": attempt, "started_at": now, "heartbeat_at": now, "step": "Starting", "error": ""},
        recorded=(), audit_before={}, audit_after={},
        message=f"The worker building it fell silent; attempt {attempt} started")
    return Claim("claimed", version_id, token=version.attempts)


def report_version_step(*, claim: Claim, step: str) -> None:
    """Record the step a build is on (the page shows it); stop if the claim was lost."""
    updated = ReportVersion.objects.filter(
        pk=claim.version_id, status=DocumentStatus.RUNNING, attempts=claim.token
    ).update(step=step[:100], heartbeat_at=timezone.now())
    if not updated:
        raise BuildSuperseded


def report_version_heartbeat(*, claim: Claim) -> bool:
    return bool(ReportVersion.objects.filter(
        pk=claim.version_id, status=DocumentStatus.RUNNING, attempts=claim.token
    ).update(heartbeat_at=timezone.now()))


def chart_path(version: ReportVersion, key: str) -> str:
    return report_file_path(version, f"charts/{key}.svg")


def _file_name(version: ReportVersion, extension: str) -> str:
    return f"{version.report.fund.slug}-impact-report-{version.report_id}-v{version.number}.{extension}"


@transaction.atomic
def report_version_complete(
    *, claim: Claim, data_cutoff: dt.datetime, snapshot_data: dict[str, Any], pdf: bytes, csv: bytes, xlsx: bytes,
    charts: dict[str, str],
) -> ReportVersion | None:
    """Save a finished build, if this worker still holds the claim. Returns None if it does not."""
    version = ReportVersion.objects.select_for_update().select_related("report__fund").filter(pk=claim.version_id).first()
    if version is None or version.status != DocumentStatus.RUNNING or version.attempts != claim.token:
        return None
    for key, svg in charts.items():
        path = chart_path(version, key)
        if default_storage.exists(path):
            default_storage.delete(path)
        default_storage.save(path, ContentFile(svg.encode("utf-8")))
    version.pdf.save(_file_name(version, "pdf"), ContentFile(pdf), save=False)
    version.csv.save(_file_name(version, "csv"), ContentFile(csv), save=False)
    version.xlsx.save(_file_name(version, "xlsx"), ContentFile(xlsx), save=False)
    version.snapshot = snapshot_data  # too big for the audit event: saved with the change, not recorded
    finished_at = timezone.now()
    REPORT_BUILD_LIFECYCLE.apply(
        version, "complete", actor=None, locked=version, clean=False,
        changes={"data_cutoff": data_cutoff, "finished_at": finished_at, "step": "", "error": ""},
        recorded=(), audit_before={}, audit_after={"number": version.number, "data_cutoff": data_cutoff, "attempts": version.attempts,
                                      "pdf_bytes": len(pdf)},
        message=f"Version {version.number} built in {int((finished_at - (version.started_at or finished_at)).total_seconds())} s")
    _tell_requester(version, subject=f"Impact report ready: {version.report.title}",
                    body=f"Version {version.number} of the impact report is ready to preview and publish.")
    return version


def _tell_requester(version: ReportVersion, *, subject: str, body: str) -> None:
    """Notify whoever asked for the build (for a scheduled build, whoever asked for the report)."""
    user = version.requested_by or version.report.requested_by
    notify(user=user, subject=subject, body=body,
           link=reverse("reporting:report_version", args=[version.report_id, version.number]))


def _fail(version: ReportVersion, reason: str, now: dt.datetime) -> None:
    """Record the failure; ``version`` is the row this transaction holds locked."""
    REPORT_BUILD_LIFECYCLE.apply(version, "fail", actor=None, locked=version, clean=False,
                                 changes={"error": reason, "step": "", "finished_at": now},
                                 recorded=(), audit_before={}, audit_after={}, message=reason)
    _tell_requester(version, subject=f"Impact report failed: {version.report.title}",
                    body=f"Version {version.number} could not be built: {reason}")


@transaction.atomic
def report_version_fail(*, version_id: int, reason: str, claim: Claim | None = None) -> bool:
    """Record that a build failed, and why. Ignored if the version finished or was taken over."""
    version = ReportVersion.objects.select_for_update().select_related("report").filter(pk=version_id).first()
    if version is None or version.status in (DocumentStatus.READY, DocumentStatus.FAILED):
        return False
    if claim is not None and version.attempts != claim.token:
        return False
    _fail(version, reason[:2000], timezone.now())
    return True


@transaction.atomic
def report_version_release(*, claim: Claim, reason: str) -> bool:
    """Give a claimed version back to the queue after a temporary error, for the retry to claim.

    The compare-and-set update decides (and holds the row until the commit): only the worker
    still holding the claim gives it back. The lifecycle then moves it to queued."""
    held = ReportVersion.objects.filter(pk=claim.version_id, status=DocumentStatus.RUNNING, attempts=claim.token).update(
        step=f"Waiting to try again after a temporary problem: {reason}"[:100], heartbeat_at=None,
        enqueued_at=timezone.now())
    if not held:
        return False
    version = ReportVersion.objects.get(pk=claim.version_id)
    REPORT_BUILD_LIFECYCLE.apply(version, "release", actor=None, locked=version, clean=False)
    return True


# Publication --------------------------------------------------------------------------------


@transaction.atomic
def report_version_publish(*, actor: User, version: ReportVersion) -> ReportVersion:
    """Publish a built version on /reports/. The report's previously published version is withdrawn.

    Refused while the version's snapshot covers anything that is not public now (see
    ``reporting.visibility.publication_blockers``): each message says what to wait for."""
    require_actor(actor, "reporting.manage_impact_report", version.report)
    ImpactReport.objects.select_for_update().filter(pk=version.report_id).first()
    version = ReportVersion.objects.select_for_update().select_related("report").get(pk=version.pk)
    if version.status != DocumentStatus.READY:
        raise ValidationError(ONLY_READY_PUBLISH)
    if version.is_public:
        raise ValidationError(ALREADY_PUBLISHED)
    now = timezone.now()
    blockers = publication_blockers(version, now)
    if blockers:
        raise ValidationError(blockers, code="not_public_data")
    for other in version.report.versions.select_for_update().filter(
        published_at__isnull=False, unpublished_at__isnull=True
    ).exclude(pk=version.pk):
        _withdraw(actor=actor, version=other, reason=REPLACED_BY.format(number=version.number), now=now,
                  action="replace")
    REPORT_PUBLICATION_LIFECYCLE.apply(
        version, "publish", actor=actor, locked=version, clean=False,
        changes={"published_at": now, "published_by": actor, "unpublished_at": None, "unpublished_reason": ""},
        message=f"Version {version.number} published")
    return version


def _withdraw(*, actor: User, version: ReportVersion, reason: str, now: dt.datetime, action: str = "withdraw") -> None:
    """Take a locked, public version off the public list (by hand, or replaced by a newer one)."""
    REPORT_PUBLICATION_LIFECYCLE.apply(version, action, actor=actor, locked=version, clean=False,
                                       changes={"unpublished_at": now, "unpublished_reason": reason}, message=reason)


@transaction.atomic
def report_version_unpublish(*, actor: User, version: ReportVersion, reason: str) -> ReportVersion:
    """Withdraw a published version from the public list, recording why."""
    require_actor(actor, "reporting.manage_impact_report", version.report)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    version = ReportVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_public:
        raise ValidationError(NOT_PUBLISHED)
    _withdraw(actor=actor, version=version, reason=reason, now=timezone.now())
    return version
