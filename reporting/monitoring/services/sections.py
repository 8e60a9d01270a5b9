"""Filling in a monitoring return: its sections (``return_spend_save`` ...), each saved on its
own and refused if the section changed since the writer opened it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from applications.models import CareSetting, CostCategory, SavingKind
from governance.models import Organisation, User
from governance.money import MAX_AMOUNT, NEGATIVE, TOO_LARGE, ZERO

from ...models import (
    EDITABLE_RETURN_STATUSES,
    RAG,
    MilestoneProgress,
    MonitoringReturn,
    Reinvestment,
    ReturnMeasureActual,
    ReturnMilestone,
    ReturnSaving,
    ReturnSection,
    ReturnSpend,
    ReturnStatus,
)
from ..messages import (
    COUNT_MISSING,
    COUNT_NEGATIVE,
    COUNT_TOO_LARGE,
    LESSONS_MISSING,
    MEASURE_NOT_IN_AWARD,
    MEASURE_VALUE_MISSING,
    MEASURE_VALUE_OUT_OF_RANGE,
    MILESTONE_NOT_IN_AWARD,
    MILESTONE_STATUS_MISSING,
    NARRATIVE_MISSING,
    NOT_FINAL,
    NOT_SUSTAINED_REASON_MISSING,
    RAG_MISSING,
    RAG_REASON_MISSING,
    REINVESTMENT_AMOUNT_MISSING,
    REINVESTMENT_DESTINATION_MISSING,
    RETURN_APPROVED_LOCKED,
    RETURN_SUBMITTED_LOCKED,
    RISKS_MISSING,
    SAVING_KIND_MISSING,
    SAVING_ORGANISATION_NOT_ON_PATHWAY,
    SAVING_SETTING_MISSING,
    SECTION_CHANGED,
    SLIPPED_DATE_MISSING,
    SPEND_ABOVE_AWARD,
    SPEND_TOTAL_ABOVE_AWARD,
    SUSTAINED_FUNDER_MISSING,
    SUSTAINED_MISSING,
)
from ..selectors import pathway_organisations, period_profile, variance_needs_explanation
from ._shared import _lock_return, _money, _require_grantee, _variance_error

# Messages (tests import these) ----------------------------------------------------------------------

AMOUNT_NEGATIVE = NEGATIVE
AMOUNT_TOO_LARGE = TOO_LARGE

# Ceilings for counts: anything above is a typo (England has about 57 million people).
MAX_ORGANISATIONS = 10_000
MAX_SITES = 100_000
MAX_PATIENTS = 60_000_000
MAX_MEASURE_VALUE = Decimal("1000000000")


# Filling in the return ---------------------------------------------------------------------------------


def _require_editable(ret: MonitoringReturn) -> None:
    if ret.status == ReturnStatus.APPROVED:
        raise ValidationError(RETURN_APPROVED_LOCKED, code="approved")
    if ret.status not in EDITABLE_RETURN_STATUSES:
        raise ValidationError(RETURN_SUBMITTED_LOCKED, code="submitted")


def _start_section_save(
    actor: User, ret: MonitoringReturn, section: str, version: int
) -> MonitoringReturn:
    """Lock the return and check the grantee may write this section from this version."""
    ret = _lock_return(ret)
    _require_grantee(actor, ret.award)
    _require_editable(ret)
    if int(version) != int((ret.section_versions or {}).get(section, 0)):
        raise ValidationError(SECTION_CHANGED, code="section_changed")
    return ret


def _finish_section_save(ret: MonitoringReturn, section: str, **fields: Any) -> MonitoringReturn:
    for name, value in fields.items():
        setattr(ret, name, value)
    versions = dict(ret.section_versions or {})
    versions[section] = int(versions.get(section, 0)) + 1
    ret.section_versions = versions
    done = list(ret.sections_completed or [])
    if section not in done:
        done.append(section)
    ret.sections_completed = done
    ret.full_clean(exclude=["instalment"])
    ret.save()
    return ret


def _raise(errors: dict[str, list[ValidationError]]) -> None:
    errors = {key: value for key, value in errors.items() if value}
    if errors:
        raise ValidationError(errors)


def _money_errors(
    amount: Decimal | None,
    *,
    ceiling: Decimal | None = None,
    ceiling_message: str = "",
    params: dict[str, Any] | None = None,
) -> list[ValidationError]:
    if amount is None:
        return []
    if amount < 0:
        return [ValidationError(AMOUNT_NEGATIVE, code="negative")]
    if amount > MAX_AMOUNT:
        return [ValidationError(AMOUNT_TOO_LARGE, code="too_large")]
    if ceiling is not None and amount > ceiling:
        return [ValidationError(ceiling_message, code="above_award", params=params)]
    return []


@transaction.atomic
def return_spend_save(
    *,
    actor: User,
    monitoring_return: MonitoringReturn,
    version: int,
    amounts: dict[str, Decimal],
    explanation: str = "",
) -> MonitoringReturn:
    """Spend in the period by cost category (in the period's financial year). A total more than
    10% away from the period's profile needs an explanation. Empty categories are not stored."""
    ret = _start_section_save(actor, monitoring_return, ReturnSection.SPEND, version)
    award = ret.award
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    cleaned: dict[str, Decimal] = {}
    for category, amount in (amounts or {}).items():
        if category not in CostCategory.values:
            continue
        problems = _money_errors(
            amount,
            ceiling=award.amount,
            ceiling_message=SPEND_ABOVE_AWARD,
            params={"award": _money(award.amount)},
        )
        errors[category].extend(problems)
        if not problems and amount:
            cleaned[category] = amount
    explanation = (explanation or "").strip()
    total = sum(cleaned.values(), ZERO)
    if not any(errors.values()) and total > award.amount:
        errors["__all__"].append(
            ValidationError(
                SPEND_TOTAL_ABOVE_AWARD,
                code="total_above_award",
                params={"award": _money(award.amount), "total": _money(total)},
            )
        )
    profile = period_profile(ret)
    if not any(errors.values()) and variance_needs_explanation(total, profile) and not explanation:
        errors["explanation"].append(_variance_error(total, profile))
    _raise(errors)
    ret.spend.all().delete()
    ReturnSpend.objects.bulk_create(
        ReturnSpend(
            monitoring_return=ret,
            financial_year=ret.financial_year,
            category=category,
            amount=amount,
        )
        for category, amount in cleaned.items()
    )
    return _finish_section_save(ret, ReturnSection.SPEND, spend_variance_explanation=explanation)


@dataclass(frozen=True)
class SavingLine:
    kind: str
    realised_by: Organisation | None
    care_setting: str
    amount: Decimal
    note: str = ""


@transaction.atomic
def return_savings_save(
    *, actor: User, monitoring_return: MonitoringReturn, version: int, lines: list[SavingLine]
) -> MonitoringReturn:
    """Savings realised in the period: cashable or not, whose budget they fell in and where on
    the pathway. No lines means nothing was realised this period."""
    ret = _start_section_save(actor, monitoring_return, ReturnSection.SAVINGS, version)
    allowed = set(pathway_organisations(ret.award).values_list("pk", flat=True))
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    for index, line in enumerate(lines):
        key = f"line-{index}"
        if line.kind not in SavingKind.values:
            errors[f"{key}-kind"].append(ValidationError(SAVING_KIND_MISSING, code="kind_missing"))
        if line.care_setting not in CareSetting.values:
            errors[f"{key}-care_setting"].append(
                ValidationError(SAVING_SETTING_MISSING, code="setting_missing")
            )
        if line.realised_by is None or line.realised_by.pk not in allowed:
            errors[f"{key}-realised_by"].append(
                ValidationError(SAVING_ORGANISATION_NOT_ON_PATHWAY, code="not_on_pathway")
            )
        errors[f"{key}-amount"].extend(_money_errors(line.amount))
    _raise(errors)
    ret.savings.all().delete()
    ReturnSaving.objects.bulk_create(
        ReturnSaving(
            monitoring_return=ret,
            financial_year=ret.financial_year,
            kind=line.kind,
            realised_by=line.realised_by,
            care_setting=line.care_setting,
            amount=line.amount,
            note=(line.note or "").strip()[:300],
        )
        for line in lines
    )
    return _finish_section_save(ret, ReturnSection.SAVINGS)


@transaction.atomic
def return_benefits_save(
    *,
    actor: User,
    monitoring_return: MonitoringReturn,
    version: int,
    actuals: dict[int, tuple[Decimal | None, str]],
) -> MonitoringReturn:
    """Each patient-benefit measure's actual value at the end of the period. Only the measures of
    the award's bid are accepted, and every one of them needs a value."""
    ret = _start_section_save(actor, monitoring_return, ReturnSection.BENEFITS, version)
    measures = {m.pk: m for m in ret.award.bid.benefit_measures.all()}
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    for measure_id in actuals:
        if measure_id not in measures:
            errors[f"measure-{measure_id}"].append(
                ValidationError(MEASURE_NOT_IN_AWARD, code="measure_not_in_award")
            )
    for measure_id, measure in measures.items():
        value, _ = actuals.get(measure_id, (None, ""))
        if value is None:
            errors[f"measure-{measure_id}"].append(
                ValidationError(
                    MEASURE_VALUE_MISSING, code="value_missing", params={"measure": measure.name}
                )
            )
        elif abs(value) >= MAX_MEASURE_VALUE:
            errors[f"measure-{measure_id}"].append(
                ValidationError(MEASURE_VALUE_OUT_OF_RANGE, code="out_of_range")
            )
    _raise(errors)
    ret.measure_actuals.all().delete()
    ReturnMeasureActual.objects.bulk_create(
        ReturnMeasureActual(
            monitoring_return=ret,
            measure_id=measure_id,
            value=value,
            note=(note or "").strip()[:300],
        )  # type: ignore[misc]  # every value was checked above; the stubs refuse None
        for measure_id, (value, note) in actuals.items()
    )
    return _finish_section_save(ret, ReturnSection.BENEFITS)


def _count_errors(value: int | None, limit: int, what: str) -> list[ValidationError]:
    if value is None:
        return [ValidationError(COUNT_MISSING, code="missing", params={"what": what})]
    if value < 0:
        return [ValidationError(COUNT_NEGATIVE, code="negative")]
    if value > limit:
        return [ValidationError(COUNT_TOO_LARGE, code="too_large", params={"limit": f"{limit:,}"})]
    return []


@transaction.atomic
def return_adoption_save(
    *,
    actor: User,
    monitoring_return: MonitoringReturn,
    version: int,
    organisations: int | None,
    sites: int | None,
    patients: int | None,
    notes: str = "",
) -> MonitoringReturn:
    """Adoption and spread: organisations and sites now using the innovation, patients reached."""
    ret = _start_section_save(actor, monitoring_return, ReturnSection.ADOPTION, version)
    _raise(
        {
            "organisations_adopting": _count_errors(
                organisations, MAX_ORGANISATIONS, "organisations"
            ),
            "sites_adopting": _count_errors(sites, MAX_SITES, "sites"),
            "patients_reached": _count_errors(patients, MAX_PATIENTS, "patients"),
        }
    )
    return _finish_section_save(
        ret,
        ReturnSection.ADOPTION,
        organisations_adopting=organisations,
        sites_adopting=sites,
        patients_reached=patients,
        adoption_notes=(notes or "").strip(),
    )


@dataclass(frozen=True)
class MilestoneUpdate:
    milestone_id: int
    status: str
    revised_date: dt.date | None = None
    note: str = ""


@transaction.atomic
def return_milestones_save(
    *,
    actor: User,
    monitoring_return: MonitoringReturn,
    version: int,
    updates: list[MilestoneUpdate],
    summary: str = "",
) -> MonitoringReturn:
    """Where each of the bid's milestones stands: done, on track, or slipped (with its new date)."""
    ret = _start_section_save(actor, monitoring_return, ReturnSection.MILESTONES, version)
    milestones = {m.pk: m for m in ret.award.bid.milestones.all()}
    given = {u.milestone_id: u for u in updates}
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    for milestone_id in given:
        if milestone_id not in milestones:
            errors[f"milestone-{milestone_id}"].append(
                ValidationError(MILESTONE_NOT_IN_AWARD, code="not_in_award")
            )
    for milestone_id, milestone in milestones.items():
        update = given.get(milestone_id)
        if update is None or update.status not in MilestoneProgress.values:
            errors[f"milestone-{milestone_id}-status"].append(
                ValidationError(
                    MILESTONE_STATUS_MISSING,
                    code="status_missing",
                    params={"milestone": milestone.title},
                )
            )
        elif update.status == MilestoneProgress.SLIPPED and update.revised_date is None:
            errors[f"milestone-{milestone_id}-revised_date"].append(
                ValidationError(SLIPPED_DATE_MISSING, code="date_missing")
            )
    _raise(errors)
    ret.milestone_updates.all().delete()
    ReturnMilestone.objects.bulk_create(
        ReturnMilestone(
            monitoring_return=ret,
            milestone_id=u.milestone_id,
            status=u.status,
            revised_date=u.revised_date if u.status == MilestoneProgress.SLIPPED else None,
            note=(u.note or "").strip()[:300],
        )
        for u in given.values()
    )
    return _finish_section_save(
        ret, ReturnSection.MILESTONES, milestones_update=(summary or "").strip()
    )


def _required_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: ValidationError(message, code="required")})
    return value


