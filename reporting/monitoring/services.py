"""Writes for monitoring returns: one function per transition.

- The schedule: ``return_schedule_sync`` makes an award's returns follow its dates (idempotent).
- Opening and reminding: ``return_open`` and ``return_reminder_send`` (each reminder goes once
  per due date: a ``ReminderSent`` row written in the same transaction as its notifications).
- The return's sections (``return_spend_save`` ...), each saved on its own and refused if the
  section changed since the writer opened it; then ``return_submit``.
- Review: ``return_approve`` (which releases the instalment waiting on the return through the
  awards stage) and ``return_send_back``; ``return_payment_release`` tries the release again.

Each change of a return's status goes through ``RETURN_LIFECYCLE`` (``lifecycle.py``).

Lock order, as in the awards stage: the award row, then the return, then the instalment.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from applications.models import CareSetting, CostCategory, SavingKind
from awards.models import Award, Instalment, InstalmentStatus
from awards.selectors import is_recipient_member
from awards.services import instalment_release
from governance import notifications
from governance.access import require_actor
from governance.audit import audit_record, snapshot
from governance.models import Notification, Organisation, User
from governance.money import MAX_AMOUNT, NEGATIVE, TOO_LARGE, ZERO, format_money
from governance.services import notify

from ..models import (
    EDITABLE_RETURN_STATUSES,
    RAG,
    MilestoneProgress,
    MonitoringReturn,
    Reinvestment,
    ReminderKind,
    ReminderSent,
    ReturnMeasureActual,
    ReturnMilestone,
    ReturnSaving,
    ReturnSection,
    ReturnSpend,
    ReturnStatus,
)
from ..visibility import return_audience
from .lifecycle import RETURN_LIFECYCLE
from .messages import (  # the messages live beside the services; kept importable from here
    COMMENTS_MISSING as COMMENTS_MISSING,
    COUNT_MISSING as COUNT_MISSING,
    COUNT_NEGATIVE as COUNT_NEGATIVE,
    COUNT_TOO_LARGE as COUNT_TOO_LARGE,
    LESSONS_MISSING as LESSONS_MISSING,
    MEASURE_NOT_IN_AWARD as MEASURE_NOT_IN_AWARD,
    MEASURE_VALUE_MISSING as MEASURE_VALUE_MISSING,
    MEASURE_VALUE_OUT_OF_RANGE as MEASURE_VALUE_OUT_OF_RANGE,
    MILESTONE_NOT_IN_AWARD as MILESTONE_NOT_IN_AWARD,
    MILESTONE_STATUS_MISSING as MILESTONE_STATUS_MISSING,
    NARRATIVE_MISSING as NARRATIVE_MISSING,
    NO_PAYMENT_WAITING as NO_PAYMENT_WAITING,
    NOT_FINAL as NOT_FINAL,
    NOT_GRANTEE as NOT_GRANTEE,
    NOT_REVIEWER as NOT_REVIEWER,
    NOT_SUBMITTABLE as NOT_SUBMITTABLE,
    NOT_SUBMITTED as NOT_SUBMITTED,
    NOT_SUSTAINED_REASON_MISSING as NOT_SUSTAINED_REASON_MISSING,
    PERIOD_NOT_ENDED as PERIOD_NOT_ENDED,
    RAG_MISSING as RAG_MISSING,
    RAG_REASON_MISSING as RAG_REASON_MISSING,
    REINVESTMENT_AMOUNT_MISSING as REINVESTMENT_AMOUNT_MISSING,
    REINVESTMENT_DESTINATION_MISSING as REINVESTMENT_DESTINATION_MISSING,
    RETURN_APPROVED_LOCKED as RETURN_APPROVED_LOCKED,
    RETURN_NOT_APPROVED_YET as RETURN_NOT_APPROVED_YET,
    RETURN_SUBMITTED_LOCKED as RETURN_SUBMITTED_LOCKED,
    RISKS_MISSING as RISKS_MISSING,
    SAVING_KIND_MISSING as SAVING_KIND_MISSING,
    SAVING_ORGANISATION_NOT_ON_PATHWAY as SAVING_ORGANISATION_NOT_ON_PATHWAY,
    SAVING_SETTING_MISSING as SAVING_SETTING_MISSING,
    SECTION_CHANGED as SECTION_CHANGED,
    SECTIONS_INCOMPLETE as SECTIONS_INCOMPLETE,
    SLIPPED_DATE_MISSING as SLIPPED_DATE_MISSING,
    SPEND_ABOVE_AWARD as SPEND_ABOVE_AWARD,
    SPEND_TOTAL_ABOVE_AWARD as SPEND_TOTAL_ABOVE_AWARD,
    SUSTAINED_FUNDER_MISSING as SUSTAINED_FUNDER_MISSING,
    SUSTAINED_MISSING as SUSTAINED_MISSING,
    VARIANCE_UNEXPLAINED as VARIANCE_UNEXPLAINED,
)
from .selectors import (
    KEPT_RETURN_STATUSES,
    SCHEDULED_AWARD_STATUSES,
    award_managers,
    can_submit_from,
    due_date_for,
    grantee_contacts,
    incomplete_sections,
    instalment_key_after,
    instalments_waiting_on,
    pathway_organisations,
    period_profile,
    reminder_already_sent,
    reminder_is_due,
    return_periods,
    return_spend_total,
    spend_variance,
    variance_needs_explanation,
)

logger = logging.getLogger(__name__)

# Messages (tests import these) ----------------------------------------------------------------------

AMOUNT_NEGATIVE = NEGATIVE
AMOUNT_TOO_LARGE = TOO_LARGE

# Ceilings for counts: anything above is a typo (England has about 57 million people).
MAX_ORGANISATIONS = 10_000
MAX_SITES = 100_000
MAX_PATIENTS = 60_000_000
MAX_MEASURE_VALUE = Decimal("1000000000")


def _money(amount: Decimal) -> str:
    return format_money(amount, pence=True)


def _date(day: dt.date) -> str:
    return day.strftime("%-d %B %Y")


def _status_label(status: str) -> str:
    return ReturnStatus(status).label.lower()


def _period(ret: MonitoringReturn) -> str:
    return f"{ret.period_start:%-d %b %Y} to {ret.period_end:%-d %b %Y}"


# The schedule -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Wanted:
    start: dt.date
    end: dt.date
    is_final: bool
    due: dt.date
    instalment: Instalment | None


def _uncovered(start: dt.date, end: dt.date, kept: list[MonitoringReturn]) -> list[tuple[dt.date, dt.date]]:
    """The parts of start..end that no kept return covers."""
    pieces = [(start, end)]
    for ret in kept:
        next_pieces = []
        for first, last in pieces:
            if ret.period_end < first or ret.period_start > last:
                next_pieces.append((first, last))
                continue
            if ret.period_start > first:
                next_pieces.append((first, ret.period_start - dt.timedelta(days=1)))
            if ret.period_end < last:
                next_pieces.append((ret.period_end + dt.timedelta(days=1), last))
        pieces = next_pieces
    return pieces


def _wanted_returns(award: Award, kept: list[MonitoringReturn]) -> list[_Wanted]:
    instalments = {(i.financial_year, i.quarter): i for i in award.instalments.all()}
    held = {ret.instalment_id for ret in kept if ret.instalment_id}
    periods = [piece for start, end in return_periods(award.start_date, award.end_date, award.return_frequency_months)
               for piece in _uncovered(start, end, kept)]
    wanted = []
    for start, end in periods:
        is_final = end == award.end_date
        instalment = instalments.get(instalment_key_after(end))
        if instalment is not None and instalment.pk in held:
            instalment = None
        wanted.append(_Wanted(start, end, is_final, due_date_for(end, is_final=is_final), instalment))
    return wanted


def _sync(award: Award, *, today: dt.date | None = None) -> dict[str, int]:
    """Make the award's returns follow its dates. The award row must be locked.

    Submitted and approved returns are kept as they are; unsubmitted ones move with the
    schedule (dates, due date, final or not, the instalment they release); returns the
    schedule no longer has are removed unless they were sent back (those hold reviewed work).
    """
    today = today or timezone.localdate()
    existing = list(MonitoringReturn.objects.select_for_update().filter(award=award).order_by("period_start"))
    kept = [ret for ret in existing if ret.status in KEPT_RETURN_STATUSES]
    movable = {ret.period_start: ret for ret in existing if ret.status not in KEPT_RETURN_STATUSES}
    wanted = _wanted_returns(award, kept)
    wanted_starts = {w.start for w in wanted}
    changes = {"created": 0, "moved": 0, "removed": 0}

    stale = [ret for start, ret in movable.items() if start not in wanted_starts and ret.status != ReturnStatus.RETURNED]
    for gone in stale:
        gone.delete()
        changes["removed"] += 1
    # Instalment links are unique: free the ones that move before any is given to another return.
    relink = [ret for ret in movable.values() if ret.period_start in wanted_starts]
    links = {w.start: (w.instalment.pk if w.instalment else None) for w in wanted}
    moving = [ret.pk for ret in relink if ret.instalment_id != links[ret.period_start]]
    if moving:
        MonitoringReturn.objects.filter(pk__in=moving).update(instalment=None)
    for w in wanted:
        ret = movable.get(w.start)
        if ret is None:
            MonitoringReturn.objects.create(
                award=award, period_start=w.start, period_end=w.end, due_date=w.due, is_final=w.is_final,
                instalment=w.instalment, status=ReturnStatus.UPCOMING,
            )
            changes["created"] += 1
            continue
        values = {"period_end": w.end, "due_date": w.due, "is_final": w.is_final, "instalment_id": links[w.start]}
        postpone = ret.status == ReturnStatus.OPEN and w.end >= today  # its period runs on: not due yet
        if postpone or ret.pk in moving or any(getattr(ret, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(ret, name, value)
            ret.full_clean(exclude=["instalment"])
            ret.save()
            if postpone:
                RETURN_LIFECYCLE.apply(ret, "postpone", actor=None, locked=ret, changes={"opened_at": None}, clean=False,
                                       message=f"Monitoring return for {_period(ret)} is not due yet: its period "
                                               f"now ends {_date(ret.period_end)}")
            changes["moved"] += 1
    if any(changes.values()):
        audit_record(actor=None, action="returns.scheduled", target=award, after=changes,
                     message=f"Monitoring schedule updated: {changes['created']} returns added, "
                             f"{changes['moved']} moved, {changes['removed']} removed")
    return changes


def return_schedule_sync(*, award: Award, today: dt.date | None = None, actor: User | None = None) -> dict[str, int]:
    """Create or update an active (or suspended) award's monitoring returns. Idempotent: running
    it again changes nothing; after a variation the unsubmitted returns follow the new dates.
    Returns how many returns were created, moved and removed. Awards in other states are left alone.
    ``actor=None`` is the portal keeping the schedule (the award's hooks, the beat); a person
    asking for it must manage the award."""
    require_actor(actor, "awards.manage_award", award, system=True)
    with transaction.atomic():
        award = Award.objects.select_for_update().get(pk=award.pk)
        if award.status not in SCHEDULED_AWARD_STATUSES:
            return {"created": 0, "moved": 0, "removed": 0}
        return _sync(award, today=today)


def return_open(*, return_id: int, today: dt.date | None = None) -> bool:
    """Open a return for reporting once its period has ended: upcoming → open. Idempotent."""
    today = today or timezone.localdate()
    with transaction.atomic():
        ret = MonitoringReturn.objects.select_for_update().select_related("award").filter(pk=return_id).first()
        if (ret is None or ret.status != ReturnStatus.UPCOMING or ret.period_end >= today
                or ret.award.status not in SCHEDULED_AWARD_STATUSES):
            return False
        RETURN_LIFECYCLE.apply(ret, "open", actor=None, locked=ret, changes={"opened_at": timezone.now()}, clean=False,
                               recorded=(), audit_before={"status": ReturnStatus.UPCOMING},
                               audit_after={"status": ReturnStatus.OPEN, "due_date": ret.due_date},
                               message=f"Monitoring return for {_period(ret)} opened, due {_date(ret.due_date)}")
    return True


def returns_open_ended(*, today: dt.date | None = None) -> list[int]:
    """Open every return whose period has ended (ids of those opened)."""
    today = today or timezone.localdate()
    ids = MonitoringReturn.objects.filter(
        status=ReturnStatus.UPCOMING, period_end__lt=today, award__status__in=SCHEDULED_AWARD_STATUSES,
    ).order_by("period_end", "pk").values_list("pk", flat=True)
    return [pk for pk in list(ids) if return_open(return_id=pk, today=today)]


# Reminders ------------------------------------------------------------------------------------------


REMINDER_MESSAGES: dict[str, str] = {ReminderKind.OPENED: "return_opened", ReminderKind.OVERDUE: "return_overdue"}


def _reminder_send(ret: MonitoringReturn, kind: str, people: list[User], today: dt.date) -> list[Notification]:
    """The reminder through the notification catalogue, in the fund's wording, once per person,
    return, kind and due date."""
    award = ret.award
    values = {"award_reference": award.reference, "period": _period(ret), "deadline": _date(ret.due_date),
              "days": notifications.days_label((ret.due_date - today).days)}
    return notifications.send_to_each(
        REMINDER_MESSAGES.get(kind, "return_due"), people, about=ret, fund=award.bid.call.fund,
        occasion=f"{kind}:{ret.due_date.isoformat()}", values=values, link=ret.get_absolute_url())


def return_reminder_send(*, return_id: int, kind: str, today: dt.date | None = None) -> bool:
    """Send one reminder: "opened" once per return, the others once per due date (a due date that
    moves earns a fresh reminder). Returns True if it went now.

    The ``ReminderSent`` row and the notifications are written in one transaction, so a crash
    either sends nothing (and the next run sends it) or records it (and nobody sends it again).
    The return row is locked without waiting: if another worker holds it, this raises and the
    task retries later. Emails go out after commit through governance's idempotent delivery task.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        ret = MonitoringReturn.objects.select_for_update(nowait=True).filter(pk=return_id).first()
        if ret is None:
            return False
        award = Award.objects.select_related("bid__call__fund", "issued_by").get(pk=ret.award_id)
        ret.award = award
        if not reminder_is_due(ret, award, kind, today):
            return False
        if reminder_already_sent(ret, kind):
            return False
        people = grantee_contacts(award)
        if kind == ReminderKind.OVERDUE:
            people += [user for user in award_managers(award) if user not in people]
        people = return_audience(ret, people)
        try:
            with transaction.atomic():
                reminder = ReminderSent.objects.create(
                    monitoring_return=ret, kind=kind, due_date=ret.due_date, recipients=[u.email for u in people],
                )
        except IntegrityError:
            return False  # sent by a concurrent run a moment ago
        reminder.notifications.set(_reminder_send(ret, kind, people, today))
    return True


# Filling in the return ---------------------------------------------------------------------------------


def _require_grantee(actor: User, award: Award) -> None:
    if actor is None or not is_recipient_member(actor, award):
        raise ValidationError(NOT_GRANTEE, code="not_grantee", params={"organisation": award.recipient.name})


def _require_editable(ret: MonitoringReturn) -> None:
    if ret.status == ReturnStatus.APPROVED:
        raise ValidationError(RETURN_APPROVED_LOCKED, code="approved")
    if ret.status not in EDITABLE_RETURN_STATUSES:
        raise ValidationError(RETURN_SUBMITTED_LOCKED, code="submitted")


def _lock_return(ret: MonitoringReturn) -> MonitoringReturn:
    locked = MonitoringReturn.objects.select_for_update().get(pk=ret.pk)
    locked.award = Award.objects.select_related("bid", "recipient").get(pk=locked.award_id)
    return locked


def _start_section_save(actor: User, ret: MonitoringReturn, section: str, version: int) -> MonitoringReturn:
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


def _money_errors(amount: Decimal | None, *, ceiling: Decimal | None = None, ceiling_message: str = "",
                  params: dict[str, Any] | None = None) -> list[ValidationError]:
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
    *, actor: User, monitoring_return: MonitoringReturn, version: int, amounts: dict[str, Decimal], explanation: str = "",
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
        problems = _money_errors(amount, ceiling=award.amount, ceiling_message=SPEND_ABOVE_AWARD,
                                 params={"award": _money(award.amount)})
        errors[category].extend(problems)
        if not problems and amount:
            cleaned[category] = amount
    explanation = (explanation or "").strip()
    total = sum(cleaned.values(), ZERO)
    if not any(errors.values()) and total > award.amount:
        errors["__all__"].append(ValidationError(SPEND_TOTAL_ABOVE_AWARD, code="total_above_award",
                                                 params={"award": _money(award.amount), "total": _money(total)}))
    profile = period_profile(ret)
    if not any(errors.values()) and variance_needs_explanation(total, profile) and not explanation:
        errors["explanation"].append(_variance_error(total, profile))
    _raise(errors)
    ret.spend.all().delete()
    ReturnSpend.objects.bulk_create(
        ReturnSpend(monitoring_return=ret, financial_year=ret.financial_year, category=category, amount=amount)
        for category, amount in cleaned.items()
    )
    return _finish_section_save(ret, ReturnSection.SPEND, spend_variance_explanation=explanation)


def _variance_error(total: Decimal, profile: Decimal) -> ValidationError:
    variance = spend_variance(total, profile)
    if variance is None:
        text = f"{_money(total)} against a zero profile, which is more than"
    else:
        text = f"{abs(variance) * 100:.1f}% {'over' if variance > 0 else 'under'}"
    return ValidationError(VARIANCE_UNEXPLAINED, code="variance_unexplained",
                           params={"variance": text, "profile": _money(profile)})


@dataclass(frozen=True)
class SavingLine:
    kind: str
    realised_by: Organisation | None
    care_setting: str
    amount: Decimal
    note: str = ""


@transaction.atomic
def return_savings_save(*, actor: User, monitoring_return: MonitoringReturn, version: int,
                        lines: list[SavingLine]) -> MonitoringReturn:
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
            errors[f"{key}-care_setting"].append(ValidationError(SAVING_SETTING_MISSING, code="setting_missing"))
        if line.realised_by is None or line.realised_by.pk not in allowed:
            errors[f"{key}-realised_by"].append(ValidationError(SAVING_ORGANISATION_NOT_ON_PATHWAY, code="not_on_pathway"))
        errors[f"{key}-amount"].extend(_money_errors(line.amount))
    _raise(errors)
    ret.savings.all().delete()
    ReturnSaving.objects.bulk_create(
        ReturnSaving(monitoring_return=ret, financial_year=ret.financial_year, kind=line.kind,
                     realised_by=line.realised_by, care_setting=line.care_setting, amount=line.amount,
                     note=(line.note or "").strip()[:300])
        for line in lines
    )
    return _finish_section_save(ret, ReturnSection.SAVINGS)


@transaction.atomic
def return_benefits_save(*, actor: User, monitoring_return: MonitoringReturn, version: int,
                         actuals: dict[int, tuple[Decimal | None, str]]) -> MonitoringReturn:
    """Each patient-benefit measure's actual value at the end of the period. Only the measures of
    the award's bid are accepted, and every one of them needs a value."""
    ret = _start_section_save(actor, monitoring_return, ReturnSection.BENEFITS, version)
    measures = {m.pk: m for m in ret.award.bid.benefit_measures.all()}
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    for measure_id in actuals:
        if measure_id not in measures:
            errors[f"measure-{measure_id}"].append(ValidationError(MEASURE_NOT_IN_AWARD, code="measure_not_in_award"))
    for measure_id, measure in measures.items():
        value, _ = actuals.get(measure_id, (None, ""))
        if value is None:
            errors[f"measure-{measure_id}"].append(ValidationError(MEASURE_VALUE_MISSING, code="value_missing",
                                                                   params={"measure": measure.name}))
        elif abs(value) >= MAX_MEASURE_VALUE:
            errors[f"measure-{measure_id}"].append(ValidationError(MEASURE_VALUE_OUT_OF_RANGE, code="out_of_range"))
    _raise(errors)
    ret.measure_actuals.all().delete()
    ReturnMeasureActual.objects.bulk_create(
        ReturnMeasureActual(monitoring_return=ret, measure_id=measure_id, value=value, note=(note or "").strip()[:300])  # type: ignore[misc]  # every value was checked above; the stubs refuse None
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
def return_adoption_save(*, actor: User, monitoring_return: MonitoringReturn, version: int, organisations: int | None,
                         sites: int | None, patients: int | None, notes: str = "") -> MonitoringReturn:
    """Adoption and spread: organisations and sites now using the innovation, patients reached."""
    ret = _start_section_save(actor, monitoring_return, ReturnSection.ADOPTION, version)
    _raise({
        "organisations_adopting": _count_errors(organisations, MAX_ORGANISATIONS, "organisations"),
        "sites_adopting": _count_errors(sites, MAX_SITES, "sites"),
        "patients_reached": _count_errors(patients, MAX_PATIENTS, "patients"),
    })
    return _finish_section_save(ret, ReturnSection.ADOPTION, organisations_adopting=organisations, sites_adopting=sites,
                                patients_reached=patients, adoption_notes=(notes or "").strip())


@dataclass(frozen=True)
class MilestoneUpdate:
    milestone_id: int
    status: str
    revised_date: dt.date | None = None
    note: str = ""


@transaction.atomic
def return_milestones_save(*, actor: User, monitoring_return: MonitoringReturn, version: int,
                           updates: list[MilestoneUpdate], summary: str = "") -> MonitoringReturn:
    """Where each of the bid's milestones stands: done, on track, or slipped (with its new date)."""
    ret = _start_section_save(actor, monitoring_return, ReturnSection.MILESTONES, version)
    milestones = {m.pk: m for m in ret.award.bid.milestones.all()}
    given = {u.milestone_id: u for u in updates}
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    for milestone_id in given:
        if milestone_id not in milestones:
            errors[f"milestone-{milestone_id}"].append(ValidationError(MILESTONE_NOT_IN_AWARD, code="not_in_award"))
    for milestone_id, milestone in milestones.items():
        update = given.get(milestone_id)
        if update is None or update.status not in MilestoneProgress.values:
            errors[f"milestone-{milestone_id}-status"].append(ValidationError(
                MILESTONE_STATUS_MISSING, code="status_missing", params={"milestone": milestone.title}))
        elif update.status == MilestoneProgress.SLIPPED and update.revised_date is None:
            errors[f"milestone-{milestone_id}-revised_date"].append(ValidationError(SLIPPED_DATE_MISSING, code="date_missing"))
    _raise(errors)
    ret.milestone_updates.all().delete()
    ReturnMilestone.objects.bulk_create(
        ReturnMilestone(monitoring_return=ret, milestone_id=u.milestone_id, status=u.status,
                        revised_date=u.revised_date if u.status == MilestoneProgress.SLIPPED else None,
                        note=(u.note or "").strip()[:300])
        for u in given.values()
    )
    return _finish_section_save(ret, ReturnSection.MILESTONES, milestones_update=(summary or "").strip())


def _required_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: ValidationError(message, code="required")})
    return value


