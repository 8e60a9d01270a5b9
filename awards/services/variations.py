"""Variations: the grantee asking to re-profile, extend or change the scope of an award, and
the fund manager approving (moving commitments between years, rescheduling the unpaid
instalments) or rejecting it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance import fy
from governance.audit import audit_record, snapshot
from governance.models import User
from governance.money import ZERO
from governance.services import notify

from ..lifecycle import INSTALMENT_LIFECYCLE, VARIATION_LIFECYCLE
from ..messages import (
    END_AFTER_FUND,
    NOT_RECIPIENT,
    REJECTION_NOTE_MISSING,
    VARIATION_ALREADY_OPEN,
    VARIATION_BELOW_PAID,
    VARIATION_END_DATE_MISSING,
    VARIATION_END_NOT_LATER,
    VARIATION_KIND_MISSING,
    VARIATION_NO_CHANGE,
    VARIATION_NOT_ALLOWED,
    VARIATION_OVERSPENDS,
    VARIATION_PROFILE_MISSING,
    VARIATION_REASONS_MISSING,
    VARIATION_SCOPE_MISSING,
    VARIATION_YEAR_ALL_PAID,
)
from ..models import (
    Award,
    AwardStatus,
    AwardYear,
    Instalment,
    InstalmentStatus,
    LedgerEntryKind,
    Variation,
    VariationKind,
    VariationStatus,
)
from ..selectors import (
    award_ledger_by_year,
    award_profile,
    is_recipient_member,
    spread_in_proportion,
)
from ..signals import award_changed
from ..visibility import award_private_audience
from ._shared import (
    _check_room,
    _clean_profile,
    _date,
    _ledger,
    _lock_award,
    _lock_budgets,
    _money,
    _notify_manager,
    _profile_errors,
    _status_label,
)

VARIABLE_STATUSES = (AwardStatus.ACCEPTED, AwardStatus.ACTIVE, AwardStatus.SUSPENDED)


def _fixed_by_year(award: Award) -> tuple[dict[int, Decimal], dict[int, set[int]]]:
    """Money in released or paid instalments per year, and the quarters they occupy."""
    fixed: dict[int, Decimal] = defaultdict(Decimal)
    quarters: dict[int, set[int]] = defaultdict(set)
    for inst in award.instalments.filter(
        status__in=[InstalmentStatus.RELEASED, InstalmentStatus.PAID]
    ):
        fixed[inst.financial_year] += inst.amount
        quarters[inst.financial_year].add(inst.quarter)
    return fixed, quarters


def _variation_profile_errors(
    award: Award, profile: dict[int, Decimal], end_date: dt.date
) -> list[ValidationError]:
    errors = _profile_errors(
        profile, amount=award.amount, start=award.start_date, end=end_date, fund=award.pot.fund
    )
    if errors:
        return errors
    fixed, fixed_quarters = _fixed_by_year(award)
    all_quarters: dict[int, set[int]] = defaultdict(set)
    for year, quarter, _, _ in fy.quarters_between(award.start_date, end_date):
        all_quarters[year].add(quarter)
    for year in sorted(set(profile) | set(fixed)):
        value = profile.get(year, ZERO)
        if value < fixed.get(year, ZERO):
            errors.append(
                ValidationError(
                    VARIATION_BELOW_PAID,
                    code="below_paid",
                    params={"year": fy.label(year), "fixed": _money(fixed[year])},
                )
            )
        elif value > fixed.get(year, ZERO) and not (all_quarters[year] - fixed_quarters[year]):
            errors.append(
                ValidationError(
                    VARIATION_YEAR_ALL_PAID, code="year_all_paid", params={"year": fy.label(year)}
                )
            )
    return errors


@transaction.atomic
def variation_request(
    *,
    actor: User,
    award: Award,
    kind: str,
    reasons: str,
    proposed_profile: dict[Any, Any] | None = None,
    proposed_end_date: dt.date | None = None,
    proposed_scope: str = "",
) -> Variation:
    """The grantee asks to re-profile, extend or change the scope of their award."""
    award = _lock_award(award)
    if actor is None or not is_recipient_member(actor, award):
        raise ValidationError(
            NOT_RECIPIENT, code="not_recipient", params={"organisation": award.recipient.name}
        )
    if award.status not in VARIABLE_STATUSES:
        raise ValidationError(
            VARIATION_NOT_ALLOWED,
            code="not_variable",
            params={"status": _status_label(award.status)},
        )
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
            errors["proposed_end_date"].append(
                ValidationError(VARIATION_END_DATE_MISSING, code="end_missing")
            )
        elif proposed_end_date <= award.end_date:
            errors["proposed_end_date"].append(
                ValidationError(
                    VARIATION_END_NOT_LATER,
                    code="end_not_later",
                    params={"current": _date(award.end_date)},
                )
            )
        elif proposed_end_date > fund_last:
            errors["proposed_end_date"].append(
                ValidationError(
                    END_AFTER_FUND, code="after_fund", params={"last": _date(fund_last)}
                )
            )
        else:
            end_date = proposed_end_date
    if kind == VariationKind.REPROFILE and not profile:
        errors["profile"].append(ValidationError(VARIATION_PROFILE_MISSING, code="profile_missing"))
    if (
        kind in (VariationKind.REPROFILE, VariationKind.EXTENSION)
        and profile
        and not errors.get("proposed_end_date")
    ):
        errors["profile"].extend(_variation_profile_errors(award, profile, end_date))
        if (
            kind == VariationKind.REPROFILE
            and not errors["profile"]
            and profile == award_profile(award)
        ):
            errors["profile"].append(ValidationError(VARIATION_NO_CHANGE, code="no_change"))
    if kind == VariationKind.SCOPE and not (proposed_scope or "").strip():
        errors["proposed_scope"].append(
            ValidationError(VARIATION_SCOPE_MISSING, code="scope_missing")
        )
    errors = {key: value for key, value in errors.items() if value}
    if errors:
        raise ValidationError(errors)
    variation = Variation(
        award=award,
        kind=kind,
        reasons=reasons.strip(),
        proposed_profile={str(year): str(value) for year, value in profile.items()}
        if kind != VariationKind.SCOPE
        else {},
        proposed_end_date=end_date if kind == VariationKind.EXTENSION else None,
        proposed_scope=(proposed_scope or "").strip() if kind == VariationKind.SCOPE else "",
        requested_by=actor,
    )
    variation.full_clean()
    variation.save()
    audit_record(
        actor=actor,
        action="variation.requested",
        target=variation,
        after=snapshot(
            variation,
            ("kind", "reasons", "proposed_profile", "proposed_end_date", "proposed_scope"),
        ),
        message=f"{variation.get_kind_display()} requested",
    )
    _notify_manager(
        award,
        f"Variation requested: {award.reference}",
        f"{award.recipient.name} asked for a variation ({variation.get_kind_display().lower()}): {variation.reasons}",
    )
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
    fixed = {
        key: i
        for key, i in existing.items()
        if i.status in (InstalmentStatus.RELEASED, InstalmentStatus.PAID)
    }
    years = sorted(set(profile) | {year for year, _ in existing})
    for year in years:
        target = profile.get(year, ZERO) - sum(
            (i.amount for (y, _), i in fixed.items() if y == year), ZERO
        )
        open_quarters = [q for q in quarters.get(year, []) if (year, q) not in fixed]
        shares = (
            spread_in_proportion(target, dict.fromkeys(open_quarters, Decimal(1)))
            if target > 0
            else {}
        )
        for quarter in open_quarters:
            amount = shares.get(quarter, ZERO)
            instalment = existing.get((year, quarter))
            status = InstalmentStatus.SCHEDULED if amount > 0 else InstalmentStatus.CANCELLED
            if instalment is None:
                if amount > 0:
                    Instalment.objects.create(
                        award=award, financial_year=year, quarter=quarter, amount=amount
                    )
                continue
            # A cancelled instalment keeps the amount it had, as a record of what was not paid.
            new_amount = amount if amount > 0 else instalment.amount
            if instalment.status != status:
                _reschedule_instalment(
                    instalment,
                    "cancel" if status == InstalmentStatus.CANCELLED else "reinstate",
                    new_amount,
                )
            elif instalment.amount != new_amount:
                instalment.amount = new_amount
                instalment.save(update_fields=["amount"])
        for (y, quarter), instalment in existing.items():
            if (
                y == year
                and quarter not in quarters.get(year, [])
                and instalment.status == InstalmentStatus.SCHEDULED
            ):
                _reschedule_instalment(instalment, "cancel", instalment.amount)


def _reschedule_instalment(instalment: Instalment, action: str, amount: Decimal) -> None:
    """Cancel or reinstate a (locked) instalment as a variation moves money; the portal does
    it, as what follows the variation's approval (recorded with its actor)."""
    changes = {"amount": amount} if amount != instalment.amount else None
    verb = INSTALMENT_LIFECYCLE.transition(action).verb
    INSTALMENT_LIFECYCLE.apply(
        instalment,
        action,
        actor=None,
        locked=instalment,
        clean=False,
        changes=changes,
        message=f"{instalment.label} instalment of {_money(amount)} {verb}: variation approved",
    )


