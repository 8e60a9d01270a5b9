"""The append-only audit trail: one function writes every event.

Services call ``audit_record`` inside the same transaction as the change they record, so
a change and its audit event are committed together or not at all.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models

from .models import AuditEvent, Fund, User

SYSTEM_ACTOR_LABEL = "Fund Portal (scheduled task)"


def to_json(value: Any) -> Any:
    """Make a value safe for a JSON field: money as text so pence are never rounded."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    return str(value)


def snapshot(instance: models.Model, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The named fields of an instance as JSON, for an event's before and after."""
    result = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if isinstance(field, models.ForeignKey):
            result[name] = getattr(instance, field.attname)
        else:
            result[name] = to_json(getattr(instance, name))
    return result


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    message: str = "",
    fund: Fund | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one event. ``actor=None`` means the portal itself (a scheduled task).

    The fund is taken from the target's ``audit_fund`` when not given, so the fund's audit
    trail page finds every event about anything in the fund.
    """
    if fund is None:
        fund = getattr(target, "audit_fund", None)
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=(f"{actor.full_name} <{actor.email}>" if actor else SYSTEM_ACTOR_LABEL)[:200],
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=str(target)[:300],
        fund=fund,
        message=message,
        before=to_json(before) if before is not None else None,
        after=to_json(after) if after is not None else None,
    )