@transaction.atomic
def return_risks_save(*, actor: User, monitoring_return: MonitoringReturn, version: int, risks: str) -> MonitoringReturn:
    ret = _start_section_save(actor, monitoring_return, ReturnSection.RISKS, version)
    return _finish_section_save(ret, ReturnSection.RISKS, risks_update=_required_text(risks, "risks_update", RISKS_MISSING))


@transaction.atomic
def return_rag_save(*, actor: User, monitoring_return: MonitoringReturn, version: int, rag: str,
                    reason: str) -> MonitoringReturn:
    ret = _start_section_save(actor, monitoring_return, ReturnSection.RAG, version)
    _raise({
        "rag": [ValidationError(RAG_MISSING, code="rag_missing")] if rag not in RAG.values else [],
        "rag_reason": [] if (reason or "").strip() else [ValidationError(RAG_REASON_MISSING, code="reason_missing")],
    })
    return _finish_section_save(ret, ReturnSection.RAG, rag=rag, rag_reason=reason.strip())


@transaction.atomic
def return_narrative_save(*, actor: User, monitoring_return: MonitoringReturn, version: int, narrative: str,
                          lessons_learned: str = "") -> MonitoringReturn:
    """How the period went; lessons learned (required in the final return)."""
    ret = _start_section_save(actor, monitoring_return, ReturnSection.NARRATIVE, version)
    lessons = (lessons_learned or "").strip()
    _raise({
        "narrative": [] if (narrative or "").strip() else [ValidationError(NARRATIVE_MISSING, code="required")],
        "lessons_learned": [ValidationError(LESSONS_MISSING, code="required")] if ret.is_final and not lessons else [],
    })
    return _finish_section_save(ret, ReturnSection.NARRATIVE, narrative=narrative.strip(), lessons_learned=lessons)


