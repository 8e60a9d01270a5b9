"""Calls while they are set up: the fields a call has, the checks on them, creating, changing
and copying a call, and what still stops a call from being published."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from ..access import require_actor
from ..audit import audit_record, snapshot
from ..messages import (
    AMOUNTS_OUT_OF_ORDER,
    ASSESSMENT_DUE_TOO_EARLY,
    CALL_FROZEN,
    CALL_SLUG_TAKEN,
    CLOSES_BEFORE_OPENS,
    CLOSES_IN_PAST,
    DECISIONS_TOO_EARLY,
    DESCRIPTORS_MISSING,
    EOI_CLOSES_AFTER_BIDS_OPEN,
    EOI_CLOSES_BEFORE_OPENS,
    EOI_CLOSES_IN_PAST,
    EOI_CLOSES_NEEDED,
    EOI_OPENS_NEEDED,
    HOST_NOT_IN_FUND,
    MAX_AMOUNT_ZERO,
    NO_COST_SAVING,
    NO_CRITERIA,
    NO_ELIGIBLE_KINDS,
    NO_INNOVATION_TYPES,
    NO_PANEL,
    NO_PATIENT_BENEFIT,
    NO_POTS,
    NOT_A_CHOICE,
    PANEL_MEETING_TOO_EARLY,
    PANEL_NOT_IN_FUND,
    POT_NOT_IN_FUND,
    POT_OF_OTHER_NETWORK,
    POT_WITHOUT_BUDGET,
    QUESTIONS_CLOSE_OUTSIDE_CALL,
    WEIGHTS_NOT_100,
)
from ..models import (
    Call,
    CallStatus,
    Criterion,
    CriterionKind,
    Fund,
    InnovationType,
    Organisation,
    OrganisationKind,
    PartnerKind,
    Pot,
    PotBudget,
    Region,
    RubricDescriptor,
    User,
)
from ..money import ZERO
from ._shared import _add, _lock_call, _save_unique, _validate
from .criteria import CRITERION_FIELDS

# Calls ----------------------------------------------------------------------------------------

CALL_FIELDS = (
    "title",
    "slug",
    "summary",
    "purpose",
    "innovation_types",
    "host_network",
    "opens_at",
    "closes_at",
    "eligible_org_kinds",
    "min_amount",
    "max_amount",
    "max_duration_years",
    "required_partner_kinds",
    "eligible_regions",
    "eligible_networks",
    "endorsement_required",
    "partner_sign_off_required",
    "panel",
    "assessors_per_bid",
    "moderation_threshold",
    "normalise_scores",
    "assessment_due_date",
    "panel_meeting_date",
    "decisions_expected_date",
    "questions_close_at",
    "eoi_stage",
    "eoi_opens_at",
    "eoi_closes_at",
    "eoi_criteria",
)
# Once a call is published applicants rely on everything else; only the later timetable moves
# (and a deadline for questions may be added or moved, always before the closing time).
CALL_FIELDS_EDITABLE_WHEN_PUBLISHED = (
    "assessment_due_date",
    "panel_meeting_date",
    "decisions_expected_date",
    "questions_close_at",
)


def _call_errors(call: Call, pots: list[Pot] | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    fund = call.fund
    if call.slug and Call.objects.filter(slug=call.slug).exclude(pk=call.pk).exists():
        _add(errors, "slug", CALL_SLUG_TAKEN)
    if call.opens_at and call.closes_at and call.closes_at <= call.opens_at:
        _add(errors, "closes_at", CLOSES_BEFORE_OPENS)
    if (
        call.min_amount is not None
        and call.max_amount is not None
        and call.max_amount < call.min_amount
    ):
        _add(errors, "max_amount", AMOUNTS_OUT_OF_ORDER)
    hosts = {
        fund.host_network_id,
        *fund.pots.exclude(network=None).values_list("network_id", flat=True),
    }
    if call.host_network_id and call.host_network_id not in hosts:
        _add(errors, "host_network", HOST_NOT_IN_FUND)
    if pots is not None:
        if any(pot.fund_id != fund.pk for pot in pots):
            _add(errors, "pots", POT_NOT_IN_FUND)
        elif (
            call.host_network_id
            and call.host_network_id != fund.host_network_id
            and any(pot.network_id != call.host_network_id for pot in pots)
        ):
            _add(errors, "pots", POT_OF_OTHER_NETWORK)
    if call.panel is not None and call.panel.fund_id != fund.pk:
        _add(errors, "panel", PANEL_NOT_IN_FUND)
    if not call.innovation_types:
        _add(errors, "innovation_types", NO_INNOVATION_TYPES)
    if not call.eligible_org_kinds:
        _add(errors, "eligible_org_kinds", NO_ELIGIBLE_KINDS)
    network_ids = list(
        Organisation.objects.filter(kind=OrganisationKind.HEALTH_INNOVATION_NETWORK).values_list(
            "pk", flat=True
        )
    )
    for name, choices in (
        ("innovation_types", InnovationType.values),
        ("eligible_org_kinds", OrganisationKind.values),
        ("required_partner_kinds", PartnerKind.values),
        ("eligible_regions", Region.values),
        ("eligible_networks", network_ids),
    ):
        if any(value not in choices for value in getattr(call, name) or []):
            _add(errors, name, NOT_A_CHOICE)
    if (
        call.questions_close_at
        and call.opens_at
        and call.closes_at
        and not (call.opens_at < call.questions_close_at < call.closes_at)
    ):
        _add(errors, "questions_close_at", QUESTIONS_CLOSE_OUTSIDE_CALL)
    if call.eoi_stage:
        if not call.eoi_opens_at:
            _add(errors, "eoi_opens_at", EOI_OPENS_NEEDED)
        if not call.eoi_closes_at:
            _add(errors, "eoi_closes_at", EOI_CLOSES_NEEDED)
        if call.eoi_opens_at and call.eoi_closes_at and call.eoi_closes_at <= call.eoi_opens_at:
            _add(errors, "eoi_closes_at", EOI_CLOSES_BEFORE_OPENS)
        elif call.eoi_closes_at and call.opens_at and call.eoi_closes_at > call.opens_at:
            _add(errors, "eoi_closes_at", EOI_CLOSES_AFTER_BIDS_OPEN)
    closes_on = (
        timezone.localdate(call.closes_at) if call.closes_at and "closes_at" not in errors else None
    )
    due, meeting, decisions = (
        call.assessment_due_date,
        call.panel_meeting_date,
        call.decisions_expected_date,
    )
    if closes_on and due and due <= closes_on:
        _add(errors, "assessment_due_date", ASSESSMENT_DUE_TOO_EARLY)
    if meeting and ((closes_on and meeting <= closes_on) or (due and meeting < due)):
        _add(errors, "panel_meeting_date", PANEL_MEETING_TOO_EARLY)
    if decisions and ((closes_on and decisions <= closes_on) or (meeting and decisions < meeting)):
        _add(errors, "decisions_expected_date", DECISIONS_TOO_EARLY)
    return errors


def _call_snapshot(call: Call) -> dict[str, Any]:
    data = snapshot(call, CALL_FIELDS)
    data["pots"] = sorted(call.pots.values_list("pk", flat=True)) if call.pk else []
    return data


def _criteria_snapshot(call: Call) -> list[dict[str, Any]]:
    return [
        {
            **snapshot(c, CRITERION_FIELDS),
            "descriptors": {str(d.score): d.descriptor for d in c.descriptors.all()},
        }
        for c in call.criteria.prefetch_related("descriptors")
    ]


def _call_values(call: Call, pot_ids: list[int]) -> dict[str, Any]:
    """The call's values for comparing: 2 and 2.0 are the same threshold, list order is ignored."""
    values = {}
    for name in CALL_FIELDS:
        value = getattr(call, Call._meta.get_field(name).attname)  # type: ignore[union-attr]  # CALL_FIELDS are the call's own columns, never a reverse relation
        values[name] = sorted(value) if isinstance(value, list) else value
    values["pots"] = sorted(pot_ids)
    return values


