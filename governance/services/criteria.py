"""A call's criteria and rubric: adding, changing and removing criteria with their
descriptors, and setting every weight at once, while the call is still a draft."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Sum

from ..access import require_actor
from ..audit import audit_record, snapshot
from ..messages import (
    CRITERIA_FROZEN,
    GATEWAY_OUTSIDE_SCALE,
    SCALE_OUT_OF_ORDER,
    WEIGHTS_NOT_100,
    WEIGHTS_OVER_100,
)
from ..models import Call, Criterion, RubricDescriptor, User
from ._shared import _add, _lock_call, _validate

# Criteria and rubric ----------------------------------------------------------------------------

CRITERION_FIELDS = (
    "kind",
    "title",
    "guidance_for_applicants",
    "guidance_for_assessors",
    "weight",
    "scale_min",
    "scale_max",
    "gateway_min_score",
    "position",
)


def _criterion_errors(criterion: Criterion) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if criterion.scale_min is not None and criterion.scale_max is not None:
        if criterion.scale_max <= criterion.scale_min:
            _add(errors, "scale_max", SCALE_OUT_OF_ORDER)
        elif criterion.gateway_min_score is not None and not (
            criterion.scale_min <= criterion.gateway_min_score <= criterion.scale_max
        ):
            _add(errors, "gateway_min_score", GATEWAY_OUTSIDE_SCALE)
    if criterion.weight:
        others = (
            criterion.call.criteria.exclude(pk=criterion.pk).aggregate(total=Sum("weight"))["total"]
            or 0
        )
        if others + criterion.weight > 100:
            _add(errors, "weight", f"{WEIGHTS_OVER_100}: the other criteria already have {others}")
    return errors


def _refuse_if_frozen(call: Call) -> None:
    if call.criteria_frozen:
        raise ValidationError(CRITERIA_FROZEN, code="frozen")


def _set_descriptors(criterion: Criterion, descriptors: dict[int, str] | None) -> None:
    criterion.descriptors.exclude(score__range=(criterion.scale_min, criterion.scale_max)).delete()
    if descriptors is None:
        return
    for score in criterion.scale:
        text = (descriptors.get(score) or "").strip()
        if text:
            RubricDescriptor.objects.update_or_create(
                criterion=criterion, score=score, defaults={"descriptor": text}
            )
        else:
            criterion.descriptors.filter(score=score).delete()


def _criterion_snapshot(criterion: Criterion) -> dict[str, Any]:
    return {
        **snapshot(criterion, CRITERION_FIELDS),
        "descriptors": {str(d.score): d.descriptor for d in criterion.descriptors.all()},
    }


@transaction.atomic
def criterion_add(
    *,
    actor: User | None,
    call: Call,
    descriptors: dict[int, str] | None = None,
    **fields: Any,
) -> Criterion:
    """Add a criterion (and its rubric: a descriptor per score) to a draft call."""
    require_actor(actor, "governance.manage_call", call)
    unknown = set(fields) - set(CRITERION_FIELDS)
    if unknown:
        raise TypeError(f"criterion_add got unexpected fields: {sorted(unknown)}")
    locked = _lock_call(call)
    _refuse_if_frozen(locked)
    if "position" not in fields:
        fields["position"] = (locked.criteria.aggregate(last=Max("position"))["last"] or 0) + 1
    criterion = Criterion(call=locked, **fields)
    _validate(criterion, _criterion_errors(criterion))
    criterion.save()
    _set_descriptors(criterion, descriptors)
    audit_record(
        actor=actor,
        action="criterion.added",
        target=criterion,
        after=_criterion_snapshot(criterion),
    )
    return criterion


@transaction.atomic
def criterion_update(
    *,
    actor: User | None,
    criterion: Criterion,
    descriptors: dict[int, str] | None = None,
    **fields: Any,
) -> Criterion:
    require_actor(actor, "governance.manage_call", criterion.call)
    unknown = set(fields) - set(CRITERION_FIELDS)
    if unknown:
        raise TypeError(f"criterion_update got unexpected fields: {sorted(unknown)}")
    locked_call = _lock_call(criterion.call)
    _refuse_if_frozen(locked_call)
    criterion = Criterion.objects.get(pk=criterion.pk)
    before = _criterion_snapshot(criterion)
    for name, value in fields.items():
        setattr(criterion, name, value)
    _validate(criterion, _criterion_errors(criterion))
    criterion.save()
    _set_descriptors(criterion, descriptors)
    after = _criterion_snapshot(criterion)
    if after != before:
        changed = [k for k in after if after[k] != before[k]]
        audit_record(
            actor=actor,
            action="criterion.changed",
            target=criterion,
            message=f"Changed {', '.join(changed)}",
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return criterion


@transaction.atomic
def criterion_remove(*, actor: User | None, criterion: Criterion) -> None:
    require_actor(actor, "governance.manage_call", criterion.call)
    locked_call = _lock_call(criterion.call)
    _refuse_if_frozen(locked_call)
    audit_record(
        actor=actor,
        action="criterion.removed",
        target=criterion,
        before=_criterion_snapshot(criterion),
    )
    criterion.delete()


@transaction.atomic
def criteria_weights_set(*, actor: User | None, call: Call, weights: dict[int, int]) -> None:
    """Set every criterion's weight at once; they must add up to exactly 100."""
    require_actor(actor, "governance.manage_call", call)
    locked = _lock_call(call)
    _refuse_if_frozen(locked)
    criteria = {c.pk: c for c in locked.criteria.all()}
    if set(weights) != set(criteria):
        raise ValidationError({"weights": "Give a weight for each of the call's criteria"})
    total = sum(weights.values())
    if total != 100:
        raise ValidationError({"weights": f"{WEIGHTS_NOT_100}: they add up to {total}"})
    before = {str(pk): c.weight for pk, c in criteria.items()}
    for pk, criterion in criteria.items():
        criterion.weight = weights[pk]
        criterion.full_clean()
    for criterion in criteria.values():
        criterion.save(update_fields=["weight"])
    after = {str(pk): weights[pk] for pk in criteria}
    if after != before:
        audit_record(
            actor=actor,
            action="criteria.weights_set",
            target=locked,
            before=before,
            after=after,
            message="Criteria weights changed",
        )