@transaction.atomic
def variation_approve(*, actor: User, variation: Variation, note: str = "") -> Variation:
    """Approve a variation: move commitments between years under the pot's row locks, only if
    every year stays within budget; then the unpaid instalments follow the new profile."""
    variation = VARIATION_LIFECYCLE.check(variation, "approve", actor=actor)
    award = _lock_award(variation.award)
    if award.status not in VARIABLE_STATUSES:
        raise ValidationError(
            VARIATION_NOT_ALLOWED,
            code="not_variable",
            params={"status": _status_label(award.status)},
        )
    current = award_profile(award)
    end_date = variation.proposed_end_date or award.end_date
    new_profile = (
        _clean_profile(variation.proposed_profile) if variation.proposed_profile else current
    )
    profile_errors = _variation_profile_errors(award, new_profile, end_date)
    if profile_errors:
        raise ValidationError({"decision": profile_errors})
    committed = {year: money["committed"] for year, money in award_ledger_by_year(award).items()}
    deltas = {
        year: new_profile.get(year, ZERO) - committed.get(year, ZERO)
        for year in set(new_profile) | set(committed)
    }
    budgets = _lock_budgets(award.pot_id, deltas)
    room = _check_room(
        award.pot, {y: d for y, d in deltas.items() if d > 0}, budgets, VARIATION_OVERSPENDS
    )
    if room:
        raise ValidationError({"decision": room})
    for year, delta in sorted(deltas.items()):
        if delta > 0:
            _ledger(
                award,
                LedgerEntryKind.COMMIT,
                year,
                delta,
                actor,
                f"Variation approved ({variation.get_kind_display().lower()})",
            )
        elif delta < 0:
            _ledger(
                award,
                LedgerEntryKind.RELEASE,
                year,
                -delta,
                actor,
                f"Variation approved ({variation.get_kind_display().lower()})",
            )
    before = {**snapshot(award, ("end_date", "description")), "profile": current}
    previous = {
        "previous_profile": {str(year): str(value) for year, value in current.items()},
        "previous_end_date": award.end_date,
    }
    for year in set(current) | set(new_profile):
        amount = new_profile.get(year, ZERO)
        if amount > 0:
            AwardYear.objects.update_or_create(
                award=award, financial_year=year, defaults={"amount": amount}
            )
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
        variation,
        "approve",
        actor=actor,
        locked=variation,
        clean=False,
        changes={
            **previous,
            "decided_by": actor,
            "decided_at": timezone.now(),
            "decision_note": (note or "").strip(),
        },
        recorded=(),
        audit_before=before,
        audit_after={**snapshot(award, ("end_date", "description")), "profile": new_profile},
        message=f"{variation.get_kind_display()} approved",
    )
    audit_record(
        actor=actor,
        action="award.varied",
        target=award,
        before=before,
        after={**snapshot(award, ("end_date", "description")), "profile": new_profile},
        message=f"Award varied: {variation.get_kind_display().lower()}",
    )
    _notify_requester(
        variation,
        "approved",
        f"Your request ({variation.get_kind_display().lower()}) was approved. "
        f"{variation.decision_note}".strip(),
    )
    return variation


@transaction.atomic
def variation_reject(*, actor: User, variation: Variation, note: str) -> Variation:
    variation = VARIATION_LIFECYCLE.check(variation, "reject", actor=actor)
    if not (note or "").strip():
        raise ValidationError(
            {"note": ValidationError(REJECTION_NOTE_MISSING, code="note_missing")}
        )
    variation = VARIATION_LIFECYCLE.apply(
        variation,
        "reject",
        actor=actor,
        locked=variation,
        clean=False,
        changes={"decided_by": actor, "decided_at": timezone.now(), "decision_note": note.strip()},
        recorded=("status", "decision_note"),
        message=f"{variation.get_kind_display()} rejected",
    )
    _notify_requester(
        variation,
        "rejected",
        f"Your request ({variation.get_kind_display().lower()}) was rejected: {variation.decision_note}",
    )
    return variation


def _notify_requester(variation: Variation, outcome: str, body: str) -> None:
    if award_private_audience(variation.award, [variation.requested_by]):
        notify(
            user=variation.requested_by,
            subject=f"Variation {outcome}: {variation.award.reference}",
            body=body,
            link=variation.award.get_absolute_url(),
        )
