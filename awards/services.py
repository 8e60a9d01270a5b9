"""Writes for the awards stage: one function per state transition.

Money rules:
- Every movement of money is a ``PotLedgerEntry`` written in the same transaction as the
  change that causes it. Committed = commits − releases; paid = payments.
- A service that commits or releases money locks the pot's ``PotBudget`` rows for the years
  it touches (``select_for_update``, ordered by year) and reads the ledger only after the
  locks are held, so two managers issuing at once can never over-commit a pot.
- Lock order, everywhere: the decision or the award row first, then the budget rows, then
  instalments. Nothing holds a budget row while waiting for an award row, so no deadlock.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from assessment.models import FUNDING_OUTCOMES, PanelDecision
from governance import fy, notifications, uploads
from governance.access import require_actor
from governance.audit import audit_record, snapshot, to_json
from governance.models import Fund, Membership, Pot, PotBudget, User
from governance.money import ZERO, format_money
from governance.outbox import outbox_enqueue
from governance.services import notify

# The refusals of the lifecycle tables, still importable from here (pages and tests use them).
from .lifecycle import (
    AWARD_LIFECYCLE,
    CONDITION_CLOSED as CONDITION_CLOSED,
    CONDITION_LIFECYCLE,
    CONDITION_NOT_OPEN as CONDITION_NOT_OPEN,
    INSTALMENT_LIFECYCLE,
    INSTALMENT_NOT_RELEASED as INSTALMENT_NOT_RELEASED,
    INSTALMENT_NOT_SCHEDULED as INSTALMENT_NOT_SCHEDULED,
    NOT_OFFERED as NOT_OFFERED,
    OFFER_LETTER_LIFECYCLE,
    TRANSITION_NOT_ALLOWED as TRANSITION_NOT_ALLOWED,
    VARIATION_DECIDED as VARIATION_DECIDED,
    VARIATION_LIFECYCLE,
)
from .messages import (  # the messages live beside the services; kept importable from here
    ALREADY_ISSUED as ALREADY_ISSUED,
    AMOUNT_ABOVE_DECISION as AMOUNT_ABOVE_DECISION,
    AMOUNT_NOT_POSITIVE as AMOUNT_NOT_POSITIVE,
    AWARD_ENDED as AWARD_ENDED,
    AWARD_NOT_ACTIVE as AWARD_NOT_ACTIVE,
    BID_HAS_NO_POT as BID_HAS_NO_POT,
    CONDITION_DUE_AFTER_END as CONDITION_DUE_AFTER_END,
    CONDITION_DUE_PAST as CONDITION_DUE_PAST,
    CONDITION_PAYMENT_PAID as CONDITION_PAYMENT_PAID,
    CONDITION_PAYMENT_UNKNOWN as CONDITION_PAYMENT_UNKNOWN,
    CONDITION_TITLE_MISSING as CONDITION_TITLE_MISSING,
    CONDITION_TITLE_TOO_LONG as CONDITION_TITLE_TOO_LONG,
    CONDITIONS_HOLD_BACK as CONDITIONS_HOLD_BACK,
    DATES_OUT_OF_ORDER as DATES_OUT_OF_ORDER,
    DECISION_HAS_NO_AMOUNT as DECISION_HAS_NO_AMOUNT,
    DECISION_NOT_FUNDED as DECISION_NOT_FUNDED,
    DECISION_NOT_RELEASED as DECISION_NOT_RELEASED,
    DECLINE_REASON_MISSING as DECLINE_REASON_MISSING,
    END_AFTER_FUND as END_AFTER_FUND,
    EVIDENCE_NOT_SCANNED as EVIDENCE_NOT_SCANNED,
    EVIDENCE_QUARANTINED as EVIDENCE_QUARANTINED,
    FUNDER_ORG_ID_MISSING as FUNDER_ORG_ID_MISSING,
    LETTER_NOT_ALLOWED as LETTER_NOT_ALLOWED,
    NO_EVIDENCE_TO_SIGN_OFF as NO_EVIDENCE_TO_SIGN_OFF,
    NOT_RECIPIENT as NOT_RECIPIENT,
    NOT_SIGNATORY as NOT_SIGNATORY,
    NOTE_MISSING as NOTE_MISSING,
    OFFER_DEADLINE_PAST as OFFER_DEADLINE_PAST,
    OFFER_EXPIRED as OFFER_EXPIRED,
    OFFER_LETTER_NOT_READY as OFFER_LETTER_NOT_READY,
    PAID_AMOUNT_DIFFERS as PAID_AMOUNT_DIFFERS,
    PAID_AMOUNT_MISSING as PAID_AMOUNT_MISSING,
    PAID_AMOUNT_NOT_POSITIVE as PAID_AMOUNT_NOT_POSITIVE,
    PAID_AMOUNT_TOO_LARGE as PAID_AMOUNT_TOO_LARGE,
    PAID_ON_BEFORE_RELEASE as PAID_ON_BEFORE_RELEASE,
    PAID_ON_FUTURE as PAID_ON_FUTURE,
    PAID_ON_MISSING as PAID_ON_MISSING,
    PAYMENT_ABOVE_COMMITMENT as PAYMENT_ABOVE_COMMITMENT,
    PAYMENT_REFERENCE_INVALID as PAYMENT_REFERENCE_INVALID,
    PAYMENT_REFERENCE_MISSING as PAYMENT_REFERENCE_MISSING,
    POT_HAS_NO_BUDGET as POT_HAS_NO_BUDGET,
    POT_OVERCOMMITTED as POT_OVERCOMMITTED,
    PRESTART_CONDITIONS_OPEN as PRESTART_CONDITIONS_OPEN,
    PROFILE_EMPTY as PROFILE_EMPTY,
    PROFILE_NEGATIVE as PROFILE_NEGATIVE,
    PROFILE_NOT_TOTAL as PROFILE_NOT_TOTAL,
    PROFILE_YEAR_OUTSIDE_DATES as PROFILE_YEAR_OUTSIDE_DATES,
    PROFILE_YEAR_OUTSIDE_FUND as PROFILE_YEAR_OUTSIDE_FUND,
    REASON_MISSING as REASON_MISSING,
    REJECTION_NOTE_MISSING as REJECTION_NOTE_MISSING,
    RELEASED_NOT_PAID as RELEASED_NOT_PAID,
    RETURN_FREQUENCY_FIXED as RETURN_FREQUENCY_FIXED,
    RETURN_FREQUENCY_NOT_ALLOWED as RETURN_FREQUENCY_NOT_ALLOWED,
    RETURN_NOT_APPROVED as RETURN_NOT_APPROVED,
    RETURN_NOT_LINKED as RETURN_NOT_LINKED,
    START_BEFORE_FUND as START_BEFORE_FUND,
    TEMPLATE_TITLE_TAKEN as TEMPLATE_TITLE_TAKEN,
    VARIATION_ALREADY_OPEN as VARIATION_ALREADY_OPEN,
    VARIATION_BELOW_PAID as VARIATION_BELOW_PAID,
    VARIATION_END_DATE_MISSING as VARIATION_END_DATE_MISSING,
    VARIATION_END_NOT_LATER as VARIATION_END_NOT_LATER,
    VARIATION_KIND_MISSING as VARIATION_KIND_MISSING,
    VARIATION_NO_CHANGE as VARIATION_NO_CHANGE,
    VARIATION_NOT_ALLOWED as VARIATION_NOT_ALLOWED,
    VARIATION_OVERSPENDS as VARIATION_OVERSPENDS,
    VARIATION_PROFILE_MISSING as VARIATION_PROFILE_MISSING,
    VARIATION_REASONS_MISSING as VARIATION_REASONS_MISSING,
    VARIATION_SCOPE_MISSING as VARIATION_SCOPE_MISSING,
    VARIATION_YEAR_ALL_PAID as VARIATION_YEAR_ALL_PAID,
)
from .models import (
    COMMITTING_STATUSES,
    Award,
    AwardCondition,
    AwardStatus,
    AwardYear,
    ConditionStatus,
    ConditionTemplate,
    DocumentStatus,
    Instalment,
    InstalmentStatus,
    LedgerEntryKind,
    OfferLetter,
    PotLedgerEntry,
    Variation,
    VariationKind,
    VariationStatus,
)
from .selectors import (
    RETURN_APPROVED,
    award_ledger_by_year,
    award_profile,
    conditions_holding_back,
    instalment_return,
    is_authorised_signatory,
    is_recipient_member,
    pot_committed_in_years,
    prestart_conditions_met,
    spread_in_proportion,
)
from .signals import award_changed
from .visibility import award_private_audience

logger = logging.getLogger(__name__)

# Messages (tests import these) --------------------------------------------------------------------


# A finance reference: starts with a letter or digit (so a spreadsheet never reads it as a formula).
PAYMENT_REFERENCE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 /._-]{0,39}$")

# Evidence goes through the upload pipeline every upload uses (governance.uploads), with its messages.
EVIDENCE_MISSING = uploads.FILE_NEEDED
EVIDENCE_TOO_LARGE = uploads.FILE_TOO_LARGE
EVIDENCE_EMPTY = uploads.FILE_EMPTY
EVIDENCE_WRONG_TYPE = uploads.CONDITION_EVIDENCE.type_message


AWARD_FIELDS = ("reference", "amount", "start_date", "end_date", "status", "offer_deadline", "status_reason", "pot",
                "return_frequency_months")
# Monitoring returns every NHS quarter, six months or year; payments wait on the return before them.
RETURN_FREQUENCIES = {3: "Every NHS quarter", 6: "Every six months", 12: "Every year"}


FIRST_PAYMENT = "first"
NO_PAYMENT = "none"


@dataclass(frozen=True)
class ConditionSpec:
    """A condition to attach to an award when it is issued.

    ``holds_back``: which payment waits for it: ``"first"`` (or True) the first payment, and so
    every payment; ``"none"`` (or False/None) none; ``"2027-1"`` (or ``(2027, 1)``) the instalment of
    that financial year and quarter, and every later one. ``due_date``: when it must be met by."""

    title: str
    description: str = ""
    holds_back: bool | str | tuple[Any, Any] | None = FIRST_PAYMENT
    due_date: dt.date | None = None

    @property
    def held_key(self) -> str | tuple[int, int] | tuple[str, str] | None:
        return holds_back_key(self.holds_back)


def holds_back_key(value: Any) -> str | tuple[int, int] | tuple[str, str] | None:
    """``"first"``, None (no payment) or (year, quarter) from what a form or a caller gives."""
    if value is True or value == FIRST_PAYMENT:
        return FIRST_PAYMENT
    if value in (False, None, "", NO_PAYMENT):
        return None
    if isinstance(value, tuple):
        return int(value[0]), int(value[1])
    year, _, quarter = str(value).partition("-")
    try:
        return int(year), int(quarter)
    except ValueError:
        return ("invalid", str(value))  # reported as an error by whoever checks it


def _money(amount: Decimal) -> str:
    return format_money(amount, pence=True)


def _date(day: dt.date) -> str:
    return day.strftime("%-d %B %Y")


def _status_label(status: str) -> str:
    return AwardStatus(status).label.lower()


def _clean_profile(profile: dict[Any, Any]) -> dict[int, Decimal]:
    """Years as ints, amounts as Decimal; zero years dropped (an award holds no money there)."""
    cleaned: dict[int, Decimal] = {}
    for year, amount in (profile or {}).items():
        amount = Decimal(amount)
        if amount != 0:
            cleaned[int(year)] = amount
    return dict(sorted(cleaned.items()))


def _profile_errors(profile: dict[int, Decimal], *, amount: Decimal | None, start: dt.date | None, end: dt.date | None,
                    fund: Fund) -> list[ValidationError]:
    """What is wrong with a profile for an award of ``amount`` from ``start`` to ``end``."""
    errors: list[ValidationError] = []
    if not profile:
        return [ValidationError(PROFILE_EMPTY, code="profile_empty")]
    allowed = set(fy.years_spanning(start, end)) if start and end and end > start else None
    for year, value in profile.items():
        params = {"year": fy.label(year)}
        if value < 0:
            errors.append(ValidationError(PROFILE_NEGATIVE, code="negative", params=params))
        elif allowed is not None and year not in allowed:
            errors.append(ValidationError(
                PROFILE_YEAR_OUTSIDE_DATES, code="year_outside_dates",
                params={**params, "first": fy.label(min(allowed)), "last": fy.label(max(allowed))},
            ))
        elif not fund.first_year <= year <= fund.last_year:
            errors.append(ValidationError(
                PROFILE_YEAR_OUTSIDE_FUND, code="year_outside_fund",
                params={**params, "first": fy.label(fund.first_year), "last": fy.label(fund.last_year)},
            ))
    total = sum(profile.values(), ZERO)
    if amount is not None and total != amount:
        errors.append(ValidationError(
            PROFILE_NOT_TOTAL, code="profile_total", params={"total": _money(total), "amount": _money(amount)}
        ))
    return errors


def _lock_budgets(pot_id: int, years: Iterable[int]) -> dict[int, PotBudget]:
    """Lock the pot's budget rows for ``years`` (always in year order) and return them."""
    rows = PotBudget.objects.select_for_update().filter(pot_id=pot_id, financial_year__in=sorted(set(years)))
    return {row.financial_year: row for row in rows.order_by("financial_year")}