@transaction.atomic
def return_risks_save(
    *, actor: User, monitoring_return: MonitoringReturn, version: int, risks: str
) -> MonitoringReturn:
    ret = _start_section_save(actor, monitoring_return, ReturnSection.RISKS, version)
    return _finish_section_save(
        ret, ReturnSection.RISKS, risks_update=_required_text(risks, "risks_update", RISKS_MISSING)
    )


@transaction.atomic
def return_rag_save(
    *, actor: User, monitoring_return: MonitoringReturn, version: int, rag: str, reason: str
) -> MonitoringReturn:
    ret = _start_section_save(actor, monitoring_return, ReturnSection.RAG, version)
    _raise(
        {
            "rag": [ValidationError(RAG_MISSING, code="rag_missing")]
            if rag not in RAG.values
            else [],
            "rag_reason": []
            if (reason or "").strip()
            else [ValidationError(RAG_REASON_MISSING, code="reason_missing")],
        }
    )
    return _finish_section_save(ret, ReturnSection.RAG, rag=rag, rag_reason=reason.strip())


@transaction.atomic
def return_narrative_save(
    *,
    actor: User,
    monitoring_return: MonitoringReturn,
    version: int,
    narrative: str,
    lessons_learned: str = "",
) -> MonitoringReturn:
    """How the period went; lessons learned (required in the final return)."""
    ret = _start_section_save(actor, monitoring_return, ReturnSection.NARRATIVE, version)
    lessons = (lessons_learned or "").strip()
    _raise(
        {
            "narrative": []
            if (narrative or "").strip()
            else [ValidationError(NARRATIVE_MISSING, code="required")],
            "lessons_learned": [ValidationError(LESSONS_MISSING, code="required")]
            if ret.is_final and not lessons
            else [],
        }
    )
    return _finish_section_save(
        ret, ReturnSection.NARRATIVE, narrative=narrative.strip(), lessons_learned=lessons
    )


