"""How monitoring follows the awards stage: receivers and page sections registered in
``ReportingConfig.ready()``."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from awards.models import Award
from governance.ui import DashboardPanel

from ..models import MonitoringReturn, ReturnStatus
from . import services

log = logging.getLogger(__name__)


def sync_schedule_after_change(sender, *, award: Award, **kwargs) -> None:
    """Bring the award's returns in step once its change has committed. A failure here is
    logged and left to the hourly run, which syncs every live award anyway."""
    award_id = award.pk

    def sync() -> None:
        services.return_schedule_sync(award=Award.objects.get(pk=award_id))

    transaction.on_commit(sync, robust=True)


def award_section(request, award: Award) -> list[DashboardPanel]:
    """The award page's "Monitoring returns" section: counts and a link to the schedule."""
    today = timezone.localdate()
    counts = MonitoringReturn.objects.filter(award=award).aggregate(
        total=Count("pk"),
        approved=Count("pk", filter=Q(status=ReturnStatus.APPROVED)),
        awaiting_review=Count("pk", filter=Q(status=ReturnStatus.SUBMITTED)),
        overdue=Count("pk", filter=Q(status__in=[ReturnStatus.OPEN, ReturnStatus.RETURNED], due_date__lt=today)),
    )
    return [DashboardPanel(
        "Monitoring returns", "reporting/monitoring/award_section.html",
        {"counts": counts, "url": reverse("reporting:award_returns", args=[award.reference])}, order=60,
    )]