def _lock_award(award: Award) -> Award:
    return Award.objects.select_for_update().get(pk=award.pk)


def _check_room(pot: Pot, needed: dict[int, Decimal], budgets: dict[int, PotBudget], message: str) -> list[ValidationError]:
    """With the budget rows locked: is there room in each year for ``needed`` more?"""
    errors = []
    committed = pot_committed_in_years(pot.pk, needed)
    for year, amount in sorted(needed.items()):
        if amount <= 0:
            continue
        params = {"pot": pot.name, "year": fy.label(year)}
        budget = budgets.get(year)
        if budget is None:
            errors.append(ValidationError(POT_HAS_NO_BUDGET, code="no_budget", params=params))
            continue
        remaining = budget.amount - committed.get(year, ZERO)
        if amount > remaining:
            errors.append(ValidationError(
                message, code="overcommitted",
                params={**params, "remaining": _money(max(remaining, ZERO)), "needed": _money(amount)},
            ))
    return errors


def _ledger(award: Award, kind: str, year: int, amount: Decimal, actor: User | None, note: str) -> PotLedgerEntry:
    return PotLedgerEntry.objects.create(
        pot_id=award.pot_id, financial_year=year, kind=kind, amount=amount, award=award,
        created_by=actor if actor is not None and actor.is_authenticated else None, note=note[:300],
    )


def _notify_recipient(award: Award, subject: str, body: str) -> None:
    people = {m.user for m in Membership.objects.filter(organisation_id=award.recipient_id).select_related("user")
              if m.user.is_active and (m.is_authorised_signatory or m.user_id == award.bid.created_by_id)}
    for user in award_private_audience(award, people):
        notify(user=user, subject=subject, body=body, link=award.get_absolute_url())


def _grantee_people(award: Award) -> list[User]:
    people = {m.user for m in Membership.objects.filter(organisation_id=award.recipient_id).select_related("user")
              if m.user.is_active and (m.is_authorised_signatory or m.user_id == award.bid.created_by_id)}
    return sorted(award_private_audience(award, people), key=lambda user: user.email)


def _tell_grantee(key: str, award: Award, *, about: Any, values: dict[str, Any] | None = None) -> None:
    """A catalogue message to the grantee's people, once each (``governance.notifications``)."""
    fund = award.bid.call.fund
    notifications.send_to_each(key, _grantee_people(award), about=about, fund=fund, link=award.get_absolute_url(),
                               values={"award_reference": award.reference, "award_title": award.title, **(values or {})})


def _notify_manager(award: Award, subject: str, body: str) -> None:
    if award_private_audience(award, [award.issued_by]):
        notify(user=award.issued_by, subject=subject, body=body, link=award.get_absolute_url())


def _quarter_label(key: tuple[int, int]) -> str:
    return f"{fy.label(key[0])} Q{key[1]}"


def _condition_schedule_errors(title: str, key: str | tuple[Any, Any] | None, due_date: dt.date | None, *,
                               quarters: list[tuple[int, int]], end_date: dt.date | None,
                               check_quarters: bool = True) -> list[ValidationError]:
    """What is wrong with a condition's due date and the payment it holds back."""
    errors = []
    params = {"title": title}
    if isinstance(key, tuple) and check_quarters and key not in quarters:
        errors.append(ValidationError(CONDITION_PAYMENT_UNKNOWN, code="condition_payment_unknown", params=params))
    if due_date is not None:
        if due_date < timezone.localdate():
            errors.append(ValidationError(CONDITION_DUE_PAST, code="condition_due_past", params=params))
        elif end_date and due_date > end_date:
            errors.append(ValidationError(CONDITION_DUE_AFTER_END, code="condition_due_after_end",
                                          params={**params, "end": _date(end_date)}))
    return errors


# Issuing ---------------------------------------------------------------------------------------