@dataclass(frozen=True)
class ReinvestmentLine:
    amount: Decimal | None
    destination: str
    organisation: Organisation | None = None


@transaction.atomic
def return_reinvestment_save(
    *, actor: User, monitoring_return: MonitoringReturn, version: int, lines: list[ReinvestmentLine]
) -> MonitoringReturn:
    """Savings put back into local services in the period and where they went (none is an answer)."""
    ret = _start_section_save(actor, monitoring_return, ReturnSection.REINVESTMENT, version)
    allowed = set(pathway_organisations(ret.award).values_list("pk", flat=True))
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    for index, line in enumerate(lines):
        key = f"line-{index}"
        if line.amount is None:
            errors[f"{key}-amount"].append(
                ValidationError(REINVESTMENT_AMOUNT_MISSING, code="amount_missing")
            )
        errors[f"{key}-amount"].extend(_money_errors(line.amount))
        if not (line.destination or "").strip():
            errors[f"{key}-destination"].append(
                ValidationError(REINVESTMENT_DESTINATION_MISSING, code="destination_missing")
            )
        if line.organisation is not None and line.organisation.pk not in allowed:
            errors[f"{key}-organisation"].append(
                ValidationError(SAVING_ORGANISATION_NOT_ON_PATHWAY, code="not_on_pathway")
            )
    _raise(errors)
    ret.reinvestments.all().delete()
    Reinvestment.objects.bulk_create(
        Reinvestment(
            monitoring_return=ret,
            amount=line.amount,
            destination=line.destination.strip()[:300],
            organisation=line.organisation,
        )
        for line in lines
    )
    return _finish_section_save(ret, ReturnSection.REINVESTMENT)


