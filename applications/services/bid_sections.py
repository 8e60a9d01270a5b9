"""Saving a bid's sections that hold text and lists: summary, innovation, care pathway,
delivery (with its milestones), patient benefits and risks; and confirming a section with
nothing to change. Each save names the version its writer opened (see ``_shared._editing``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError

from governance.audit import snapshot
from governance.models import User

from .. import checks
from ..lifecycle import clean_bid as _clean_bid
from ..messages import CARE_SETTING_UNKNOWN, INNOVATION_TYPE_UNKNOWN, TITLE_NEEDED
from ..models import BenefitMeasure, Bid, BidSection, CareSetting, Milestone, Risk
from ._shared import _clean_text, _editing, _replace

SUMMARY_FIELDS = ("title", "summary", "problem", "start_date", "end_date")
INNOVATION_FIELDS = ("innovation_type", "innovation_description", "evidence_base", "nice_evidence")
PATHWAY_FIELDS = ("care_settings", "pathway_description")
DELIVERY_FIELDS = ("delivery_plan", "sustainability_plan")


# Sections: text ---------------------------------------------------------------------------------


def _save_fields(
    *,
    actor: User,
    bid: Bid,
    section: str,
    version: int,
    fields: tuple[str, ...],
    values: Mapping[str, Any],
    validate: Callable[[Bid], None] | None = None,
    now: dt.datetime | None = None,
) -> Bid:
    with _editing(actor=actor, bid=bid, now=now, section=section, version=version) as (
        locked,
        record,
    ):
        before = snapshot(locked, fields)
        for name in fields:
            value = values.get(name)
            if isinstance(value, str):
                value = value.strip()
            setattr(
                locked,
                name,
                value
                if value is not None
                else ("" if name not in ("start_date", "end_date") else None),
            )
        if validate:
            validate(locked)
        _clean_bid(locked)
        locked.save(update_fields=[*fields, "updated_at"])
        record.update(before=before, after=snapshot(locked, fields))
    return bid


def bid_summary_save(
    *,
    actor: User,
    bid: Bid,
    version: int,
    title: str,
    summary: str = "",
    problem: str = "",
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Bid:
    def validate(locked: Bid) -> None:
        errors = {}
        if not locked.title:
            errors["title"] = TITLE_NEEDED
        if locked.start_date and locked.end_date:
            message = checks.duration_problem(
                locked.call, locked.start_date, locked.end_date
            ) or checks.fund_years_problem(locked.call, locked.start_date, locked.end_date)
            if message:
                errors["end_date"] = message
        if errors:
            raise ValidationError(errors)

    return _save_fields(
        actor=actor,
        bid=bid,
        now=now,
        section=BidSection.SUMMARY,
        version=version,
        fields=SUMMARY_FIELDS,
        validate=validate,
        values={
            "title": title,
            "summary": summary,
            "problem": problem,
            "start_date": start_date,
            "end_date": end_date,
        },
    )


def bid_innovation_save(
    *,
    actor: User,
    bid: Bid,
    version: int,
    innovation_type: str = "",
    innovation_description: str = "",
    evidence_base: str = "",
    nice_evidence: str = "",
    now: dt.datetime | None = None,
) -> Bid:
    def validate(locked: Bid) -> None:
        if locked.innovation_type and locked.innovation_type not in (
            locked.call.innovation_types or []
        ):
            raise ValidationError({"innovation_type": INNOVATION_TYPE_UNKNOWN})

    return _save_fields(
        actor=actor,
        bid=bid,
        now=now,
        section=BidSection.INNOVATION,
        version=version,
        fields=INNOVATION_FIELDS,
        validate=validate,
        values={
            "innovation_type": innovation_type,
            "innovation_description": innovation_description,
            "evidence_base": evidence_base,
            "nice_evidence": nice_evidence,
        },
    )


def bid_pathway_save(
    *,
    actor: User,
    bid: Bid,
    version: int,
    care_settings: Iterable[str] = (),
    pathway_description: str = "",
    now: dt.datetime | None = None,
) -> Bid:
    settings_list = [value for value in CareSetting.values if value in set(care_settings)]
    if set(care_settings) - set(CareSetting.values):
        raise ValidationError({"care_settings": CARE_SETTING_UNKNOWN})
    return _save_fields(
        actor=actor,
        bid=bid,
        now=now,
        section=BidSection.PATHWAY,
        version=version,
        fields=PATHWAY_FIELDS,
        values={"care_settings": settings_list, "pathway_description": pathway_description},
    )


def bid_delivery_save(
    *,
    actor: User,
    bid: Bid,
    version: int,
    delivery_plan: str = "",
    sustainability_plan: str = "",
    milestones: Sequence[Mapping[str, Any]] = (),
    now: dt.datetime | None = None,
) -> Bid:
    with _editing(actor=actor, bid=bid, now=now, section=BidSection.DELIVERY, version=version) as (
        locked,
        record,
    ):
        before = {
            **snapshot(locked, DELIVERY_FIELDS),
            "milestones": list(locked.milestones.values_list("title", "due_date")),
        }
        locked.delivery_plan = _clean_text(delivery_plan)
        locked.sustainability_plan = _clean_text(sustainability_plan)
        _clean_bid(locked)
        locked.save(update_fields=[*DELIVERY_FIELDS, "updated_at"])
        rows = [
            Milestone(
                bid=locked,
                title=_clean_text(row.get("title")),
                due_date=row.get("due_date"),  # type: ignore[misc]  # the row is checked by full_clean; the stubs refuse None
                description=_clean_text(row.get("description")),
            )
            for row in milestones
        ]
        _replace(locked.milestones, rows)
        record.update(
            before=before,
            after={
                **snapshot(locked, DELIVERY_FIELDS),
                "milestones": [(row.title, row.due_date) for row in rows],
            },
        )
    return bid


# Sections: patient benefits and risks ----------------------------------------------------------


def bid_benefits_save(
    *,
    actor: User,
    bid: Bid,
    version: int,
    measures: Sequence[Mapping[str, Any]],
    now: dt.datetime | None = None,
) -> Bid:
    """Replace the patient-benefit measures: at least one, each with a baseline, target and date."""
    if not measures:
        raise ValidationError(checks.BENEFITS_MISSING, code="required")
    with _editing(actor=actor, bid=bid, now=now, section=BidSection.BENEFITS, version=version) as (
        locked,
        record,
    ):
        rows = [
            BenefitMeasure(  # type: ignore[misc]  # the row is checked by full_clean; the stubs refuse None
                bid=locked,
                name=_clean_text(row.get("name")),
                unit=_clean_text(row.get("unit")),
                baseline=row.get("baseline"),
                target=row.get("target"),
                target_date=row.get("target_date"),
                higher_is_better=bool(row.get("higher_is_better", True)),
            )
            for row in measures
        ]
        _replace(locked.benefit_measures, rows)
        record.update(after={"measures": [row.name for row in rows]})
    return bid


def bid_risks_save(
    *,
    actor: User,
    bid: Bid,
    version: int,
    risks: Sequence[Mapping[str, Any]],
    now: dt.datetime | None = None,
) -> Bid:
    with _editing(actor=actor, bid=bid, now=now, section=BidSection.RISKS, version=version) as (
        locked,
        record,
    ):
        rows = [
            Risk(
                bid=locked,
                description=_clean_text(row.get("description")),
                likelihood=row.get("likelihood"),  # type: ignore[misc]  # the row is checked by full_clean; the stubs refuse None
                impact=row.get("impact"),
                mitigation=_clean_text(row.get("mitigation")),
            )
            for row in risks
        ]
        _replace(locked.risks, rows)
        record.update(after={"risks": len(rows)})
    return bid


def bid_section_confirm(
    *, actor: User, bid: Bid, section: str, version: int, now: dt.datetime | None = None
) -> Bid:
    """Save a section with nothing to change in it (partners or files already added)."""
    with _editing(actor=actor, bid=bid, now=now, section=section, version=version):
        pass
    return bid