def _instalment_plan(start: dt.date, end: dt.date, profile: dict[int, Decimal]) -> list[tuple[int, int, Decimal]]:
    """(year, quarter, amount): each year's money split evenly over its NHS quarters in the award."""
    quarters: dict[int, list[int]] = defaultdict(list)
    for year, quarter, _, _ in fy.quarters_between(start, end):
        quarters[year].append(quarter)
    plan: list[tuple[int, int, Decimal]] = []
    for year, amount in sorted(profile.items()):
        shares = spread_in_proportion(amount, dict.fromkeys(quarters[year], Decimal(1)))
        plan.extend((year, quarter, shares[quarter]) for quarter in quarters[year])
    return plan


@transaction.atomic
def award_issue(
    *,
    actor: User,
    decision: PanelDecision,
    amount: Decimal,
    start_date: dt.date | None,
    end_date: dt.date | None,
    profile: dict[int, Decimal],
    offer_deadline: dt.date | None,
    conditions: list[ConditionSpec] | None = None,
    return_frequency_months: int = 3,
) -> Award:
    """Offer an award for a released decision to fund, committing its profile against the pot.

    ``profile`` maps financial years to amounts; it must total ``amount`` and use only years
    inside the award's dates and the fund's years. ``conditions`` default to the decision's,
    all to be met before the award starts. One award per decision.
    """
    require_actor(actor, "awards.issue_award", decision)
    decision = PanelDecision.objects.select_for_update().get(pk=decision.pk)
    existing = Award.objects.filter(decision_id=decision.pk).first()
    if existing is not None:
        raise ValidationError(ALREADY_ISSUED, code="already_issued", params={"reference": existing.reference})
    bid = decision.bid
    fund = bid.call.fund
    if decision.outcome not in FUNDING_OUTCOMES:
        raise ValidationError(DECISION_NOT_FUNDED, code="not_funded")
    if decision.released_at is None or decision.released_at > timezone.now():
        raise ValidationError(DECISION_NOT_RELEASED, code="not_released")
    if decision.amount_approved is None:
        raise ValidationError(DECISION_HAS_NO_AMOUNT, code="no_amount")
    if bid.pot is None:
        raise ValidationError(BID_HAS_NO_POT, code="no_pot")
    if not fund.host_network.official_org_id:
        raise ValidationError(FUNDER_ORG_ID_MISSING, code="funder_org_id", params={"network": fund.host_network.name})
    pot = bid.pot

    errors: dict[str, list[ValidationError]] = defaultdict(list)
    if amount is None or amount <= 0:
        errors["amount"].append(ValidationError(AMOUNT_NOT_POSITIVE, code="not_positive"))
    elif amount > decision.amount_approved:
        errors["amount"].append(ValidationError(
            AMOUNT_ABOVE_DECISION, code="above_decision", params={"approved": _money(decision.amount_approved)}
        ))
    if start_date and end_date and end_date <= start_date:
        errors["end_date"].append(ValidationError(DATES_OUT_OF_ORDER, code="dates_order"))
    fund_first, fund_last = fy.FinancialYear(fund.first_year).start, fy.FinancialYear(fund.last_year).end
    if start_date and start_date < fund_first:
        errors["start_date"].append(ValidationError(START_BEFORE_FUND, code="before_fund", params={"first": _date(fund_first)}))
    if end_date and end_date > fund_last:
        errors["end_date"].append(ValidationError(END_AFTER_FUND, code="after_fund", params={"last": _date(fund_last)}))
    if offer_deadline is None or offer_deadline <= timezone.localdate():
        errors["offer_deadline"].append(ValidationError(OFFER_DEADLINE_PAST, code="deadline_past"))
    if return_frequency_months not in RETURN_FREQUENCIES:
        errors["return_frequency_months"].append(ValidationError(RETURN_FREQUENCY_NOT_ALLOWED, code="frequency"))
    profile = _clean_profile(profile)
    errors["profile"].extend(_profile_errors(
        profile, amount=amount if amount and amount > 0 else None, start=start_date, end=end_date, fund=fund
    ))
    specs = [ConditionSpec(c, "", FIRST_PAYMENT) for c in decision.conditions] if conditions is None else list(conditions)
    plan = [(y, q, v) for y, q, v in _instalment_plan(start_date, end_date, profile) if v > 0] \
        if start_date and end_date and end_date > start_date else []
    for spec in specs:
        if not spec.title.strip():
            errors["conditions"].append(ValidationError(CONDITION_TITLE_MISSING, code="condition_missing"))
        elif len(spec.title.strip()) > 200:
            errors["conditions"].append(ValidationError(CONDITION_TITLE_TOO_LONG, code="condition_too_long"))
        else:
            errors["conditions"].extend(_condition_schedule_errors(
                spec.title.strip(), spec.held_key, spec.due_date, quarters=[(y, q) for y, q, _ in plan],
                end_date=end_date, check_quarters=bool(plan)))
    errors = {key: value for key, value in errors.items() if value}
    if errors:
        raise ValidationError(errors)

    # Lock the pot's years, then read what is committed: nobody else can commit meanwhile.
    budgets = _lock_budgets(pot.pk, profile)
    room = _check_room(pot, profile, budgets, POT_OVERCOMMITTED)
    if room:
        raise ValidationError({"profile": room})

    award = Award(  # type: ignore[misc]  # the dates are checked above and by full_clean; the stubs refuse None
        decision=decision, bid=bid, pot=pot, recipient=bid.lead_organisation, reference=bid.reference,
        title=bid.title, description=bid.summary or bid.title, amount=amount, start_date=start_date, end_date=end_date,
        status=AwardStatus.OFFERED, offer_deadline=offer_deadline, issued_by=actor, issued_at=timezone.now(),
        return_frequency_months=return_frequency_months,
    )
    award.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            award.save()
    except IntegrityError:
        # Another request issued it between our check and our insert (possible without row locks).
        raise ValidationError(ALREADY_ISSUED, code="already_issued", params={"reference": bid.reference}) from None
    AwardYear.objects.bulk_create(AwardYear(award=award, financial_year=y, amount=a) for y, a in profile.items())
    for year, value in profile.items():
        _ledger(award, LedgerEntryKind.COMMIT, year, value, actor, "Award issued")
    created = [
        Instalment.objects.create(award=award, financial_year=year, quarter=quarter, amount=value, requires_return=index > 0)
        for index, (year, quarter, value) in enumerate(plan)
    ]
    by_quarter: dict[object, Instalment] = {(i.financial_year, i.quarter): i for i in created}
    for spec in specs:
        key = spec.held_key
        held = (created[0] if created else None) if key == FIRST_PAYMENT else by_quarter.get(key) if key else None
        AwardCondition.objects.create(award=award, title=spec.title.strip(), description=spec.description.strip(),
                                      due_date=spec.due_date, holds_back=held)
    audit_record(
        actor=actor, action="award.issued", target=award,
        message=f"Award of {_money(amount)} offered to {award.recipient.name}",
        after={**snapshot(award, AWARD_FIELDS), "profile": profile, "conditions": [s.title for s in specs]},
    )
    _request_letter(actor, award)
    _notify_recipient(
        award, f"Offer of funding: {award.reference}",
        f"{award.recipient.name} has been offered {_money(amount)} for \"{award.title}\". "
        f"An authorised signatory must accept or decline the offer by {_date(award.offer_deadline)}.",
    )
    return award


# Offer letters ---------------------------------------------------------------------------------


def _request_letter(actor: User | None, award: Award) -> OfferLetter:
    version = (award.letters.aggregate(latest=Max("version"))["latest"] or 0) + 1
    letter = OfferLetter.objects.create(award=award, version=version, status=DocumentStatus.QUEUED)
    audit_record(actor=actor, action="offer_letter.requested", target=award, message=f"Offer letter version {version} requested")

    outbox_enqueue("awards.tasks.generate_offer_letter", letter.pk)
    return letter


@transaction.atomic
def offer_letter_request(*, actor: User, award: Award) -> OfferLetter:
    """Make the offer letter again (a new version), for example after a failure."""
    require_actor(actor, "awards.manage_award", award)
    award = _lock_award(award)
    if award.status not in COMMITTING_STATUSES:
        raise ValidationError(LETTER_NOT_ALLOWED, code="letter_not_allowed")
    return _request_letter(actor, award)