@dataclass(frozen=True)
class ReinvestmentLine:
    amount: Decimal | None
    destination: str
    organisation: Organisation | None = None


@transaction.atomic
def return_reinvestment_save(*, actor: User, monitoring_return: MonitoringReturn, version: int,
                             lines: list[ReinvestmentLine]) -> MonitoringReturn:
    """Savings put back into local services in the period and where they went (none is an answer)."""
    ret = _start_section_save(actor, monitoring_return, ReturnSection.REINVESTMENT, version)
    allowed = set(pathway_organisations(ret.award).values_list("pk", flat=True))
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    for index, line in enumerate(lines):
        key = f"line-{index}"
        if line.amount is None:
            errors[f"{key}-amount"].append(ValidationError(REINVESTMENT_AMOUNT_MISSING, code="amount_missing"))
        errors[f"{key}-amount"].extend(_money_errors(line.amount))
        if not (line.destination or "").strip():
            errors[f"{key}-destination"].append(ValidationError(REINVESTMENT_DESTINATION_MISSING, code="destination_missing"))
        if line.organisation is not None and line.organisation.pk not in allowed:
            errors[f"{key}-organisation"].append(ValidationError(SAVING_ORGANISATION_NOT_ON_PATHWAY, code="not_on_pathway"))
    _raise(errors)
    ret.reinvestments.all().delete()
    Reinvestment.objects.bulk_create(
        Reinvestment(monitoring_return=ret, amount=line.amount, destination=line.destination.strip()[:300],
                     organisation=line.organisation)
        for line in lines
    )
    return _finish_section_save(ret, ReturnSection.REINVESTMENT)