@transaction.atomic
def call_create(
    *, actor: User | None, fund: Fund, pots: list[Pot] | tuple[Pot, ...] = (), **fields: Any
) -> Call:
    """A new draft call on ``fund``. Fields are the model's (see ``CALL_FIELDS``)."""
    require_actor(actor, "governance.manage_fund", fund)
    unknown = set(fields) - set(CALL_FIELDS)
    if unknown:
        raise TypeError(f"call_create got unexpected fields: {sorted(unknown)}")
    fields.setdefault("host_network", fund.host_network)
    fields.setdefault("min_amount", ZERO)
    if not fields.get("slug"):
        fields["slug"] = slugify(fields.get("title") or "")[:80]
    call = Call(fund=fund, status=CallStatus.DRAFT, **fields)
    pots = list(pots)
    _validate(call, _call_errors(call, pots))
    _save_unique(call, "slug", CALL_SLUG_TAKEN)
    call.pots.set(pots)
    audit_record(actor=actor, action="call.created", target=call, after=_call_snapshot(call))
    return call


@transaction.atomic
def call_update(
    *,
    actor: User | None,
    call: Call,
    pots: list[Pot] | tuple[Pot, ...] | None = None,
    **fields: Any,
) -> Call:
    """Change a call. A published call refuses changes to anything applicants rely on."""
    require_actor(actor, "governance.manage_call", call)
    unknown = set(fields) - set(CALL_FIELDS)
    if unknown:
        raise TypeError(f"call_update got unexpected fields: {sorted(unknown)}")
    locked = _lock_call(call)
    before = _call_snapshot(locked)
    old_values = _call_values(locked, before["pots"])
    for name, value in fields.items():
        setattr(locked, name, value)
    if not locked.slug:
        locked.slug = slugify(locked.title)[:80]
    new_pots = list(pots) if pots is not None else None
    proposed = snapshot(locked, CALL_FIELDS)
    proposed["pots"] = sorted(p.pk for p in new_pots) if new_pots is not None else before["pots"]
    new_values = _call_values(locked, proposed["pots"])
    changed = [name for name in (*CALL_FIELDS, "pots") if new_values[name] != old_values[name]]
    if not changed:
        return locked
    errors = _call_errors(locked, new_pots)
    if locked.is_published:
        for name in changed:
            if name not in CALL_FIELDS_EDITABLE_WHEN_PUBLISHED:
                errors[name] = [CALL_FROZEN]
    _validate(locked, errors)
    _save_unique(locked, "slug", CALL_SLUG_TAKEN)
    if new_pots is not None:
        locked.pots.set(new_pots)
    audit_record(
        actor=actor,
        action="call.changed",
        target=locked,
        message=f"Changed {', '.join(changed)}",
        before={k: before[k] for k in changed},
        after={k: proposed[k] for k in changed},
    )
    call.refresh_from_db()
    return locked


