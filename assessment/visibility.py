"""Who may see panel decisions, and which of them are public.

A decision is public once it is released and its call's decisions are released (the call is
published and its release time has passed). Every channel that shows decisions to the public
(the register, open data, the API, impact reports) reads them through ``public_decisions``.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from governance.models import PUBLISHED_CALL_STATUSES

from .models import PanelDecision


def public_decisions(queryset: QuerySet[PanelDecision] | None = None) -> QuerySet[PanelDecision]:
    """The released, public panel decisions (of ``queryset``, or of all decisions)."""
    now = timezone.now()
    decisions = queryset if queryset is not None else PanelDecision.objects.all()
    return decisions.filter(
        Q(released_at__isnull=False, released_at__lte=now),
        bid__call__decisions_released_at__isnull=False,
        bid__call__decisions_released_at__lte=now,
        bid__call__status__in=PUBLISHED_CALL_STATUSES,
    )
