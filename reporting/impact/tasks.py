"""Background work for impact reports: builds, lost builds sent again, quarterly rebuilds.

Tasks take ids and call services."""

from __future__ import annotations

import random

from celery import shared_task

from . import build as impact_build, services as impact_services

# A big fund's report takes a minute or two; the limits leave room and stay well under the
# broker's visibility timeout (an hour), so Redis never hands a live build to another worker.
IMPACT_SOFT_TIME_LIMIT = 20 * 60
IMPACT_TIME_LIMIT = IMPACT_SOFT_TIME_LIMIT + 60


def _backoff(retries: int) -> int:
    """Seconds before retrying after a temporary error: past the lease (so a build whose worker
    could not give it back is taken over), doubling, at most ten minutes, with jitter."""
    base = impact_services.LEASE_SECONDS + 1
    return min(base * 2**retries, 600) + random.randint(0, 5)  # noqa: S311 - jitter, not security


@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None,
    soft_time_limit=IMPACT_SOFT_TIME_LIMIT, time_limit=IMPACT_TIME_LIMIT,
)
def build_impact_report(self, version_id: int) -> str:
    """Build one impact report version. Safe to deliver twice: see ``reporting.impact.services``.

    Temporary errors retry with backoff (the claim limits a version to MAX_ATTEMPTS builds);
    a version another live worker is building is checked again once its lease could lapse.
    """
    eager = self.request.is_eager
    try:
        claim = impact_build.report_version_build(version_id=version_id, heartbeat=not eager)
    except impact_build.TRANSIENT_ERRORS as exc:
        if eager:
            # Run in-process (no broker): try again at once, a few times, then record the failure.
            if self.request.retries >= impact_services.MAX_ATTEMPTS:
                impact_services.report_version_fail(version_id=version_id, reason=f"The build kept meeting a temporary error ({exc})")
                return "failed"
            return self.retry(exc=exc, countdown=0, throw=False)  # apply() runs the retry straight away
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    if claim.outcome == "busy" and not eager:
        raise self.retry(countdown=claim.retry_after)
    return claim.outcome


@shared_task(acks_late=True)
def requeue_stale_impact_reports() -> int:
    """Beat, every five minutes: send lost builds to the workers again."""
    return len(impact_services.report_versions_requeue_stale())


@shared_task(acks_late=True)
def build_scheduled_impact_reports() -> int:
    """Beat, daily: a new version of each report marked for quarterly rebuilds, once a quarter."""
    return len(impact_services.impact_reports_build_scheduled())