@transaction.atomic
def return_sustainability_save(*, actor: User, monitoring_return: MonitoringReturn, version: int,
                               will_be_sustained: bool | None, funded_by: str = "", notes: str = "") -> MonitoringReturn:
    """The final return: will the innovation carry on after the award, and who pays for it."""
    ret = _start_section_save(actor, monitoring_return, ReturnSection.SUSTAINABILITY, version)
    if not ret.is_final:
        raise ValidationError(NOT_FINAL, code="not_final")
    funded_by, notes = (funded_by or "").strip(), (notes or "").strip()
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    if will_be_sustained is None:
        errors["will_be_sustained"].append(ValidationError(SUSTAINED_MISSING, code="required"))
    elif will_be_sustained and not funded_by:
        errors["sustained_funding_by"].append(ValidationError(SUSTAINED_FUNDER_MISSING, code="required"))
    elif not will_be_sustained and not notes:
        errors["sustainability_notes"].append(ValidationError(NOT_SUSTAINED_REASON_MISSING, code="required"))
    _raise(errors)
    return _finish_section_save(ret, ReturnSection.SUSTAINABILITY, will_be_sustained=will_be_sustained,
                                sustained_funding_by=funded_by[:300] if will_be_sustained else "",
                                sustainability_notes=notes)