@transaction.atomic
def return_sustainability_save(
    *,
    actor: User,
    monitoring_return: MonitoringReturn,
    version: int,
    will_be_sustained: bool | None,
    funded_by: str = "",
    notes: str = "",
) -> MonitoringReturn:
    """The final return: will the innovation carry on after the award, and who pays for it."""
    ret = _start_section_save(actor, monitoring_return, ReturnSection.SUSTAINABILITY, version)
    if not ret.is_final:
        raise ValidationError(NOT_FINAL, code="not_final")
    funded_by, notes = (funded_by or "").strip(), (notes or "").strip()
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    if will_be_sustained is None:
        errors["will_be_sustained"].append(ValidationError(SUSTAINED_MISSING, code="required"))
    elif will_be_sustained and not funded_by:
        errors["sustained_funding_by"].append(
            ValidationError(SUSTAINED_FUNDER_MISSING, code="required")
        )
    elif not will_be_sustained and not notes:
        errors["sustainability_notes"].append(
            ValidationError(NOT_SUSTAINED_REASON_MISSING, code="required")
        )
    _raise(errors)
    return _finish_section_save(
        ret,
        ReturnSection.SUSTAINABILITY,
        will_be_sustained=will_be_sustained,
        sustained_funding_by=funded_by[:300] if will_be_sustained else "",
        sustainability_notes=notes,
    )