def offer_letter_generate(*, letter_id: int) -> OfferLetter | None:
    """Render and store one offer letter: queued → running → ready, or failed.

    Safe to run twice: a ready letter is left alone; a letter left running by a lost worker
    is made again when the task is redelivered.
    """
    from .letters import render_offer_letter

    with transaction.atomic():
        letter = OfferLetter.objects.select_for_update().filter(pk=letter_id).first()
        if letter is None or not OFFER_LETTER_LIFECYCLE.allows(letter.status, "start"):
            return letter
        OFFER_LETTER_LIFECYCLE.apply(letter, "start", actor=None, locked=letter, clean=False, changes={"error": ""})
    try:
        pdf = render_offer_letter(letter)
    except Exception as exc:
        logger.exception("Offer letter %s could not be made", letter_id)
        return offer_letter_fail(letter_id=letter_id, error=f"{type(exc).__name__}: {exc}")
    with transaction.atomic():
        letter = OfferLetter.objects.select_for_update().select_related("award").get(pk=letter_id)
        if not OFFER_LETTER_LIFECYCLE.allows(letter.status, "finish"):  # made meanwhile by a redelivered task
            return letter
        letter.file.save(f"offer-letter-v{letter.version}.pdf", ContentFile(pdf), save=False)
        OFFER_LETTER_LIFECYCLE.apply(letter, "finish", actor=None, locked=letter, clean=False,
                                     changes={"ready_at": timezone.now()}, recorded=(),
                                     message=f"Offer letter version {letter.version} made")
    return letter


@transaction.atomic
def offer_letter_fail(*, letter_id: int, error: str) -> OfferLetter | None:
    letter = OfferLetter.objects.select_for_update().select_related("award").filter(pk=letter_id).first()
    if letter is None or not OFFER_LETTER_LIFECYCLE.allows(letter.status, "fail"):
        return letter
    OFFER_LETTER_LIFECYCLE.apply(letter, "fail", actor=None, locked=letter, clean=False,
                                 changes={"error": error[:2000]}, recorded=(),
                                 message=f"Offer letter version {letter.version} could not be made")
    return letter


# Accepting, declining and lapsing ------------------------------------------------------------------


def _require_signatory(actor: User, award: Award) -> None:
    if actor is None or not is_authorised_signatory(actor, award):
        raise ValidationError(NOT_SIGNATORY, code="not_signatory", params={"organisation": award.recipient.name})


@transaction.atomic
def award_accept(*, actor: User, award: Award) -> Award:
    """The recipient's authorised signatory accepts the offer by its deadline."""
    award = _lock_award(award)
    AWARD_LIFECYCLE.require_state(award, "accept")
    _require_signatory(actor, award)
    if timezone.localdate() > award.offer_deadline:
        raise ValidationError(OFFER_EXPIRED, code="offer_expired")
    # The signatory accepts the terms in the letter: the latest one, which must exist to be read.
    letter = award.letters.order_by("-version").first()
    if letter is None or letter.status != DocumentStatus.READY:
        raise ValidationError(OFFER_LETTER_NOT_READY, code="letter_not_ready")
    award = AWARD_LIFECYCLE.apply(
        award, "accept", actor=actor, locked=award, changes={"accepted_by": actor, "accepted_at": timezone.now()},
        recorded=("status", "accepted_by", "accepted_at"), audit_after={"letter_version": letter.version},
        message=f"Offer accepted for {award.recipient.name} on the terms of offer letter version {letter.version}")
    _notify_manager(award, f"Offer accepted: {award.reference}",
                    f"{actor.full_name} accepted the offer for \"{award.title}\" on behalf of {award.recipient.name}.")
    return award


def _release_unpaid(award: Award, actor: User | None, note: str, *, cancel_released: bool = True) -> Decimal:
    """Release to the pot every pound committed to the award but not paid; cancel unpaid
    instalments. The award row must already be locked. Returns the amount released."""
    by_year = award_ledger_by_year(award)
    _lock_budgets(award.pot_id, by_year)
    released = ZERO
    for year, money in sorted(by_year.items()):
        unpaid = money["committed"] - money["paid"]
        if unpaid > 0:
            _ledger(award, LedgerEntryKind.RELEASE, year, unpaid, actor, note)
            released += unpaid
    statuses = [InstalmentStatus.SCHEDULED, InstalmentStatus.RELEASED] if cancel_released else [InstalmentStatus.SCHEDULED]
    # The portal cancels them, as what follows the award's change (recorded with its actor).
    for instalment in award.instalments.select_for_update().filter(status__in=statuses).order_by("financial_year",
                                                                                                  "quarter"):
        INSTALMENT_LIFECYCLE.apply(instalment, "cancel", actor=None, locked=instalment, clean=False,
                                   message=f"{instalment.label} instalment of {_money(instalment.amount)} cancelled: "
                                           f"{note[0].lower()}{note[1:]}")
    return released


def _end_award(award: Award, action: str, *, actor: User | None, reason: str, note: str, message: str) -> Award:
    """Decline, lapse, withdraw or close the award (locked, its state checked): its unpaid
    money goes back to the pot and its unpaid instalments are cancelled."""
    released = _release_unpaid(award, actor, note)
    return AWARD_LIFECYCLE.apply(
        award, action, actor=actor, locked=award, clean=False,
        changes={"status_reason": reason, "closed_at": timezone.now()}, recorded=("status", "status_reason"),
        audit_after={"released": released}, message=f"{message}; {_money(released)} released to the pot")


@transaction.atomic
def award_decline(*, actor: User, award: Award, reason: str) -> Award:
    """The recipient's authorised signatory declines the offer; the commitment is released."""
    award = _lock_award(award)
    AWARD_LIFECYCLE.require_state(award, "decline")
    _require_signatory(actor, award)
    if not (reason or "").strip():
        raise ValidationError({"reason": ValidationError(DECLINE_REASON_MISSING, code="reason_missing")})
    award = _end_award(award, "decline", actor=actor, reason=reason.strip(), note="Offer declined",
                       message=f"Offer declined by {award.recipient.name}")
    _notify_manager(award, f"Offer declined: {award.reference}",
                    f"{actor.full_name} declined the offer for \"{award.title}\": {reason.strip()}")
    return award