# Submitting ---------------------------------------------------------------------------------------------


def submission_problems(ret: MonitoringReturn, *, today: dt.date | None = None) -> list[ValidationError]:
    """Why the return cannot be submitted yet (empty when it can). Shown on the check page too."""
    today = today or timezone.localdate()
    problems = []
    if ret.status not in EDITABLE_RETURN_STATUSES:
        problems.append(ValidationError(NOT_SUBMITTABLE, code="not_submittable", params={"status": _status_label(ret.status)}))
        return problems
    if ret.period_end >= today:
        problems.append(ValidationError(PERIOD_NOT_ENDED, code="period_not_ended",
                                        params={"from": _date(can_submit_from(ret))}))
    missing = incomplete_sections(ret)
    if missing:
        problems.append(ValidationError(SECTIONS_INCOMPLETE, code="sections_incomplete",
                                        params={"sections": ", ".join(_in_sentence(s.label) for s in missing)}))
    elif not ret.spend_variance_explanation:
        total, profile = return_spend_total(ret), period_profile(ret)
        if variance_needs_explanation(total, profile):
            problems.append(_variance_error(total, profile))
    return problems


def _in_sentence(label: str) -> str:
    """A section's label inside a sentence: lower case, but initialisms (RAG) kept."""
    first, _, rest = label.partition(" ")
    word = first if first.isupper() else first.lower()
    return f"{word} {rest}" if rest else word


