"""What the topic modules of the assessment selectors share: which assignments, bids and panel
roles count, and a call's criteria."""

from __future__ import annotations

from decimal import Decimal

from applications.models import BidStatus
from governance.models import Call, Criterion, PanelRole

from .. import scoring
from ..models import AssignmentStatus

ZERO = Decimal("0.00")
# Assignments that still count: the assessor has not withdrawn or declared a conflict.
LIVE_STATUSES = (AssignmentStatus.AWAITING_DECLARATION, AssignmentStatus.ACTIVE)
# Bids that take part in a call's assessment once it has started.
ASSESSED_BID_STATUSES = (BidStatus.IN_ASSESSMENT, BidStatus.FUNDED, BidStatus.NOT_FUNDED)
# Panel roles that score bids (observers do not).
SCORING_ROLES = (PanelRole.ASSESSOR, PanelRole.LAY_MEMBER, PanelRole.CHAIR, PanelRole.DEPUTY_CHAIR)
# Panel roles that moderate and decide: the chair, and the deputy chair on bids every chair is
# conflicted on (see ``bids_chaired_by``).
CHAIRING_ROLES = (PanelRole.CHAIR, PanelRole.DEPUTY_CHAIR)
# Automatic assignment spreads work over assessors and lay members first; chairs, who also
# moderate and decide, are given bids last.
ROLE_PREFERENCE: dict[str, int] = {
    PanelRole.ASSESSOR: 0,
    PanelRole.LAY_MEMBER: 0,
    PanelRole.CHAIR: 1,
    PanelRole.DEPUTY_CHAIR: 1,
}


def criteria_of(call: Call) -> list[Criterion]:
    """The call's criteria in order (uses a prefetch when the call came with one)."""
    return list(call.criteria.all())


def criteria_with_rubric(call: Call) -> list[Criterion]:
    return list(
        Criterion.objects.filter(call=call)
        .prefetch_related("descriptors")
        .order_by("position", "pk")
    )


def criterion_specs(criteria: list[Criterion]) -> list[scoring.CriterionSpec]:
    return [
        scoring.CriterionSpec(
            id=c.pk,
            weight=c.weight,
            scale_min=c.scale_min,
            scale_max=c.scale_max,
            gateway_min=c.gateway_min_score,
            title=c.title,
        )
        for c in criteria
    ]