@transaction.atomic
def call_copy(
    *,
    actor: User | None,
    source: Call,
    title: str,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    slug: str = "",
) -> Call:
    """A new draft call copied from ``source``: settings, pots, panel, criteria and rubric.

    The later timetable (assessment due, panel meeting, decisions) moves by as many days as
    the closing date does.
    """
    require_actor(actor, "governance.manage_fund", source.fund)
    shift = None
    if closes_at and source.closes_at:
        shift = timezone.localdate(closes_at) - timezone.localdate(source.closes_at)
    fields = {name: getattr(source, name) for name in CALL_FIELDS}
    fields.update(title=title, slug=slug, opens_at=opens_at, closes_at=closes_at)
    for name in (
        "assessment_due_date",
        "panel_meeting_date",
        "decisions_expected_date",
        "questions_close_at",
    ):
        fields[name] = fields[name] + shift if fields[name] and shift is not None else None
    # The expression of interest stage keeps its place before the opening time.
    moved = opens_at - source.opens_at if opens_at and source.opens_at else None
    for name in ("eoi_opens_at", "eoi_closes_at"):
        fields[name] = fields[name] + moved if fields[name] and moved is not None else None
    fields["innovation_types"] = list(source.innovation_types)
    fields["eligible_org_kinds"] = list(source.eligible_org_kinds)
    fields["required_partner_kinds"] = list(source.required_partner_kinds)
    fields["eligible_regions"] = list(source.eligible_regions)
    fields["eligible_networks"] = list(source.eligible_networks)
    call = call_create(actor=actor, fund=source.fund, pots=list(source.pots.all()), **fields)
    call.copied_from = source
    call.save(update_fields=["copied_from"])
    for criterion in source.criteria.prefetch_related("descriptors"):
        copy = Criterion.objects.create(
            call=call, **{name: getattr(criterion, name) for name in CRITERION_FIELDS}
        )
        RubricDescriptor.objects.bulk_create(
            RubricDescriptor(criterion=copy, score=d.score, descriptor=d.descriptor)
            for d in criterion.descriptors.all()
        )
    audit_record(
        actor=actor,
        action="call.copied",
        target=call,
        message=f"Copied from {source.title} ({source.slug})",
        after={"copied_from": source.pk, "criteria": _criteria_snapshot(call)},
    )
    return call