@transaction.atomic
def return_submit(*, actor: User, monitoring_return: MonitoringReturn, today: dt.date | None = None) -> MonitoringReturn:
    """The grantee submits a complete return once its period has ended: it goes to the fund manager."""
    ret = _lock_return(monitoring_return)
    _require_grantee(actor, ret.award)
    if ret.status == ReturnStatus.APPROVED:
        raise ValidationError(RETURN_APPROVED_LOCKED, code="approved")
    problems = submission_problems(ret, today=today)
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    RETURN_LIFECYCLE.apply(
        ret, "submit", actor=actor, locked=ret, clean=False,
        changes={"submitted_at": now, "submitted_by": actor, "opened_at": ret.opened_at or now},
        recorded=(), audit_before=snapshot(ret, ("status",)),
        audit_after={"status": ReturnStatus.SUBMITTED, **snapshot(ret, ("rag",)), "spend": return_spend_total(ret)},
        message=f"Monitoring return for {_period(ret)} submitted (RAG {ret.get_rag_display() or 'not given'})")
    award = ret.award
    for manager in return_audience(ret, award_managers(award)):
        notify(user=manager, subject=f"Monitoring return to review: {award.reference}",
               body=f"{award.recipient.name} submitted the monitoring return for {_period(ret)} "
                    f"(RAG status {ret.get_rag_display().lower() or 'not given'}).",
               link=ret.get_absolute_url())
    return ret