def award_lapse(*, award: Award, today: dt.date | None = None) -> bool:
    """Lapse an offer not accepted by its deadline and release its commitment.

    Idempotent: returns False (and changes nothing) unless the award is still offered and
    its deadline has passed.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        award = _lock_award(award)
        if not AWARD_LIFECYCLE.allows(award.status, "lapse") or award.offer_deadline >= today:
            return False
        _end_award(award, "lapse", actor=None, reason=f"Not accepted by the deadline, {_date(award.offer_deadline)}.",
                   note="Offer lapsed", message="Offer lapsed: not accepted by its deadline")
    _notify_manager(award, f"Offer lapsed: {award.reference}",
                    f"The offer for \"{award.title}\" was not accepted by its deadline; its money is back in the pot.")
    return True


def awards_lapse_overdue(*, today: dt.date | None = None) -> int:
    """Lapse every offer past its deadline (the daily beat task). Returns how many lapsed."""
    today = today or timezone.localdate()
    overdue = Award.objects.filter(status=AwardStatus.OFFERED, offer_deadline__lt=today).order_by("pk")
    return sum(award_lapse(award=award, today=today) for award in overdue)


# Fund managers' transitions ------------------------------------------------------------------------


def _require_reason(reason: str) -> str:
    if not (reason or "").strip():
        raise ValidationError({"reason": ValidationError(REASON_MISSING, code="reason_missing")})
    return reason.strip()


@transaction.atomic
def award_activate(*, actor: User, award: Award, reason: str = "") -> Award:
    """Start an accepted award once the conditions holding back its first payment are met or waived."""
    award = AWARD_LIFECYCLE.check(award, "activate", actor=actor)
    if not prestart_conditions_met(award):
        raise ValidationError(PRESTART_CONDITIONS_OPEN, code="conditions_open")
    award = AWARD_LIFECYCLE.apply(award, "activate", actor=actor, locked=award, clean=False,
                                  changes={"status_reason": (reason or "").strip()}, message="Award started")
    award_changed.send(sender=Award, award=award, actor=actor, change="status")
    _tell_grantee("award_started", award, about=award)
    return award


@transaction.atomic
def award_return_frequency_set(*, actor: User, award: Award, months: int) -> Award:
    """Change how often monitoring returns are due while the offer waits for an answer: the
    terms change, so a new offer letter is made and the recipient is told."""
    require_actor(actor, "awards.manage_award", award)
    award = _lock_award(award)
    if award.status != AwardStatus.OFFERED:
        raise ValidationError(RETURN_FREQUENCY_FIXED, code="frequency_fixed",
                              params={"status": _status_label(award.status)})
    if months not in RETURN_FREQUENCIES:
        raise ValidationError({"return_frequency_months": ValidationError(RETURN_FREQUENCY_NOT_ALLOWED, code="frequency")})
    if months == award.return_frequency_months:
        return award
    before = snapshot(award, ("return_frequency_months",))
    award.return_frequency_months = months
    award.save(update_fields=["return_frequency_months", "updated_at"])
    audit_record(actor=actor, action="award.return_frequency_changed", target=award, before=before,
                 after=snapshot(award, ("return_frequency_months",)),
                 message=f"Monitoring returns now due {RETURN_FREQUENCIES[months].lower()}")
    _request_letter(actor, award)
    _notify_recipient(award, f"Offer changed: {award.reference}",
                      f"Monitoring returns for \"{award.title}\" will be due {RETURN_FREQUENCIES[months].lower()}. "
                      "A new offer letter is being made: read it before you accept the offer.")
    return award


@transaction.atomic
def award_suspend(*, actor: User, award: Award, reason: str) -> Award:
    award = AWARD_LIFECYCLE.check(award, "suspend", actor=actor)
    reason = _require_reason(reason)
    award = AWARD_LIFECYCLE.apply(award, "suspend", actor=actor, locked=award, clean=False,
                                  changes={"status_reason": reason}, message="Award suspended: payments stop")
    award_changed.send(sender=Award, award=award, actor=actor, change="status")
    _notify_recipient(award, f"Award suspended: {award.reference}", f"Payments are suspended: {reason}")
    return award


@transaction.atomic
def award_resume(*, actor: User, award: Award, reason: str = "") -> Award:
    award = AWARD_LIFECYCLE.check(award, "resume", actor=actor)
    award = AWARD_LIFECYCLE.apply(award, "resume", actor=actor, locked=award, clean=False,
                                  changes={"status_reason": (reason or "").strip()}, message="Award resumed")
    award_changed.send(sender=Award, award=award, actor=actor, change="status")
    _notify_recipient(award, f"Award resumed: {award.reference}", "Payments have resumed.")
    return award


@transaction.atomic
def award_withdraw(*, actor: User, award: Award, reason: str) -> Award:
    """Withdraw an offer or an award: all unpaid money goes back to the pot."""
    award = AWARD_LIFECYCLE.check(award, "withdraw", actor=actor)
    reason = _require_reason(reason)
    award = _end_award(award, "withdraw", actor=actor, reason=reason, note="Award withdrawn", message="Award withdrawn")
    _notify_recipient(award, f"Award withdrawn: {award.reference}", f"The award has been withdrawn: {reason}")
    return award


@transaction.atomic
def award_close(*, actor: User, award: Award, reason: str = "") -> Award:
    """Close a finished award: any underspend (committed, not paid) goes back to the pot."""
    award = AWARD_LIFECYCLE.check(award, "close", actor=actor)
    if award.instalments.filter(status=InstalmentStatus.RELEASED).exists():
        raise ValidationError(RELEASED_NOT_PAID, code="released_not_paid")
    return _end_award(award, "close", actor=actor, reason=(reason or "").strip(), note="Underspend released at closure",
                      message="Award closed")


# Conditions ---------------------------------------------------------------------------------------


def _require_live(award: Award) -> None:
    if award.status not in COMMITTING_STATUSES:
        raise ValidationError(AWARD_ENDED, code="award_ended", params={"status": _status_label(award.status)})


def _lock_condition(condition: AwardCondition) -> AwardCondition:
    return AwardCondition.objects.select_for_update().select_related("award").get(pk=condition.pk)


@transaction.atomic
def condition_evidence_submit(*, actor: User, condition: AwardCondition, upload: File[Any] | None, note: str = "") -> AwardCondition:
    """The grantee sends evidence that a condition is met; a fund manager then signs it off.

    The file goes through the upload pipeline (content, type, macros, archives, size); a new
    file replaces the last one, which is deleted once this is committed. With a virus scanner
    set up, the evidence waits for its scan before anyone can open or sign it off.
    """
    condition = _lock_condition(condition)
    award = condition.award
    _require_live(award)
    if actor is None or not is_recipient_member(actor, award):
        raise ValidationError(NOT_RECIPIENT, code="not_recipient", params={"organisation": award.recipient.name})
    CONDITION_LIFECYCLE.require_state(condition, "submit_evidence")
    checked = uploads.check(upload, policy=uploads.CONDITION_EVIDENCE)
    superseded = condition.evidence.name or None
    condition.evidence.save(checked.storage_name, checked.upload, save=False)
    stored = condition.evidence.name
    try:
        CONDITION_LIFECYCLE.apply(
            condition, "submit_evidence", actor=actor, locked=condition, clean=False,
            changes={
                "evidence_name": checked.original_name or "evidence",
                "evidence_content_type": checked.file_type.content_type,
                "evidence_size": checked.size,
                "evidence_note": (note or "").strip(),
                "evidence_submitted_at": timezone.now(),
                "evidence_scan_status": uploads.initial_scan_status(),
                "evidence_scan_signature": "",
                "review_note": "",
            },
            recorded=("status", "evidence_name", "evidence_content_type", "evidence_size", "evidence_scan_status"),
            audit_after={"sha256": checked.sha256}, message=f"Evidence sent for \"{condition.title}\"")
        _notify_manager(award, f"Evidence to review: {award.reference}",
                        f"{award.recipient.name} sent evidence for the condition \"{condition.title}\".")
    except Exception:
        if stored:
            condition.evidence.storage.delete(stored)
        raise
    uploads.delete_after_commit(condition.evidence.storage, superseded)
    if condition.evidence_scan_status == uploads.ScanStatus.AWAITING:
        from .tasks import scan_condition_evidence

        outbox_enqueue(scan_condition_evidence, condition.pk)
    return condition


def condition_evidence_scan(*, condition_id: int) -> str | None:
    """Scan evidence awaiting its virus scan and record the result: available, or quarantined
    (the grantee who sent it is told, the condition stays open to a clean copy). Safe to run
    twice; returns the new status, or None if there was nothing to do. Raises if clamd could not
    scan it (the task tries again later)."""
    condition = AwardCondition.objects.filter(pk=condition_id, evidence_scan_status=uploads.ScanStatus.AWAITING).first()
    if condition is None or not condition.evidence:
        return None
    scanned_name = condition.evidence.name
    signature = uploads.scan_file(condition.evidence)
    with transaction.atomic():
        locked = AwardCondition.objects.select_for_update().select_related("award", "award__recipient").filter(
            pk=condition_id).first()
        if locked is None or locked.evidence_scan_status != uploads.ScanStatus.AWAITING \
                or locked.evidence.name != scanned_name:
            return None
        before = snapshot(locked, ("evidence_scan_status",))
        locked.evidence_scan_status = uploads.ScanStatus.QUARANTINED if signature else uploads.ScanStatus.AVAILABLE
        locked.evidence_scan_signature = (signature or "")[:200]
        locked.save(update_fields=["evidence_scan_status", "evidence_scan_signature"])
        award = locked.award
        if signature:
            audit_record(actor=None, action="condition.evidence_quarantined", target=locked, before=before,
                         after={**snapshot(locked, ("evidence_scan_status", "evidence_name")), "signature": signature},
                         message=f"A virus was found in the evidence for \"{locked.title}\": it is quarantined")
            _notify_recipient(award, f"A virus was found in your evidence for {award.reference}",
                              f"The virus scanner found {signature} in {locked.evidence_name}, sent for the condition "
                              f"\"{locked.title}\", so nobody can open it. Send a clean copy.")
        else:
            audit_record(actor=None, action="condition.evidence_scanned", target=locked, before=before,
                         after=snapshot(locked, ("evidence_scan_status", "evidence_name")),
                         message=f"Evidence for \"{locked.title}\" scanned: no virus found")
    return locked.evidence_scan_status


def _review_condition(condition: AwardCondition, action: str, *, actor: User, note: str, note_required: bool,
                      signs_off: bool) -> AwardCondition:
    """Sign off, waive or send back a condition (its row locked, the actor's permission checked)
    with the fund manager's note, while its award is live."""
    _require_live(condition.award)
    CONDITION_LIFECYCLE.require_state(condition, action)
    note = (note or "").strip()
    if note_required and not note:
        raise ValidationError({"note": ValidationError(NOTE_MISSING, code="note_missing")})
    changes: dict[str, Any] = {"review_note": note}
    if signs_off:
        changes.update(signed_off_by=actor, signed_off_at=timezone.now())
    verb = CONDITION_LIFECYCLE.transition(action).verb
    return CONDITION_LIFECYCLE.apply(condition, action, actor=actor, locked=condition, clean=False, changes=changes,
                                     recorded=("status", "review_note"),
                                     message=f"Condition \"{condition.title}\" {verb}")


@transaction.atomic
def condition_sign_off(*, actor: User, condition: AwardCondition, note: str = "") -> AwardCondition:
    """A fund manager confirms the evidence shows the condition is met."""
    CONDITION_LIFECYCLE.require_permission(condition, "sign_off", actor)
    locked = _lock_condition(condition)
    if locked.status == ConditionStatus.OPEN:
        raise ValidationError(NO_EVIDENCE_TO_SIGN_OFF, code="no_evidence")
    if locked.status == ConditionStatus.EVIDENCE_SUBMITTED and locked.evidence:
        if locked.evidence_scan_status == uploads.ScanStatus.AWAITING:
            raise ValidationError(EVIDENCE_NOT_SCANNED, code="evidence_not_scanned")
        if locked.evidence_scan_status == uploads.ScanStatus.QUARANTINED:
            raise ValidationError(EVIDENCE_QUARANTINED, code="evidence_quarantined")
    condition = _review_condition(locked, "sign_off", actor=actor, note=note, note_required=False, signs_off=True)
    _tell_grantee("condition_met", condition.award, about=condition, values={"condition_title": condition.title})
    return condition


@transaction.atomic
def condition_waive(*, actor: User, condition: AwardCondition, note: str) -> AwardCondition:
    CONDITION_LIFECYCLE.require_permission(condition, "waive", actor)
    return _review_condition(_lock_condition(condition), "waive", actor=actor, note=note, note_required=True,
                             signs_off=True)


@transaction.atomic
def condition_return(*, actor: User, condition: AwardCondition, note: str) -> AwardCondition:
    """Send the evidence back: the condition is open again, with the manager's note."""
    CONDITION_LIFECYCLE.require_permission(condition, "send_back", actor)
    condition = _review_condition(_lock_condition(condition), "send_back", actor=actor, note=note, note_required=True,
                                  signs_off=False)
    _notify_recipient(condition.award, f"More evidence needed: {condition.award.reference}",
                      f"The evidence for \"{condition.title}\" was sent back: {condition.review_note}")
    return condition


@transaction.atomic
def condition_template_create(
    *, actor: User, fund: Fund, title: str, description: str, for_digital: bool = False, pre_start: bool = True
) -> ConditionTemplate:
    """A fund manager adds a standard condition for their fund."""
    require_actor(actor, "awards.manage_conditions", fund)
    template = ConditionTemplate(fund=fund, title=(title or "").strip(), description=(description or "").strip(),
                                 for_digital=for_digital, pre_start=pre_start)
    template.full_clean()
    if ConditionTemplate.objects.filter(fund=fund, title__iexact=template.title).exists():
        raise ValidationError({"title": ValidationError(TEMPLATE_TITLE_TAKEN, code="title_taken")})
    template.save()
    audit_record(actor=actor, action="condition_template.created", target=template, fund=fund,
                 after=snapshot(template, ("title", "for_digital", "pre_start")))
    return template


# Payments ------------------------------------------------------------------------------------------


def _lock_instalment(instalment: Instalment) -> tuple[Award, Instalment]:
    """Lock the award, then the instalment; payments happen only while the award is active."""
    award = Award.objects.select_for_update().get(pk=instalment.award_id)
    instalment = Instalment.objects.select_for_update().get(pk=instalment.pk)
    if award.status != AwardStatus.ACTIVE:
        raise ValidationError(AWARD_NOT_ACTIVE, code="award_not_active", params={"status": _status_label(award.status)})
    return award, instalment


def _instalment_period(instalment: Instalment) -> str:
    return f"{fy.label(instalment.financial_year)} quarter {instalment.quarter}"


def release_blocker(instalment: Instalment, *, award: Award | None = None) -> ValidationError | None:
    """Why the instalment cannot be released now (None: it can)."""
    award = award or instalment.award
    if award.status != AwardStatus.ACTIVE:
        return ValidationError(AWARD_NOT_ACTIVE, code="award_not_active", params={"status": _status_label(award.status)})
    if not INSTALMENT_LIFECYCLE.allows(instalment.status, "release"):
        return INSTALMENT_LIFECYCLE.refuse(instalment, INSTALMENT_LIFECYCLE.transition("release"))
    holding = list(conditions_holding_back(instalment))
    if holding:
        return ValidationError(CONDITIONS_HOLD_BACK, code="conditions_open", params={
            "count": len(holding), "plural": "" if len(holding) == 1 else "s",
            "titles": "; ".join(f"\u201c{c.title}\u201d" for c in holding)})
    if instalment.requires_return:
        monitoring_return = instalment_return(instalment)
        if monitoring_return is None:
            return ValidationError(RETURN_NOT_LINKED, code="return_not_linked")
        if monitoring_return.status != RETURN_APPROVED:
            return ValidationError(RETURN_NOT_APPROVED, code="return_not_approved",
                                   params={"status": monitoring_return.get_status_display().lower()})
    return None


@transaction.atomic
def instalment_release(*, actor: User, instalment: Instalment) -> Instalment:
    """Release an instalment for payment: scheduled → released.

    Refused unless the award is active, no outstanding condition holds back this instalment
    (or an earlier one), and, where the instalment requires a return, the monitoring return
    linked to it is approved. ``release_blocker`` gives the same answer without locking, for
    pages that show the button only when it can work.
    """
    INSTALMENT_LIFECYCLE.require_permission(instalment, "release", actor)
    award, instalment = _lock_instalment(instalment)
    blocker = release_blocker(instalment, award=award)
    if blocker is not None:
        raise blocker
    instalment = INSTALMENT_LIFECYCLE.apply(
        instalment, "release", actor=actor, locked=instalment, clean=False,
        changes={"released_at": timezone.now(), "released_by": actor}, recorded=("status",),
        message=f"{fy.label(instalment.financial_year)} Q{instalment.quarter} instalment of {_money(instalment.amount)} released")
    _tell_grantee("instalment_released", award, about=instalment,
                  values={"amount": _money(instalment.amount), "period": _instalment_period(instalment)})
    return instalment


def clean_payment_reference(reference: str) -> str:
    """The finance system's reference, trimmed; ValidationError if missing or not like one."""
    reference = " ".join((reference or "").split())
    if not reference:
        raise ValidationError(PAYMENT_REFERENCE_MISSING, code="reference_missing")
    if not PAYMENT_REFERENCE_PATTERN.match(reference):
        raise ValidationError(PAYMENT_REFERENCE_INVALID, code="reference_invalid")
    return reference


@transaction.atomic
def instalment_mark_paid(*, actor: User, instalment: Instalment, paid_on: dt.date | None = None,
                         amount: Decimal | None = None, reference: str = "", note: str = "") -> Instalment:
    """Record the payment of a released instalment: released → paid, with a payment entry.

    ``paid_on``: the day the finance system paid it (not in the future, not before the release);
    ``amount``: what was paid, the instalment's amount unless ``note`` explains a difference, and
    never more than the year's money committed and not yet paid; ``reference``: the finance
    system's reference (required). The grantee is sent the remittance.
    """
    INSTALMENT_LIFECYCLE.require_permission(instalment, "mark_paid", actor)
    award, instalment = _lock_instalment(instalment)
    INSTALMENT_LIFECYCLE.require_state(instalment, "mark_paid")
    money = award_ledger_by_year(award).get(instalment.financial_year, {"committed": ZERO, "paid": ZERO})
    year = fy.label(instalment.financial_year)
    if money["paid"] + instalment.amount > money["committed"] and amount is None:
        raise ValidationError(PAYMENT_ABOVE_COMMITMENT, code="above_commitment", params={"year": year})
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    today = timezone.localdate()
    released_on = timezone.localdate(instalment.released_at) if instalment.released_at else None
    paid_on = paid_on or today
    if paid_on > today:
        errors["paid_on"].append(ValidationError(PAID_ON_FUTURE, code="paid_on_future"))
    elif released_on and paid_on < released_on:
        errors["paid_on"].append(ValidationError(PAID_ON_BEFORE_RELEASE, code="paid_on_before_release",
                                                 params={"released": _date(released_on)}))
    amount = instalment.amount if amount is None else amount
    note = (note or "").strip()
    limit = money["committed"] - money["paid"]
    if amount <= 0:
        errors["amount"].append(ValidationError(PAID_AMOUNT_NOT_POSITIVE, code="amount_not_positive"))
    elif amount > limit:
        errors["amount"].append(ValidationError(PAID_AMOUNT_TOO_LARGE, code="amount_too_large",
                                                params={"limit": _money(max(limit, ZERO)), "year": year}))
    elif amount != instalment.amount and not note:
        errors["note"].append(ValidationError(PAID_AMOUNT_DIFFERS, code="amount_differs",
                                              params={"amount": _money(instalment.amount)}))
    try:
        reference = clean_payment_reference(reference)
    except ValidationError as exc:
        errors["reference"].append(exc)
    errors = {key: value for key, value in errors.items() if value}
    if errors:
        raise ValidationError(errors)
    _ledger(award, LedgerEntryKind.PAYMENT, instalment.financial_year, amount, actor,
            f"Q{instalment.quarter} instalment paid, reference {reference}")
    instalment = INSTALMENT_LIFECYCLE.apply(
        instalment, "mark_paid", actor=actor, locked=instalment, clean=False,
        changes={"paid_at": timezone.now(), "paid_by": actor, "paid_on": paid_on, "paid_amount": amount,
                 "payment_reference": reference, "payment_note": note if amount != instalment.amount else ""},
        recorded=("status", "paid_on", "paid_amount", "payment_reference", "payment_note"),
        message=f"{instalment.label} instalment of {_money(instalment.amount)} paid: {_money(amount)} "
                f"on {_date(paid_on)}, reference {reference}")
    _tell_grantee("instalment_paid", award, about=instalment, values={
        "amount": _money(amount), "period": _instalment_period(instalment), "remittance": remittance_text(instalment)})
    return instalment


def remittance_text(instalment: Instalment) -> str:
    """The remittance the grantee is sent (its fields are those ``visibility.remittance`` shows)."""
    text = (f"{_money(instalment.paid_amount)} was paid to {instalment.award.recipient.name} on {_date(instalment.paid_on) if instalment.paid_on else ''} "
            f"for the {instalment.label} instalment of \"{instalment.award.title}\". "
            f"Payment reference: {instalment.payment_reference}.")
    if instalment.payment_note:
        text += f" The amount differs from the instalment of {_money(instalment.amount)}: {instalment.payment_note}"
    return text


@transaction.atomic
def condition_schedule_set(*, actor: User, condition: AwardCondition, due_date: dt.date | None,
                           holds_back: Any) -> AwardCondition:
    """Set a condition's due date and the payment it holds back (``holds_back`` as in ``ConditionSpec``).

    Only a scheduled instalment can be held back; the condition must still be outstanding."""
    require_actor(actor, "awards.manage_award", condition.award)
    award = _lock_award(condition.award)
    _require_live(award)
    condition = _lock_condition(condition)
    if condition.status not in (ConditionStatus.OPEN, ConditionStatus.EVIDENCE_SUBMITTED):
        raise ValidationError(CONDITION_NOT_OPEN, code="condition_not_open",
                              params={"status": condition.get_status_display().lower(), "action": "changed"})
    key = holds_back_key(holds_back)
    instalments = list(award.instalments.exclude(status=InstalmentStatus.CANCELLED).order_by("financial_year", "quarter"))
    by_quarter: dict[object, Instalment] = {(i.financial_year, i.quarter): i for i in instalments}
    held = (instalments[0] if instalments else None) if key == FIRST_PAYMENT else by_quarter.get(key) if key else None
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    if isinstance(key, tuple) and held is None:
        errors["holds_back"].append(ValidationError(CONDITION_PAYMENT_UNKNOWN, code="condition_payment_unknown",
                                                    params={"title": condition.title}))
    elif held is not None and held.status != InstalmentStatus.SCHEDULED and held != condition.holds_back:
        errors["holds_back"].append(ValidationError(CONDITION_PAYMENT_PAID, code="condition_payment_paid",
                                                    params={"label": held.label}))
    errors["due_date"].extend(_condition_schedule_errors(condition.title, None, due_date, quarters=[],
                                                         end_date=award.end_date))
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        raise ValidationError(errors)
    before = {"due_date": to_json(condition.due_date), "holds_back": _held_label(condition.holds_back)}
    condition.due_date = due_date
    condition.holds_back = held
    condition.save(update_fields=["due_date", "holds_back"])
    after = {"due_date": to_json(due_date), "holds_back": _held_label(held)}
    if before != after:
        audit_record(actor=actor, action="condition.schedule_changed", target=condition, before=before, after=after,
                     message=f"Condition \"{condition.title}\": due {_date(due_date) if due_date else 'with no date'}, "
                             f"holds back {_held_label(held)}")
    return condition


def _held_label(instalment: Instalment | None) -> str:
    return f"the {instalment.label} payment" if instalment is not None else "no payment"


# Variations ----------------------------------------------------------------------------------------


VARIABLE_STATUSES = (AwardStatus.ACCEPTED, AwardStatus.ACTIVE, AwardStatus.SUSPENDED)


def _fixed_by_year(award: Award) -> tuple[dict[int, Decimal], dict[int, set[int]]]:
    """Money in released or paid instalments per year, and the quarters they occupy."""
    fixed: dict[int, Decimal] = defaultdict(Decimal)
    quarters: dict[int, set[int]] = defaultdict(set)
    for inst in award.instalments.filter(status__in=[InstalmentStatus.RELEASED, InstalmentStatus.PAID]):
        fixed[inst.financial_year] += inst.amount
        quarters[inst.financial_year].add(inst.quarter)
    return fixed, quarters


def _variation_profile_errors(award: Award, profile: dict[int, Decimal], end_date: dt.date) -> list[ValidationError]:
    errors = _profile_errors(profile, amount=award.amount, start=award.start_date, end=end_date, fund=award.pot.fund)
    if errors:
        return errors
    fixed, fixed_quarters = _fixed_by_year(award)
    all_quarters: dict[int, set[int]] = defaultdict(set)
    for year, quarter, _, _ in fy.quarters_between(award.start_date, end_date):
        all_quarters[year].add(quarter)
    for year in sorted(set(profile) | set(fixed)):
        value = profile.get(year, ZERO)
        if value < fixed.get(year, ZERO):
            errors.append(ValidationError(VARIATION_BELOW_PAID, code="below_paid",
                                          params={"year": fy.label(year), "fixed": _money(fixed[year])}))
        elif value > fixed.get(year, ZERO) and not (all_quarters[year] - fixed_quarters[year]):
            errors.append(ValidationError(VARIATION_YEAR_ALL_PAID, code="year_all_paid", params={"year": fy.label(year)}))
    return errors


@transaction.atomic
def variation_request(
    *, actor: User, award: Award, kind: str, reasons: str, proposed_profile: dict[Any, Any] | None = None,
    proposed_end_date: dt.date | None = None, proposed_scope: str = "",
) -> Variation:
    """The grantee asks to re-profile, extend or change the scope of their award."""
    award = _lock_award(award)
    if actor is None or not is_recipient_member(actor, award):
        raise ValidationError(NOT_RECIPIENT, code="not_recipient", params={"organisation": award.recipient.name})
    if award.status not in VARIABLE_STATUSES:
        raise ValidationError(VARIATION_NOT_ALLOWED, code="not_variable", params={"status": _status_label(award.status)})
    if award.variations.filter(status=VariationStatus.REQUESTED).exists():
        raise ValidationError(VARIATION_ALREADY_OPEN, code="already_open")
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    if kind not in VariationKind.values:
        errors["kind"].append(ValidationError(VARIATION_KIND_MISSING, code="kind_missing"))
    if not (reasons or "").strip():
        errors["reasons"].append(ValidationError(VARIATION_REASONS_MISSING, code="reasons_missing"))
    profile = _clean_profile(proposed_profile or {})
    end_date = award.end_date
    if kind == VariationKind.EXTENSION:
        fund_last = fy.FinancialYear(award.pot.fund.last_year).end
        if proposed_end_date is None:
            errors["proposed_end_date"].append(ValidationError(VARIATION_END_DATE_MISSING, code="end_missing"))
        elif proposed_end_date <= award.end_date:
            errors["proposed_end_date"].append(ValidationError(
                VARIATION_END_NOT_LATER, code="end_not_later", params={"current": _date(award.end_date)}
            ))
        elif proposed_end_date > fund_last:
            errors["proposed_end_date"].append(ValidationError(END_AFTER_FUND, code="after_fund", params={"last": _date(fund_last)}))
        else:
            end_date = proposed_end_date
    if kind == VariationKind.REPROFILE and not profile:
        errors["profile"].append(ValidationError(VARIATION_PROFILE_MISSING, code="profile_missing"))
    if kind in (VariationKind.REPROFILE, VariationKind.EXTENSION) and profile and not errors.get("proposed_end_date"):
        errors["profile"].extend(_variation_profile_errors(award, profile, end_date))
        if kind == VariationKind.REPROFILE and not errors["profile"] and profile == award_profile(award):
            errors["profile"].append(ValidationError(VARIATION_NO_CHANGE, code="no_change"))
    if kind == VariationKind.SCOPE and not (proposed_scope or "").strip():
        errors["proposed_scope"].append(ValidationError(VARIATION_SCOPE_MISSING, code="scope_missing"))
    errors = {key: value for key, value in errors.items() if value}
    if errors:
        raise ValidationError(errors)
    variation = Variation(
        award=award, kind=kind, reasons=reasons.strip(),
        proposed_profile={str(year): str(value) for year, value in profile.items()} if kind != VariationKind.SCOPE else {},
        proposed_end_date=end_date if kind == VariationKind.EXTENSION else None,
        proposed_scope=(proposed_scope or "").strip() if kind == VariationKind.SCOPE else "",
        requested_by=actor,
    )
    variation.full_clean()
    variation.save()
    audit_record(actor=actor, action="variation.requested", target=variation,
                 after=snapshot(variation, ("kind", "reasons", "proposed_profile", "proposed_end_date", "proposed_scope")),
                 message=f"{variation.get_kind_display()} requested")
    _notify_manager(award, f"Variation requested: {award.reference}",
                    f"{award.recipient.name} asked for a variation ({variation.get_kind_display().lower()}): {variation.reasons}")
    return variation


def _reschedule(award: Award) -> None:
    """Make the unpaid instalments follow the award's profile and dates.

    Released and paid instalments stay as they are; each year's remaining money is split
    evenly over its other quarters in the award. Assumes the profile was validated.
    """
    profile = award_profile(award)
    quarters: dict[int, list[int]] = defaultdict(list)
    for year, quarter, _, _ in fy.quarters_between(award.start_date, award.end_date):
        quarters[year].append(quarter)
    existing = {(i.financial_year, i.quarter): i for i in award.instalments.select_for_update()}
    fixed = {key: i for key, i in existing.items() if i.status in (InstalmentStatus.RELEASED, InstalmentStatus.PAID)}
    years = sorted(set(profile) | {year for year, _ in existing})
    for year in years:
        target = profile.get(year, ZERO) - sum((i.amount for (y, _), i in fixed.items() if y == year), ZERO)
        open_quarters = [q for q in quarters.get(year, []) if (year, q) not in fixed]
        shares = spread_in_proportion(target, dict.fromkeys(open_quarters, Decimal(1))) if target > 0 else {}
        for quarter in open_quarters:
            amount = shares.get(quarter, ZERO)
            instalment = existing.get((year, quarter))
            status = InstalmentStatus.SCHEDULED if amount > 0 else InstalmentStatus.CANCELLED
            if instalment is None:
                if amount > 0:
                    Instalment.objects.create(award=award, financial_year=year, quarter=quarter, amount=amount)
                continue
            # A cancelled instalment keeps the amount it had, as a record of what was not paid.
            new_amount = amount if amount > 0 else instalment.amount
            if instalment.status != status:
                _reschedule_instalment(instalment, "cancel" if status == InstalmentStatus.CANCELLED else "reinstate",
                                       new_amount)
            elif instalment.amount != new_amount:
                instalment.amount = new_amount
                instalment.save(update_fields=["amount"])
        for (y, quarter), instalment in existing.items():
            if y == year and quarter not in quarters.get(year, []) and instalment.status == InstalmentStatus.SCHEDULED:
                _reschedule_instalment(instalment, "cancel", instalment.amount)


def _reschedule_instalment(instalment: Instalment, action: str, amount: Decimal) -> None:
    """Cancel or reinstate a (locked) instalment as a variation moves money; the portal does
    it, as what follows the variation's approval (recorded with its actor)."""
    changes = {"amount": amount} if amount != instalment.amount else None
    verb = INSTALMENT_LIFECYCLE.transition(action).verb
    INSTALMENT_LIFECYCLE.apply(instalment, action, actor=None, locked=instalment, clean=False, changes=changes,
                               message=f"{instalment.label} instalment of {_money(amount)} {verb}: variation approved")


@transaction.atomic
def variation_approve(*, actor: User, variation: Variation, note: str = "") -> Variation:
    """Approve a variation: move commitments between years under the pot's row locks, only if
    every year stays within budget; then the unpaid instalments follow the new profile."""
    variation = VARIATION_LIFECYCLE.check(variation, "approve", actor=actor)
    award = _lock_award(variation.award)
    if award.status not in VARIABLE_STATUSES:
        raise ValidationError(VARIATION_NOT_ALLOWED, code="not_variable", params={"status": _status_label(award.status)})
    current = award_profile(award)
    end_date = variation.proposed_end_date or award.end_date
    new_profile = _clean_profile(variation.proposed_profile) if variation.proposed_profile else current
    profile_errors = _variation_profile_errors(award, new_profile, end_date)
    if profile_errors:
        raise ValidationError({"decision": profile_errors})
    committed = {year: money["committed"] for year, money in award_ledger_by_year(award).items()}
    deltas = {year: new_profile.get(year, ZERO) - committed.get(year, ZERO) for year in set(new_profile) | set(committed)}
    budgets = _lock_budgets(award.pot_id, deltas)
    room = _check_room(award.pot, {y: d for y, d in deltas.items() if d > 0}, budgets, VARIATION_OVERSPENDS)
    if room:
        raise ValidationError({"decision": room})
    for year, delta in sorted(deltas.items()):
        if delta > 0:
            _ledger(award, LedgerEntryKind.COMMIT, year, delta, actor, f"Variation approved ({variation.get_kind_display().lower()})")
        elif delta < 0:
            _ledger(award, LedgerEntryKind.RELEASE, year, -delta, actor, f"Variation approved ({variation.get_kind_display().lower()})")
    before = {**snapshot(award, ("end_date", "description")), "profile": current}
    previous = {"previous_profile": {str(year): str(value) for year, value in current.items()},
                "previous_end_date": award.end_date}
    for year in set(current) | set(new_profile):
        amount = new_profile.get(year, ZERO)
        if amount > 0:
            AwardYear.objects.update_or_create(award=award, financial_year=year, defaults={"amount": amount})
        else:
            AwardYear.objects.filter(award=award, financial_year=year).delete()
    fields = ["updated_at"]
    if variation.kind == VariationKind.EXTENSION:
        award.end_date = end_date
        fields.append("end_date")
    if variation.kind == VariationKind.SCOPE:
        award.description = variation.proposed_scope
        fields.append("description")
    award.full_clean(validate_unique=False)
    award.save(update_fields=fields)
    _reschedule(award)
    award_changed.send(sender=Award, award=award, actor=actor, change="variation")
    # The event records the award's terms before and after, not the variation's own fields.
    variation = VARIATION_LIFECYCLE.apply(
        variation, "approve", actor=actor, locked=variation, clean=False,
        changes={**previous, "decided_by": actor, "decided_at": timezone.now(), "decision_note": (note or "").strip()},
        recorded=(), audit_before=before, audit_after={**snapshot(award, ("end_date", "description")), "profile": new_profile},
        message=f"{variation.get_kind_display()} approved")
    audit_record(actor=actor, action="award.varied", target=award, before=before,
                 after={**snapshot(award, ("end_date", "description")), "profile": new_profile},
                 message=f"Award varied: {variation.get_kind_display().lower()}")
    _notify_requester(variation, "approved", f"Your request ({variation.get_kind_display().lower()}) was approved. "
                                             f"{variation.decision_note}".strip())
    return variation


@transaction.atomic
def variation_reject(*, actor: User, variation: Variation, note: str) -> Variation:
    variation = VARIATION_LIFECYCLE.check(variation, "reject", actor=actor)
    if not (note or "").strip():
        raise ValidationError({"note": ValidationError(REJECTION_NOTE_MISSING, code="note_missing")})
    variation = VARIATION_LIFECYCLE.apply(
        variation, "reject", actor=actor, locked=variation, clean=False,
        changes={"decided_by": actor, "decided_at": timezone.now(), "decision_note": note.strip()},
        recorded=("status", "decision_note"), message=f"{variation.get_kind_display()} rejected")
    _notify_requester(variation, "rejected",
                      f"Your request ({variation.get_kind_display().lower()}) was rejected: {variation.decision_note}")
    return variation


def _notify_requester(variation: Variation, outcome: str, body: str) -> None:
    if award_private_audience(variation.award, [variation.requested_by]):
        notify(user=variation.requested_by, subject=f"Variation {outcome}: {variation.award.reference}", body=body,
               link=variation.award.get_absolute_url())