def call_publish_problems(call: Call, now: dt.datetime | None = None) -> dict[str, list[str]]:
    """What stops a call from being published, by the part of the call to fix. Empty = ready."""
    now = now or timezone.now()
    problems = _call_errors(call, list(call.pots.all()))
    criteria = list(call.criteria.prefetch_related("descriptors"))
    if not criteria:
        _add(problems, "criteria", NO_CRITERIA)
    else:
        total = sum(c.weight for c in criteria)
        if total != 100:
            _add(problems, "criteria", f"{WEIGHTS_NOT_100}: they add up to {total}")
        kinds = {c.kind for c in criteria}
        if CriterionKind.COST_SAVING not in kinds:
            _add(problems, "criteria", NO_COST_SAVING)
        if CriterionKind.PATIENT_BENEFIT not in kinds:
            _add(problems, "criteria", NO_PATIENT_BENEFIT)
        for criterion in criteria:
            described = {d.score for d in criterion.descriptors.all() if d.descriptor.strip()}
            missing = [score for score in criterion.scale if score not in described]
            if missing:
                scores = ", ".join(str(s) for s in missing)
                _add(
                    problems,
                    "criteria",
                    f"{DESCRIPTORS_MISSING}: “{criterion.title}” has no descriptor for {scores}",
                )
    if call.closes_at and call.closes_at <= now:
        _add(problems, "closes_at", CLOSES_IN_PAST)
    if call.eoi_stage and call.eoi_closes_at and call.eoi_closes_at <= now:
        _add(problems, "eoi_closes_at", EOI_CLOSES_IN_PAST)
    if not call.max_amount:
        _add(problems, "max_amount", MAX_AMOUNT_ZERO)
    pots = list(call.pots.all())
    if not pots:
        _add(problems, "pots", NO_POTS)
    else:
        funded = set(
            PotBudget.objects.filter(pot__in=pots, amount__gt=0).values_list("pot_id", flat=True)
        )
        for pot in pots:
            if pot.pk not in funded:
                _add(problems, "pots", f"{POT_WITHOUT_BUDGET}: {pot.name}")
    if call.panel_id is None:
        _add(problems, "panel", NO_PANEL)
    return problems
