"""Reads about people, organisations and their roles."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import (
    COMMISSIONING_KINDS,
    PUBLISHED_CALL_STATUSES,
    AuditEvent,
    Call,
    CallStatus,
    Fund,
    FundRole,
    FundRoleKind,
    Membership,
    MembershipRole,
    Notification,
    Organisation,
    OrganisationKind,
    PanelMember,
    PanelRole,
    User,
)


@dataclass
class Roles:
    """What a signed-in person may do, worked out once per request from their memberships."""

    managed_network_ids: set[int] = field(default_factory=set)
    member_org_ids: set[int] = field(default_factory=set)
    commissioner_org_ids: set[int] = field(default_factory=set)
    assessor_panel_ids: set[int] = field(default_factory=set)
    chair_panel_ids: set[int] = field(default_factory=set)
    audited_fund_ids: set[int] = field(default_factory=set)
    is_site_admin: bool = False

    @property
    def is_fund_manager(self) -> bool:
        return bool(self.managed_network_ids)

    @property
    def is_applicant(self) -> bool:
        return bool(self.member_org_ids)

    @property
    def is_commissioner(self) -> bool:
        return bool(self.commissioner_org_ids)

    @property
    def is_assessor(self) -> bool:
        return bool(self.assessor_panel_ids)

    @property
    def is_panel_chair(self) -> bool:
        return bool(self.chair_panel_ids)

    @property
    def is_auditor(self) -> bool:
        return bool(self.audited_fund_ids)

    @property
    def labels(self) -> list[str]:
        names = [
            (self.is_fund_manager, "Fund manager"),
            (self.is_applicant, "Applicant"),
            (self.is_commissioner, "Commissioner"),
            (self.is_assessor, "Assessor"),
            (self.is_panel_chair, "Panel chair"),
            (self.is_auditor, "Auditor"),
            (self.is_site_admin, "Site admin"),
        ]
        return [name for held, name in names if held]


def roles_of(user: User) -> Roles:
    """Three small queries; views reach it through ``request.roles`` (cached per request)."""
    roles = Roles()
    if not user.is_authenticated:
        return roles
    roles.is_site_admin = user.is_superuser
    for org_id, kind, role in Membership.objects.filter(user=user).values_list(
        "organisation_id", "organisation__kind", "role"
    ):
        if role == MembershipRole.FUND_MANAGER and kind == OrganisationKind.HEALTH_INNOVATION_NETWORK:
            roles.managed_network_ids.add(org_id)
        if kind != OrganisationKind.HEALTH_INNOVATION_NETWORK:
            roles.member_org_ids.add(org_id)
        if kind in COMMISSIONING_KINDS:
            roles.commissioner_org_ids.add(org_id)
    for panel_id, role in PanelMember.objects.filter(user=user).values_list("panel_id", "role"):
        if role == PanelRole.CHAIR:
            roles.chair_panel_ids.add(panel_id)
        if role in (PanelRole.ASSESSOR, PanelRole.LAY_MEMBER, PanelRole.CHAIR):
            roles.assessor_panel_ids.add(panel_id)
    roles.audited_fund_ids = set(
        FundRole.objects.filter(user=user, role=FundRoleKind.AUDITOR).values_list("fund_id", flat=True)
    )
    return roles


def request_roles(request) -> Roles:
    """The roles of the request's user, computed at most once per request."""
    cached = getattr(request, "_portal_roles", None)
    if cached is None:
        cached = roles_of(request.user)
        request._portal_roles = cached
    return cached


def organisations_of(user: User) -> QuerySet[Organisation]:
    return Organisation.objects.filter(memberships__user=user).distinct()


def organisation_search(query: str, limit: int = 20) -> QuerySet[Organisation]:
    """Organisations by part of their name or by ODS code."""
    query = (query or "").strip()[:100]
    if not query:
        return Organisation.objects.none()
    return Organisation.objects.filter(Q(name__icontains=query) | Q(ods_code__iexact=query)).order_by("name")[:limit]


def funds_visible_to(user: User) -> QuerySet[Fund]:
    """Funds a person manages (through their network) or audits."""
    if user.is_superuser:
        return Fund.objects.all()
    return Fund.objects.filter(
        Q(host_network__memberships__user=user, host_network__memberships__role=MembershipRole.FUND_MANAGER)
        | Q(pots__network__memberships__user=user, pots__network__memberships__role=MembershipRole.FUND_MANAGER)
        | Q(roles__user=user, roles__role=FundRoleKind.AUDITOR)
    ).distinct()


def audit_events_for_fund(fund: Fund) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(fund=fund).select_related("actor")


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def unread_notification_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# Calls ---------------------------------------------------------------------------------------


def calls_public() -> QuerySet[Call]:
    """Every call the public may see: anything but a draft."""
    return Call.objects.filter(status__in=PUBLISHED_CALL_STATUSES).select_related("fund", "host_network")


def calls_open_now(now: dt.datetime | None = None) -> QuerySet[Call]:
    """Calls accepting bids at ``now``, by their times, whether or not the beat task has run."""
    now = now or timezone.now()
    return calls_public().filter(
        status__in=[CallStatus.SCHEDULED, CallStatus.OPEN], opens_at__lte=now, closes_at__gt=now
    ).order_by("closes_at")