# Review ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewOutcome:
    monitoring_return: MonitoringReturn
    released: tuple[Instalment, ...] = ()
    payment_note: str = ""


def _lock_for_review(actor: User, ret: MonitoringReturn, action: str) -> MonitoringReturn:
    """Lock the award, then the return, and check the reviewer may make the review ``action``
    now (in this stage's words: the lifecycle's own refusals are the fallback)."""
    Award.objects.select_for_update().filter(pk=ret.award_id).first()  # award first, as awards does
    ret = _lock_return(ret)
    if actor is None or not actor.has_perm(RETURN_LIFECYCLE.transition(action).permission, ret):
        raise ValidationError(NOT_REVIEWER, code="not_reviewer")
    if not RETURN_LIFECYCLE.allows(ret.status, action):
        raise ValidationError(NOT_SUBMITTED, code="not_submitted", params={"status": _status_label(ret.status)})
    return ret


def _review(actor: User, ret: MonitoringReturn, action: str, comments: str, message: str) -> None:
    RETURN_LIFECYCLE.apply(ret, action, actor=actor, locked=ret, clean=False,
                           changes={"reviewed_at": timezone.now(), "reviewed_by": actor, "review_comments": comments},
                           recorded=(), audit_before=snapshot(ret, ("status",)),
                           audit_after={"status": RETURN_LIFECYCLE.transition(action).target, "review_comments": comments},
                           message=message)


def _release_waiting(actor: User, ret: MonitoringReturn) -> tuple[tuple[Instalment, ...], str]:
    """Release the instalments that wait on this approved return; the approval stands even when
    the awards stage refuses (its reason is kept on the return and shown to the manager)."""
    released: list[Instalment] = []
    for instalment in instalments_waiting_on(ret):
        if instalment.status != InstalmentStatus.SCHEDULED:
            continue
        try:
            released.append(instalment_release(actor=actor, instalment=instalment))  # atomic: a savepoint here
        except ValidationError as exc:
            return tuple(released), " ".join(exc.messages)
    return tuple(released), ""


