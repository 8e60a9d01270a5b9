"""Who may see monitoring returns and impact reports, and what of them is public.

Shared by the reporting stage's three parts (monitoring, impact, register), which read it
rather than each other.

**Returns.** A return is seen by whoever may see its award's private parts
(``awards.visibility.awards_visible_to``): the grantee's members, the fund managers of the
award's call, fund or pot, the fund's auditors and site admins. Nobody else, in any channel;
emails about a return go only to them. The public sees figures only from *approved* returns of
*published* awards (``public_returns``): the register's results and impact reports.

**Impact reports.** The public sees built versions that are published and not withdrawn
(``public_versions``); the fund's managers and auditors see every version of the fund's
reports. A report is public data only: it is built from published awards
(``awards.visibility.published_awards``) and from the released decisions of calls whose
decisions are released (``assessment.visibility.public_decisions``), as of its data cut-off
(``report_awards``, ``report_calls``, ``report_decisions``). A version cannot be published
while its snapshot covers anything else (``publication_blockers`` says what to wait for).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from assessment.models import PanelDecision
from assessment.visibility import public_decisions
from awards.models import Award, DocumentStatus
from awards.visibility import award_private_audience, awards_visible_to, published_awards
from governance.models import (
    PUBLISHED_CALL_STATUSES,
    Call,
    Fund,
    FundRoleKind,
    MembershipRole,
    User,
)

from .models import ImpactReport, MonitoringReturn, ReportScope, ReportVersion, ReturnStatus

# Why a version cannot be published (tests import these).
BUILT_BEFORE_PUBLIC_RULE = (
    "This version was built before reports were limited to published data, so it may show decisions not "
    "yet released or awards that are not on the public register. Request a new version, then publish that."
)
AWARDS_NOT_PUBLIC = (
    "It covers awards that are not on the public register now: {refs}. Request a new version: it will leave "
    "them out."
)
CALLS_NOT_RELEASED = (
    "It covers calls whose decisions are not released now: {calls}. Wait until their decisions are released, "
    "then request a new version."
)
CALL_AWAITING_RELEASE = (
    "The panel's decisions on {call} are not released yet, so this report has nothing public to show. Wait "
    "until the decisions are released, then request a new version."
)
CALL_RELEASED_SINCE = (
    "The panel's decisions on {call} were released after this version was built, so it leaves them out. "
    "Request a new version, then publish that."
)
# The snapshot's record of what it covers, read by ``publication_blockers``.
COVERAGE_SCHEMA = 2


# Monitoring returns ------------------------------------------------------------------------------


def returns_visible_to(user: User) -> QuerySet[MonitoringReturn]:
    return MonitoringReturn.objects.filter(award__in=awards_visible_to(user).values("pk")).select_related(
        "award__pot__fund", "award__recipient", "award__bid__call", "instalment",
    )


def sees_return(user: User, ret: MonitoringReturn) -> bool:
    return user is not None and user.is_authenticated and returns_visible_to(user).filter(pk=ret.pk).exists()


def return_audience(ret: MonitoringReturn, people) -> list[User]:
    """Those of ``people`` who may see the return: emails and notifications about it go only to them."""
    return award_private_audience(ret.award, people)


def public_returns(now=None, *, award=None) -> QuerySet[MonitoringReturn]:
    """Returns whose figures are public: approved, of a published award (of ``award`` only, if
    given: the rule worked out for that award alone instead of over every award)."""
    if award is None:
        return MonitoringReturn.objects.filter(status=ReturnStatus.APPROVED, award__in=published_awards(now).values("pk"))
    return MonitoringReturn.objects.filter(
        status=ReturnStatus.APPROVED, award_id=award.pk, award__in=published_awards(now, among=[award.pk]).values("pk")
    )


# Impact reports: who sees which versions ------------------------------------------------------------


def _fund_access(user: User, prefix: str = "") -> Q:
    """Funds a person manages (as a fund manager of the host network) or audits."""
    return Q(**{
        f"{prefix}host_network__memberships__user": user,
        f"{prefix}host_network__memberships__role": MembershipRole.FUND_MANAGER,
    }) | Q(**{f"{prefix}roles__user": user, f"{prefix}roles__role": FundRoleKind.AUDITOR})


def report_funds_visible_to(user: User) -> QuerySet[Fund]:
    """Funds whose reports (every version, drafts included) a person may see: managers of the host
    network, auditors, site admins."""
    if not user.is_authenticated:
        return Fund.objects.none()
    if user.is_superuser:
        return Fund.objects.all()
    return Fund.objects.filter(_fund_access(user)).distinct()


def reports_visible_to(user: User) -> QuerySet[ImpactReport]:
    funds = report_funds_visible_to(user).values("pk")
    return ImpactReport.objects.filter(fund__in=funds).select_related("fund", "call", "pot", "network", "requested_by")


def report_versions_visible_to(user: User) -> QuerySet[ReportVersion]:
    return ReportVersion.objects.filter(report__in=reports_visible_to(user).values("pk")).select_related(
        "report__fund", "report__call", "report__pot", "report__network", "requested_by", "published_by"
    )


def public_versions() -> QuerySet[ReportVersion]:
    """Versions on the public list: published, not withdrawn, built. Drafts never appear."""
    return ReportVersion.objects.filter(
        status=DocumentStatus.READY, published_at__isnull=False, unpublished_at__isnull=True
    ).select_related("report__fund__host_network", "report__call", "report__pot__network", "report__network")


def version_for_download(user: User, report_id: int, number: int) -> ReportVersion | None:
    """The version whose files ``user`` may download: anyone for a public version; the fund's
    managers and auditors for any other. ``None`` for everyone else (the view answers 404)."""
    version = public_versions().filter(report_id=report_id, number=number).first()
    if version is None and user.is_authenticated:
        version = report_versions_visible_to(user).filter(report_id=report_id, number=number).first()
    return version


# Impact reports: the public data a build reads ------------------------------------------------------


def report_awards(cutoff: dt.datetime) -> QuerySet[Award]:
    """The awards a report may cover: those published at the data cut-off."""
    return published_awards(cutoff).filter(issued_at__lte=cutoff)


def report_calls(cutoff: dt.datetime) -> QuerySet[Call]:
    """Calls whose decisions were released (by the call's release, not by when the panel decided)
    at the data cut-off: the only calls whose bids and decisions a report describes."""
    return Call.objects.filter(
        status__in=PUBLISHED_CALL_STATUSES, decisions_released_at__isnull=False, decisions_released_at__lte=cutoff
    )


def report_decisions(cutoff: dt.datetime, queryset: QuerySet[PanelDecision] | None = None) -> QuerySet[PanelDecision]:
    """The public decisions a report may count: released, on calls released, both by the cut-off."""
    return public_decisions(queryset).filter(
        released_at__lte=cutoff, bid__call__in=report_calls(cutoff).values("pk")
    )


def coverage(*, award_ids, call_ids, withheld_calls) -> dict:
    """What a snapshot covers, stored in its ``meta`` so publication can check it later."""
    return {
        "schema": COVERAGE_SCHEMA,
        "awards": sorted(int(pk) for pk in award_ids),
        "calls": sorted(int(pk) for pk in call_ids),
        "withheld_calls": list(withheld_calls),
    }


def publication_blockers(version: ReportVersion, now: dt.datetime | None = None) -> list[str]:
    """Why the version may not be published now (empty when it may): each reason says what to do
    or wait for. A version may be published only while everything its snapshot covers is public."""
    meta = (version.snapshot or {}).get("meta") or {}
    covered = meta.get("coverage")
    if not covered or covered.get("schema", 0) < COVERAGE_SCHEMA:
        return [BUILT_BEFORE_PUBLIC_RULE]
    now = now or timezone.now()
    problems = []
    report = version.report
    if report.scope == ReportScope.CALL:
        for call in covered.get("withheld_calls", []):
            if call.get("id") == report.call_id:
                released = report_calls(now).filter(pk=report.call_id).exists()  # type: ignore[misc]  # Django takes None (IS NULL); the stubs do not
                message = CALL_RELEASED_SINCE if released else CALL_AWAITING_RELEASE
                problems.append(message.format(call=call.get("title", "the call")))
    award_ids = set(covered.get("awards", []))
    if award_ids:
        public = set(published_awards(now).filter(pk__in=award_ids).values_list("pk", flat=True))
        hidden = sorted(Award.objects.filter(pk__in=award_ids - public).values_list("reference", flat=True))
        if hidden:
            problems.append(AWARDS_NOT_PUBLIC.format(refs=", ".join(hidden)))
    call_ids = set(covered.get("calls", []))
    if call_ids:
        released_ids = set(report_calls(now).filter(pk__in=call_ids).values_list("pk", flat=True))
        waiting = sorted(Call.objects.filter(pk__in=call_ids - released_ids).values_list("title", flat=True))
        if waiting:
            problems.append(CALLS_NOT_RELEASED.format(calls=", ".join(waiting)))
    return problems