@transaction.atomic
def return_approve(*, actor: User, monitoring_return: MonitoringReturn, comments: str = "") -> ReviewOutcome:
    """The fund manager approves a submitted return, which releases the instalment waiting on it."""
    ret = _lock_for_review(actor, monitoring_return, "approve")
    _review(actor, ret, "approve", (comments or "").strip(), f"Monitoring return for {_period(ret)} approved")
    released, note = _release_waiting(actor, ret)
    if note:
        ret.payment_note = note
        ret.save(update_fields=["payment_note", "updated_at"])
        audit_record(actor=actor, action="return.payment_held", target=ret, after={"reason": note},
                     message=f"Payment waiting on the return not released: {note}")
    award = ret.award
    body = f"Your monitoring return for {_period(ret)} was approved."
    if ret.review_comments:
        body += f" Comments: {ret.review_comments}"
    if released:
        body += f" {released_sentence(released)}"
    for user in _grantee_audience(ret):
        notify(user=user, subject=f"Monitoring return approved: {award.reference}", body=body, link=ret.get_absolute_url())
    return ReviewOutcome(ret, released, note)


@transaction.atomic
def return_send_back(*, actor: User, monitoring_return: MonitoringReturn, comments: str) -> MonitoringReturn:
    """The fund manager sends a submitted return back with comments; the grantee changes and resubmits it."""
    ret = _lock_for_review(actor, monitoring_return, "send_back")
    comments = (comments or "").strip()
    if not comments:
        raise ValidationError({"comments": ValidationError(COMMENTS_MISSING, code="comments_missing")})
    _review(actor, ret, "send_back", comments, f"Monitoring return for {_period(ret)} sent back")
    for user in _grantee_audience(ret):
        notify(user=user, subject=f"Monitoring return sent back: {ret.award.reference}",
               body=f"Your monitoring return for {_period(ret)} needs changes: {comments}", link=ret.get_absolute_url())
    return ret


def _grantee_audience(ret: MonitoringReturn) -> list[User]:
    people = grantee_contacts(ret.award)
    if ret.submitted_by is not None and ret.submitted_by.is_active and ret.submitted_by not in people:
        people.append(ret.submitted_by)
    return return_audience(ret, people)


def released_sentence(released: tuple[Instalment, ...]) -> str:
    """Like 'The 2026/27 Q3 instalment of £10,000.00 is released for payment.'"""
    parts = [f"{i.label} instalment of {_money(i.amount)}" for i in released]
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return f"The {listed} {'is' if len(parts) == 1 else 'are'} released for payment."


def return_payment_release(*, actor: User, monitoring_return: MonitoringReturn) -> tuple[Instalment, ...]:
    """Try again to release the instalments waiting on an approved return (say once the award has
    resumed or its conditions are met). On refusal the reason is kept on the return and raised."""
    with transaction.atomic():
        Award.objects.select_for_update().filter(pk=monitoring_return.award_id).first()
        ret = _lock_return(monitoring_return)
        if not actor.has_perm("reporting.review_return", ret):
            raise ValidationError(NOT_REVIEWER, code="not_reviewer")
        if ret.status != ReturnStatus.APPROVED:
            raise ValidationError(RETURN_NOT_APPROVED_YET, code="not_approved")
        if not any(i.status == InstalmentStatus.SCHEDULED for i in instalments_waiting_on(ret)):
            raise ValidationError(NO_PAYMENT_WAITING, code="nothing_waiting")
        released, note = _release_waiting(actor, ret)
        ret.payment_note = note
        ret.save(update_fields=["payment_note", "updated_at"])
    if note:
        raise ValidationError(note, code="release_refused")
    return released


# The beat's work ---------------------------------------------------------------------------------------------


def monitoring_run(*, today: dt.date | None = None) -> dict[str, Any]:
    """What the periodic task does, each step idempotent and in its own transactions:

    1. make every active or suspended award's schedule follow its dates;
    2. open the returns whose period has ended;
    3. list the reminders due (the task sends each through ``return_reminder_send``).
    """
    from .selectors import reminders_due

    today = today or timezone.localdate()
    synced = {"created": 0, "moved": 0, "removed": 0}
    failed = []
    for award in Award.objects.filter(status__in=SCHEDULED_AWARD_STATUSES).order_by("pk"):
        try:
            changes = return_schedule_sync(award=award, today=today)
        except (OperationalError, InterfaceError):
            raise  # the database itself is in trouble: the task retries later
        except Exception:
            # One award's odd dates must not stop every other award's returns and reminders.
            logger.exception("Monitoring schedule of award %s could not be updated", award.pk)
            failed.append(award.pk)
            continue
        for key, value in changes.items():
            synced[key] += value
    opened = returns_open_ended(today=today)
    return {"synced": synced, "failed": failed, "opened": opened, "reminders": reminders_due(today=today)}
