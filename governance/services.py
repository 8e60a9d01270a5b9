"""Writes for the governance stage: organisations, people, memberships, notifications, funds,
pots and budgets, panels, calls, criteria and the call lifecycle (its table is in
``call_lifecycle.py``; each call service checks its own rules, then changes the state through it).

Every function is keyword-only, validates, saves and writes its audit event in one
transaction, and raises ``ValidationError`` with the message constants below.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Max, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from . import fy
from .access import require_actor
from .audit import audit_record, snapshot
from .call_lifecycle import CALL_LIFECYCLE
from .email import email_send
from .extensions import committed_by_pot_year
from .messages import (  # the messages live beside the services; kept importable from here
    ALERT_LINK_EXPIRED as ALERT_LINK_EXPIRED,
    ALERT_LINK_INVALID as ALERT_LINK_INVALID,
    ALERT_RATE_LIMITED as ALERT_RATE_LIMITED,
    AMOUNTS_OUT_OF_ORDER as AMOUNTS_OUT_OF_ORDER,
    ANSWER_EMPTY as ANSWER_EMPTY,
    ASSESSMENT_DUE_TOO_EARLY as ASSESSMENT_DUE_TOO_EARLY,
    BUDGET_BELOW_COMMITTED as BUDGET_BELOW_COMMITTED,
    CALL_ALREADY_OPENED as CALL_ALREADY_OPENED,
    CALL_FROZEN as CALL_FROZEN,
    CALL_NOT_CLOSED as CALL_NOT_CLOSED,
    CALL_NOT_DECIDED as CALL_NOT_DECIDED,
    CALL_NOT_DRAFT as CALL_NOT_DRAFT,
    CALL_NOT_EXTENDABLE as CALL_NOT_EXTENDABLE,
    CALL_NOT_IN_ASSESSMENT as CALL_NOT_IN_ASSESSMENT,
    CALL_NOT_OPEN as CALL_NOT_OPEN,
    CALL_NOT_SCHEDULED as CALL_NOT_SCHEDULED,
    CALL_NOT_STARTED as CALL_NOT_STARTED,
    CALL_NOT_YET_OPENING as CALL_NOT_YET_OPENING,
    CALL_SLUG_TAKEN as CALL_SLUG_TAKEN,
    CLOSE_EARLY_REASON as CLOSE_EARLY_REASON,
    CLOSES_BEFORE_OPENS as CLOSES_BEFORE_OPENS,
    CLOSES_IN_PAST as CLOSES_IN_PAST,
    CRITERIA_FROZEN as CRITERIA_FROZEN,
    DECISIONS_TOO_EARLY as DECISIONS_TOO_EARLY,
    DESCRIPTORS_MISSING as DESCRIPTORS_MISSING,
    EMAIL_TAKEN as EMAIL_TAKEN,
    EOI_CLOSES_AFTER_BIDS_OPEN as EOI_CLOSES_AFTER_BIDS_OPEN,
    EOI_CLOSES_BEFORE_OPENS as EOI_CLOSES_BEFORE_OPENS,
    EOI_CLOSES_IN_PAST as EOI_CLOSES_IN_PAST,
    EOI_CLOSES_NEEDED as EOI_CLOSES_NEEDED,
    EOI_OPENS_NEEDED as EOI_OPENS_NEEDED,
    EXTENSION_NOT_LATER as EXTENSION_NOT_LATER,
    EXTENSION_PAST_TIMETABLE as EXTENSION_PAST_TIMETABLE,
    EXTENSION_REASON as EXTENSION_REASON,
    EXTENSION_TOO_LONG as EXTENSION_TOO_LONG,
    FUND_AUDITOR_TAKEN as FUND_AUDITOR_TAKEN,
    FUND_HOST_HAS_CALLS as FUND_HOST_HAS_CALLS,
    FUND_NATIONAL_HAS_POTS as FUND_NATIONAL_HAS_POTS,
    FUND_RING_FENCED_POT_WITHOUT_NETWORK as FUND_RING_FENCED_POT_WITHOUT_NETWORK,
    FUND_SLUG_RESERVED as FUND_SLUG_RESERVED,
    FUND_SLUG_TAKEN as FUND_SLUG_TAKEN,
    FUND_YEARS_EXCLUDE_BUDGETS as FUND_YEARS_EXCLUDE_BUDGETS,
    FUND_YEARS_OUT_OF_ORDER as FUND_YEARS_OUT_OF_ORDER,
    GATEWAY_OUTSIDE_SCALE as GATEWAY_OUTSIDE_SCALE,
    HOST_NOT_IN_FUND as HOST_NOT_IN_FUND,
    MAX_AMOUNT_ZERO as MAX_AMOUNT_ZERO,
    NO_COST_SAVING as NO_COST_SAVING,
    NO_CRITERIA as NO_CRITERIA,
    NO_ELIGIBLE_KINDS as NO_ELIGIBLE_KINDS,
    NO_INNOVATION_TYPES as NO_INNOVATION_TYPES,
    NO_PANEL as NO_PANEL,
    NO_PATIENT_BENEFIT as NO_PATIENT_BENEFIT,
    NO_POTS as NO_POTS,
    NOT_A_CHOICE as NOT_A_CHOICE,
    NOT_A_NETWORK as NOT_A_NETWORK,
    NOT_YOUR_SESSIONS as NOT_YOUR_SESSIONS,
    PANEL_MEETING_TOO_EARLY as PANEL_MEETING_TOO_EARLY,
    PANEL_MEMBER_TAKEN as PANEL_MEMBER_TAKEN,
    PANEL_NAME_TAKEN as PANEL_NAME_TAKEN,
    PANEL_NOT_IN_FUND as PANEL_NOT_IN_FUND,
    POT_NAME_TAKEN as POT_NAME_TAKEN,
    POT_NATIONAL_NO_NETWORK as POT_NATIONAL_NO_NETWORK,
    POT_NATIONAL_ONLY_ONE as POT_NATIONAL_ONLY_ONE,
    POT_NETWORK_IN_USE as POT_NETWORK_IN_USE,
    POT_NETWORK_REQUIRED as POT_NETWORK_REQUIRED,
    POT_NETWORK_TAKEN as POT_NETWORK_TAKEN,
    POT_NOT_IN_FUND as POT_NOT_IN_FUND,
    POT_OF_OTHER_NETWORK as POT_OF_OTHER_NETWORK,
    POT_WITHOUT_BUDGET as POT_WITHOUT_BUDGET,
    QUESTION_ALREADY_PUBLISHED as QUESTION_ALREADY_PUBLISHED,
    QUESTION_EMPTY as QUESTION_EMPTY,
    QUESTION_NOT_ANSWERED as QUESTION_NOT_ANSWERED,
    QUESTION_TOO_LONG as QUESTION_TOO_LONG,
    QUESTIONS_CLOSE_OUTSIDE_CALL as QUESTIONS_CLOSE_OUTSIDE_CALL,
    QUESTIONS_CLOSED as QUESTIONS_CLOSED,
    QUESTIONS_NOT_TAKEN as QUESTIONS_NOT_TAKEN,
    SCALE_OUT_OF_ORDER as SCALE_OUT_OF_ORDER,
    UNPUBLISH_REASON as UNPUBLISH_REASON,
    WEIGHTS_NOT_100 as WEIGHTS_NOT_100,
    WEIGHTS_OVER_100 as WEIGHTS_OVER_100,
    YEAR_OUTSIDE_FUND as YEAR_OUTSIDE_FUND,
)
from .models import (
    AUDITOR_IS_BIDDER,
    AUDITOR_IS_MANAGER,
    ODS_CODE_TAKEN,
    PUBLISHED_CALL_STATUSES,
    AllocationModel,
    Call,
    CallAlertSubscription,
    CallPurpose,
    CallQuestion,
    CallStatus,
    Criterion,
    CriterionKind,
    Fund,
    FundRole,
    FundRoleKind,
    InnovationType,
    Membership,
    MembershipRole,
    Notification,
    NotificationWording,
    Organisation,
    OrganisationKind,
    Panel,
    PanelMember,
    PartnerKind,
    Pot,
    PotBudget,
    Region,
    RubricDescriptor,
    User,
    auditor_bidder_organisations,
)
from .money import ZERO, format_money, parse_money
from .outbox import outbox_enqueue
from .selectors import call_alert_subscribers_for, call_bid_holders, call_managers
from .signals import call_closed, call_closing_extended, call_entered_assessment
from .siteurl import absolute_url
from .timefmt import nhs_datetime

ORGANISATION_FIELDS = ("name", "kind", "ods_code", "company_number", "charity_number", "region", "network", "short_name")


@transaction.atomic
def organisation_create(*, actor: User | None, **fields: Any) -> Organisation:
    require_actor(actor, "governance.manage_people", system=True)
    organisation = Organisation(**fields)
    organisation.full_clean()
    if organisation.ods_code and Organisation.objects.filter(ods_code=organisation.ods_code).exists():
        raise ValidationError({"ods_code": ODS_CODE_TAKEN})
    try:
        with transaction.atomic():
            organisation.save()
    except IntegrityError:
        raise ValidationError({"ods_code": ODS_CODE_TAKEN}) from None
    audit_record(
        actor=actor, action="organisation.created", target=organisation,
        after=snapshot(organisation, ORGANISATION_FIELDS),
    )
    return organisation


@transaction.atomic
def user_create(*, actor: User | None, email: str, full_name: str, password: str | None = None, **extra: Any) -> User:
    require_actor(actor, "governance.manage_people", system=True)
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": EMAIL_TAKEN})
    user = User(email=email, full_name=full_name, **extra)
    user.set_password(password) if password else user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(actor=actor, action="user.created", target=user, after={"email": email, "full_name": full_name})
    return user


@transaction.atomic
def user_sign_out_everywhere(*, actor: User, user: User) -> User:
    """End every session of ``user`` on every device, the one it is asked from included: their
    session check no longer matches (``User.get_session_auth_hash``), so each next request is
    signed out."""
    if actor.pk != user.pk and not actor.is_superuser:
        raise ValidationError(NOT_YOUR_SESSIONS)
    locked = User.objects.select_for_update().get(pk=user.pk)
    before = locked.session_generation
    User.objects.filter(pk=user.pk).update(session_generation=models.F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    audit_record(
        actor=actor, action="user.signed_out_everywhere", target=user,
        message="Every session signed out" + ("" if actor.pk == user.pk else f" by {actor.email}"),
        before={"session_generation": before}, after={"session_generation": user.session_generation},
    )
    return user


@transaction.atomic
def membership_add(
    *, actor: User | None, user: User, organisation: Organisation,
    role: str = MembershipRole.MEMBER, is_authorised_signatory: bool = False,
) -> Membership:
    require_actor(actor, "governance.manage_people", system=True)
    if role == MembershipRole.FUND_MANAGER and not organisation.is_network:
        raise ValidationError({"role": "Fund managers belong to a Health Innovation Network"})
    Membership(user=user, organisation=organisation, role=role).clean()  # auditors stay independent
    membership, created = Membership.objects.update_or_create(
        user=user, organisation=organisation,
        defaults={"role": role, "is_authorised_signatory": is_authorised_signatory},
    )
    audit_record(
        actor=actor, action="membership.added" if created else "membership.changed", target=membership,
        after={"user": user.email, "organisation": organisation.pk, "role": role,
               "is_authorised_signatory": is_authorised_signatory},
    )
    return membership


def notify(
    *, user: User | None, subject: str, body: str, link: str = "", email: str = "", kind: str = "",
    idempotency_key: str | None = None, unsubscribe_link: str = "",
) -> Notification | None:
    """Tell someone something: listed on their notifications page and emailed.

    The email is a side effect in the outbox: recorded with the notification, sent by a worker
    once the surrounding transaction commits, so a rolled-back change never sends mail, a slow
    mail server never slows a page and a broker outage only delays it. A person who chose the
    daily digest gets it in their next digest instead. ``email`` writes to an address with no
    account (a public subscriber). With an ``idempotency_key`` (the catalogue's, see
    ``governance.notifications``) a message already recorded is not recorded again: None.
    """
    if idempotency_key is not None and Notification.objects.filter(idempotency_key=idempotency_key).exists():
        return None
    in_digest = user is not None and user.notification_delivery == User.DELIVERY_DIGEST
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user, email="" if user is not None else email, subject=subject[:200], body=body, link=link,
                kind=kind, idempotency_key=idempotency_key, unsubscribe_link=unsubscribe_link, in_digest=in_digest,
            )
    except IntegrityError:
        if idempotency_key is None:
            raise
        return None  # recorded a moment ago by a concurrent run
    if not in_digest:
        outbox_enqueue("governance.tasks.deliver_notification", notification.pk)
    return notification


def _absolute(link: str) -> str:
    return absolute_url(link) if link else link


def notification_email_send(*, notification_id: int) -> bool:
    """Email one notification, once. Returns False if it was already sent, is gone or waits for
    the person's digest."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",)).select_related("user").filter(pk=notification_id).first()
        )
        if notification is None or notification.emailed_at is not None or notification.in_digest:
            return False
        url = _absolute(notification.link)
        # The catalogue's wording usually has the link in it already ({link}).
        text = f"{notification.body}\n\n{url}" if url and url not in notification.body else notification.body
        unsubscribe = _absolute(notification.unsubscribe_link)
        if unsubscribe:
            text = f"{text}\n\nTo stop these emails: {unsubscribe}"
        email_send(to=notification.recipient_email, subject=notification.subject, body=text,
                   reference=f"notification-{notification.pk}", unsubscribe_url=unsubscribe)
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


def notification_digest_send(*, user_id: int) -> int:
    """Email one person's digest: every notification waiting for it, in one email, each in one
    digest only (the rows are locked and marked in the same transaction). Returns how many."""
    with transaction.atomic():
        waiting = list(Notification.objects.select_for_update().filter(
            user_id=user_id, in_digest=True, emailed_at__isnull=True).order_by("created_at", "pk"))
        if not waiting:
            return 0
        user = waiting[0].user
        if user is None:  # never: the rows were chosen by user_id
            return 0
        parts = []
        for notification in waiting:
            url = _absolute(notification.link)
            parts.append(f"{notification.subject}\n\n{notification.body}"
                         + (f"\n\n{url}" if url and url not in notification.body else ""))
        count = len(waiting)
        subject = f"Fund Portal: {count} notification{'s' if count != 1 else ''} today"
        text = "\n\n---\n\n".join(parts) + (
            f"\n\n---\n\nYou get one email a day because you chose a daily digest. Change this on your "
            f"account page: {absolute_url('/accounts/')}")
        email_send(to=user.email, subject=subject, body=text, reference=f"digest-{user_id}-{waiting[-1].pk}")
        Notification.objects.filter(pk__in=[n.pk for n in waiting]).update(emailed_at=timezone.now())
    return count


def notification_digests_due() -> list[int]:
    """The people with notifications waiting for their digest."""
    return list(Notification.objects.filter(in_digest=True, emailed_at__isnull=True, user__isnull=False)
                .order_by("user_id").values_list("user_id", flat=True).distinct())


def notification_delivery_set(*, actor: User, delivery: str) -> User:
    """A person chooses immediate emails or a daily digest."""
    if delivery not in (User.DELIVERY_IMMEDIATE, User.DELIVERY_DIGEST):
        raise ValidationError({"delivery": ValidationError("Choose how you get emails", code="invalid")})
    before = {"notification_delivery": actor.notification_delivery}
    actor.notification_delivery = delivery
    actor.save(update_fields=["notification_delivery"])
    audit_record(actor=actor, action="user.notification_delivery_changed", target=actor, before=before,
                 after={"notification_delivery": delivery})
    return actor


def notification_mark_read(*, user: User, notification_ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())


# Shared helpers -------------------------------------------------------------------------------


def _validate(instance: models.Model, errors: dict[str, list[str]] | None = None) -> None:
    """Raise one ValidationError with our own messages and the model's, field by field.

    Fields that already have one of our messages are left out of ``full_clean`` so a person
    sees one clear message per field, not ours and Django's generic one.
    """
    errors = {name: list(messages) for name, messages in (errors or {}).items() if messages}
    try:
        instance.full_clean(exclude=list(errors))
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            known = errors.setdefault(name, [])
            known.extend(message for message in messages if message not in known)
    if errors:
        raise ValidationError(errors)


def _save_unique(instance: models.Model, field: str, message: str) -> None:
    """Save, turning a unique-constraint race on ``field`` into the field's message."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise ValidationError({field: message}) from None


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


# Funds ----------------------------------------------------------------------------------------

FUND_FIELDS = ("name", "slug", "host_network", "description", "priorities", "allocation_model", "first_year", "last_year")

RESERVED_FUND_SLUGS = frozenset({"new"})


def _fund_errors(fund: Fund) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if fund.host_network_id and not fund.host_network.is_network:
        _add(errors, "host_network", NOT_A_NETWORK)
    if fund.slug in RESERVED_FUND_SLUGS:
        _add(errors, "slug", FUND_SLUG_RESERVED)
    elif fund.slug and Fund.objects.filter(slug=fund.slug).exclude(pk=fund.pk).exists():
        _add(errors, "slug", FUND_SLUG_TAKEN)
    if fund.first_year is not None and fund.last_year is not None and fund.last_year < fund.first_year:
        _add(errors, "last_year", FUND_YEARS_OUT_OF_ORDER)
    if fund.pk and fund.first_year is not None and fund.last_year is not None:
        outside = sorted(set(
            PotBudget.objects.filter(pot__fund=fund)
            .exclude(financial_year__range=(fund.first_year, fund.last_year))
            .values_list("financial_year", flat=True)
        ))
        if outside:
            field = "first_year" if outside[0] < fund.first_year else "last_year"
            _add(errors, field, f"{FUND_YEARS_EXCLUDE_BUDGETS} ({', '.join(fy.label(y) for y in outside)}): change those budgets first")
    if fund.pk:
        pots = list(fund.pots.all())
        if fund.allocation_model == AllocationModel.NATIONAL and len(pots) > 1:
            _add(errors, "allocation_model", FUND_NATIONAL_HAS_POTS)
        if fund.allocation_model == AllocationModel.RING_FENCED and any(p.network_id is None for p in pots):
            _add(errors, "allocation_model", FUND_RING_FENCED_POT_WITHOUT_NETWORK)
    return errors


@transaction.atomic
def fund_create(
    *, actor: User | None, host_network: Organisation, name: str, description: str, allocation_model: str,
    first_year: int, last_year: int, slug: str = "", priorities: str = "",
) -> Fund:
    require_actor(actor, "governance.host_fund", host_network)
    fund = Fund(
        host_network=host_network, name=(name or "").strip(), slug=slug or slugify(name or "")[:80],
        description=description, priorities=priorities, allocation_model=allocation_model,
        first_year=first_year, last_year=last_year,
    )
    _validate(fund, _fund_errors(fund))
    _save_unique(fund, "slug", FUND_SLUG_TAKEN)
    audit_record(actor=actor, action="fund.created", target=fund, after=snapshot(fund, FUND_FIELDS))
    return fund


@transaction.atomic
def fund_update(*, actor: User | None, fund: Fund, **fields: Any) -> Fund:
    """Change a fund's details. Years cannot shrink past existing budgets."""
    require_actor(actor, "governance.manage_fund", fund)
    if "host_network" in fields:  # and may host funds on the network it moves to
        require_actor(actor, "governance.host_fund", fields["host_network"])
    unknown = set(fields) - set(FUND_FIELDS)
    if unknown:
        raise TypeError(f"fund_update got unexpected fields: {sorted(unknown)}")
    fund = Fund.objects.select_for_update().get(pk=fund.pk)
    before = snapshot(fund, FUND_FIELDS)
    for name, value in fields.items():
        setattr(fund, name, value)
    if not fund.slug:
        fund.slug = slugify(fund.name)[:80]
    errors = _fund_errors(fund)
    if fund.host_network_id != before["host_network"] and fund.calls.exists():
        _add(errors, "host_network", FUND_HOST_HAS_CALLS)
    _validate(fund, errors)
    after = snapshot(fund, FUND_FIELDS)
    if after == before:
        return fund
    _save_unique(fund, "slug", FUND_SLUG_TAKEN)
    changed = [name for name in FUND_FIELDS if before[name] != after[name]]
    audit_record(
        actor=actor, action="fund.changed", target=fund, message=f"Changed {', '.join(changed)}",
        before={k: before[k] for k in changed}, after={k: after[k] for k in changed},
    )
    return fund


# Pots and budgets -----------------------------------------------------------------------------

POT_FIELDS = ("name", "network")


def _pot_errors(pot: Pot) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    fund = pot.fund
    others = Pot.objects.filter(fund=fund).exclude(pk=pot.pk)
    if pot.name and others.filter(name__iexact=pot.name).exists():
        _add(errors, "name", POT_NAME_TAKEN)
    if fund.allocation_model == AllocationModel.RING_FENCED:
        if pot.network is None:
            _add(errors, "network", POT_NETWORK_REQUIRED)
        elif not pot.network.is_network:
            _add(errors, "network", NOT_A_NETWORK)
        elif others.filter(network_id=pot.network_id).exists():
            _add(errors, "network", POT_NETWORK_TAKEN)
    else:
        if pot.network_id is not None:
            _add(errors, "network", POT_NATIONAL_NO_NETWORK)
        if others.exists():
            _add(errors, "name", POT_NATIONAL_ONLY_ONE)
    return errors


@transaction.atomic
def pot_create(*, actor: User | None, fund: Fund, name: str, network: Organisation | None = None) -> Pot:
    require_actor(actor, "governance.manage_fund", fund)
    Fund.objects.select_for_update().filter(pk=fund.pk).first()  # one pot at a time per fund
    pot = Pot(fund=fund, name=(name or "").strip(), network=network)
    _validate(pot, _pot_errors(pot))
    _save_unique(pot, "name", POT_NAME_TAKEN)
    audit_record(actor=actor, action="pot.created", target=pot, after=snapshot(pot, POT_FIELDS))
    return pot


@transaction.atomic
def pot_update(*, actor: User | None, pot: Pot, name: str, network: Organisation | None = None) -> Pot:
    require_actor(actor, "governance.manage_fund", pot.fund)
    pot = Pot.objects.select_for_update().select_related("fund").get(pk=pot.pk)
    before = snapshot(pot, POT_FIELDS)
    pot.name = (name or "").strip()
    pot.network = network
    errors = _pot_errors(pot)
    if pot.network_id != before["network"] and pot.calls.filter(status__in=PUBLISHED_CALL_STATUSES).exists():
        _add(errors, "network", POT_NETWORK_IN_USE)
    _validate(pot, errors)
    after = snapshot(pot, POT_FIELDS)
    if after != before:
        _save_unique(pot, "name", POT_NAME_TAKEN)
        audit_record(actor=actor, action="pot.changed", target=pot, before=before, after=after)
    return pot


@transaction.atomic
def pot_budget_set(*, actor: User | None, pot: Pot, financial_year: int, amount: Decimal | str) -> PotBudget:
    """Set a pot's budget for one financial year (creating the year's row if needed).

    The row is locked, as awards lock it when they commit money, so a budget can never be
    cut below what is committed even while an award is being issued.
    """
    require_actor(actor, "governance.manage_fund", pot.fund)
    errors: dict[str, list[str]] = {}
    fund = pot.fund
    try:
        amount = parse_money(amount)
    except ValidationError as exc:
        _add(errors, "amount", exc.messages[0])
    if financial_year not in fund.years:
        _add(errors, "financial_year", f"{YEAR_OUTSIDE_FUND}: {fy.label(fund.first_year)} to {fy.label(fund.last_year)}")
    if errors or not isinstance(amount, Decimal):
        raise ValidationError(errors)
    budget = PotBudget.objects.select_for_update().filter(pot=pot, financial_year=financial_year).first()
    committed = committed_by_pot_year([pot.pk]).get((pot.pk, financial_year), ZERO)
    if amount < committed:
        raise ValidationError({"amount": f"{BUDGET_BELOW_COMMITTED} ({format_money(committed, pence=True)})"})
    before = {"financial_year": financial_year, "amount": budget.amount if budget else None}
    if budget is None:
        budget = PotBudget(pot=pot, financial_year=financial_year, amount=amount)
    elif budget.amount == amount:
        return budget
    budget.amount = amount
    _validate(budget)
    budget.save()
    audit_record(
        actor=actor, action="pot.budget_set", target=budget, before=before,
        after={"financial_year": financial_year, "amount": amount},
        message=f"{pot.name} budget for {fy.label(financial_year)} set to {format_money(amount, pence=True)}",
    )
    return budget


# Fund auditors ----------------------------------------------------------------------------------

FUND_AUDITOR_IS_MANAGER = AUDITOR_IS_MANAGER
FUND_AUDITOR_IS_BIDDER = AUDITOR_IS_BIDDER


@transaction.atomic
def fund_auditor_add(*, actor: User | None, fund: Fund, user: User) -> FundRole:
    """Let ``user`` read everything of ``fund`` and change nothing. Auditors must be independent
    of the fund's management and of its bidders, so the host network's fund managers and the
    members of organisations with a bid in the fund are refused."""
    require_actor(actor, "governance.manage_fund", fund)
    if Membership.objects.filter(user=user, organisation_id=fund.host_network_id,
                                 role=MembershipRole.FUND_MANAGER).exists():
        raise ValidationError({"email": FUND_AUDITOR_IS_MANAGER})
    if bidders := auditor_bidder_organisations(user.pk, fund.pk):
        raise ValidationError({"email": FUND_AUDITOR_IS_BIDDER.format(organisations=", ".join(bidders))})
    if FundRole.objects.filter(fund=fund, user=user, role=FundRoleKind.AUDITOR).exists():
        raise ValidationError({"email": FUND_AUDITOR_TAKEN})
    role = FundRole(fund=fund, user=user, role=FundRoleKind.AUDITOR)
    _save_unique(role, "email", FUND_AUDITOR_TAKEN)
    audit_record(actor=actor, action="fund.auditor_added", target=fund, after={"auditor": user.email},
                 message=f"{user} made an auditor of {fund.name}")
    return role


@transaction.atomic
def fund_auditor_remove(*, actor: User | None, role: FundRole) -> None:
    require_actor(actor, "governance.manage_fund", role.fund)
    fund, user = role.fund, role.user
    role.delete()
    audit_record(actor=actor, action="fund.auditor_removed", target=fund, before={"auditor": user.email},
                 message=f"{user} is no longer an auditor of {fund.name}")


# Panels -----------------------------------------------------------------------------------------

PANEL_FIELDS = ("name", "terms_of_reference")


def _panel_errors(panel: Panel) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if panel.name and Panel.objects.filter(fund=panel.fund, name__iexact=panel.name).exclude(pk=panel.pk).exists():
        _add(errors, "name", PANEL_NAME_TAKEN)
    return errors


@transaction.atomic
def panel_create(*, actor: User | None, fund: Fund, name: str, terms_of_reference: str = "") -> Panel:
    require_actor(actor, "governance.manage_fund", fund)
    panel = Panel(fund=fund, name=(name or "").strip(), terms_of_reference=terms_of_reference)
    _validate(panel, _panel_errors(panel))
    _save_unique(panel, "name", PANEL_NAME_TAKEN)
    audit_record(actor=actor, action="panel.created", target=panel, after=snapshot(panel, PANEL_FIELDS))
    return panel


@transaction.atomic
def panel_update(*, actor: User | None, panel: Panel, name: str, terms_of_reference: str = "") -> Panel:
    require_actor(actor, "governance.manage_fund", panel.fund)
    before = snapshot(panel, PANEL_FIELDS)
    panel.name = (name or "").strip()
    panel.terms_of_reference = terms_of_reference
    _validate(panel, _panel_errors(panel))
    after = snapshot(panel, PANEL_FIELDS)
    if after != before:
        _save_unique(panel, "name", PANEL_NAME_TAKEN)
        audit_record(actor=actor, action="panel.changed", target=panel, before=before, after=after)
    return panel


def _member_snapshot(member: PanelMember) -> dict[str, Any]:
    return {"user": member.user.email, "role": member.role,
            "affiliations": sorted(member.affiliations.values_list("pk", flat=True))}


@transaction.atomic
def panel_member_add(
    *, actor: User | None, panel: Panel, user: User, role: str, affiliations: list[Organisation] | tuple[Organisation, ...] = (),
) -> PanelMember:
    require_actor(actor, "governance.manage_fund", panel.fund)
    if PanelMember.objects.filter(panel=panel, user=user).exists():
        raise ValidationError({"email": PANEL_MEMBER_TAKEN})
    member = PanelMember(panel=panel, user=user, role=role)
    _validate(member)
    _save_unique(member, "email", PANEL_MEMBER_TAKEN)
    member.affiliations.set(affiliations)
    audit_record(actor=actor, action="panel.member_added", target=member, after=_member_snapshot(member))
    return member


@transaction.atomic
def panel_member_update(*, actor: User | None, member: PanelMember, role: str) -> PanelMember:
    require_actor(actor, "governance.manage_fund", member.panel.fund)
    before = _member_snapshot(member)
    member.role = role
    _validate(member)
    if member.role != before["role"]:
        member.save(update_fields=["role"])
        audit_record(actor=actor, action="panel.member_changed", target=member, before=before,
                     after=_member_snapshot(member))
    return member


@transaction.atomic
def panel_member_remove(*, actor: User | None, member: PanelMember) -> None:
    require_actor(actor, "governance.manage_fund", member.panel.fund)
    before = _member_snapshot(member)
    audit_record(actor=actor, action="panel.member_removed", target=member, before=before)
    member.delete()


@transaction.atomic
def panel_member_affiliation_add(*, actor: User | None, member: PanelMember, organisation: Organisation) -> bool:
    """Declare that a panel member works for or with an organisation. False if already declared."""
    require_actor(actor, "governance.manage_fund", member.panel.fund)
    if member.affiliations.filter(pk=organisation.pk).exists():
        return False
    member.affiliations.add(organisation)
    audit_record(actor=actor, action="panel.affiliation_added", target=member,
                 message=f"Affiliation with {organisation} declared", after={"organisation": organisation.pk})
    return True


@transaction.atomic
def panel_member_affiliation_remove(*, actor: User | None, member: PanelMember, organisation: Organisation) -> bool:
    require_actor(actor, "governance.manage_fund", member.panel.fund)
    if not member.affiliations.filter(pk=organisation.pk).exists():
        return False
    member.affiliations.remove(organisation)
    audit_record(actor=actor, action="panel.affiliation_removed", target=member,
                 message=f"Affiliation with {organisation} removed", before={"organisation": organisation.pk})
    return True


# Calls ----------------------------------------------------------------------------------------

CALL_FIELDS = (
    "title", "slug", "summary", "purpose", "innovation_types", "host_network", "opens_at", "closes_at",
    "eligible_org_kinds", "min_amount", "max_amount", "max_duration_years", "required_partner_kinds",
    "eligible_regions", "eligible_networks", "endorsement_required", "partner_sign_off_required", "panel", "assessors_per_bid",
    "moderation_threshold", "normalise_scores",
    "assessment_due_date", "panel_meeting_date", "decisions_expected_date", "questions_close_at",
    "eoi_stage", "eoi_opens_at", "eoi_closes_at", "eoi_criteria",
)
# Once a call is published applicants rely on everything else; only the later timetable moves
# (and a deadline for questions may be added or moved, always before the closing time).
CALL_FIELDS_EDITABLE_WHEN_PUBLISHED = (
    "assessment_due_date", "panel_meeting_date", "decisions_expected_date", "questions_close_at",
)


def _call_errors(call: Call, pots: list[Pot] | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    fund = call.fund
    if call.slug and Call.objects.filter(slug=call.slug).exclude(pk=call.pk).exists():
        _add(errors, "slug", CALL_SLUG_TAKEN)
    if call.opens_at and call.closes_at and call.closes_at <= call.opens_at:
        _add(errors, "closes_at", CLOSES_BEFORE_OPENS)
    if call.min_amount is not None and call.max_amount is not None and call.max_amount < call.min_amount:
        _add(errors, "max_amount", AMOUNTS_OUT_OF_ORDER)
    hosts = {fund.host_network_id, *fund.pots.exclude(network=None).values_list("network_id", flat=True)}
    if call.host_network_id and call.host_network_id not in hosts:
        _add(errors, "host_network", HOST_NOT_IN_FUND)
    if pots is not None:
        if any(pot.fund_id != fund.pk for pot in pots):
            _add(errors, "pots", POT_NOT_IN_FUND)
        elif call.host_network_id and call.host_network_id != fund.host_network_id and any(
            pot.network_id != call.host_network_id for pot in pots
        ):
            _add(errors, "pots", POT_OF_OTHER_NETWORK)
    if call.panel is not None and call.panel.fund_id != fund.pk:
        _add(errors, "panel", PANEL_NOT_IN_FUND)
    if not call.innovation_types:
        _add(errors, "innovation_types", NO_INNOVATION_TYPES)
    if not call.eligible_org_kinds:
        _add(errors, "eligible_org_kinds", NO_ELIGIBLE_KINDS)
    network_ids = list(Organisation.objects.filter(kind=OrganisationKind.HEALTH_INNOVATION_NETWORK)
                       .values_list("pk", flat=True))
    for name, choices in (
        ("innovation_types", InnovationType.values),
        ("eligible_org_kinds", OrganisationKind.values),
        ("required_partner_kinds", PartnerKind.values),
        ("eligible_regions", Region.values),
        ("eligible_networks", network_ids),
    ):
        if any(value not in choices for value in getattr(call, name) or []):
            _add(errors, name, NOT_A_CHOICE)
    if call.questions_close_at and call.opens_at and call.closes_at and not (
        call.opens_at < call.questions_close_at < call.closes_at
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
    closes_on = timezone.localdate(call.closes_at) if call.closes_at and "closes_at" not in errors else None
    due, meeting, decisions = call.assessment_due_date, call.panel_meeting_date, call.decisions_expected_date
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
        {**snapshot(c, CRITERION_FIELDS), "descriptors": {str(d.score): d.descriptor for d in c.descriptors.all()}}
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


def _lock_call(call: Call) -> Call:
    return Call.objects.select_for_update().select_related("fund").get(pk=call.pk)


def _sync(call: Call, locked: Call) -> Call:
    """Bring the caller's copy up to date with the saved one."""
    for name in ("status", "published_at", "closes_at", "published_closes_at", "closing_extension_reason",
                 "decisions_released_at", "updated_at"):
        setattr(call, name, getattr(locked, name))
    return locked


@transaction.atomic
def call_create(*, actor: User | None, fund: Fund, pots: list[Pot] | tuple[Pot, ...] = (), **fields: Any) -> Call:
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
def call_update(*, actor: User | None, call: Call, pots: list[Pot] | tuple[Pot, ...] | None = None, **fields: Any) -> Call:
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
        actor=actor, action="call.changed", target=locked, message=f"Changed {', '.join(changed)}",
        before={k: before[k] for k in changed}, after={k: proposed[k] for k in changed},
    )
    call.refresh_from_db()
    return locked


@transaction.atomic
def call_copy(
    *, actor: User | None, source: Call, title: str, opens_at: dt.datetime, closes_at: dt.datetime, slug: str = "",
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
    for name in ("assessment_due_date", "panel_meeting_date", "decisions_expected_date", "questions_close_at"):
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
        copy = Criterion.objects.create(call=call, **{name: getattr(criterion, name) for name in CRITERION_FIELDS})
        RubricDescriptor.objects.bulk_create(
            RubricDescriptor(criterion=copy, score=d.score, descriptor=d.descriptor) for d in criterion.descriptors.all()
        )
    audit_record(
        actor=actor, action="call.copied", target=call, message=f"Copied from {source.title} ({source.slug})",
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
                _add(problems, "criteria", f"{DESCRIPTORS_MISSING}: “{criterion.title}” has no descriptor for {scores}")
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


@transaction.atomic
def call_publish(*, actor: User | None, call: Call, now: dt.datetime | None = None) -> Call:
    """Publish a complete draft: it opens now if its opening time has come, else it is scheduled.

    From here on the criteria, rubric and eligibility are frozen; the audit event keeps the
    published version.
    """
    require_actor(actor, "governance.manage_call", call)
    now = now or timezone.now()
    locked = _lock_call(call)
    if not CALL_LIFECYCLE.allows(locked.status, "publish"):
        raise ValidationError(CALL_NOT_DRAFT)
    problems = call_publish_problems(locked, now=now)
    if problems:
        raise ValidationError(problems)
    CALL_LIFECYCLE.apply(call, "publish", actor=actor, locked=locked, changes={"published_at": now},
                         audit_after={**_call_snapshot(locked), "criteria": _criteria_snapshot(locked)},
                         message="Published: criteria, rubric and eligibility are now frozen")
    if locked.opens_at <= now:
        CALL_LIFECYCLE.apply(call, "open", actor=actor, locked=locked, message="Opened for bids on publication")
        call_alerts_send(call=locked)
    return _sync(call, locked)


@transaction.atomic
def call_unpublish(*, actor: User | None, call: Call, reason: str, now: dt.datetime | None = None) -> Call:
    """Scheduled → draft, before the opening time: the call leaves the public pages and its
    criteria and eligibility can be corrected, then published again. Nobody can have bid yet."""
    require_actor(actor, "governance.manage_call", call)
    now = now or timezone.now()
    locked = _lock_call(call)
    if locked.status == CallStatus.DRAFT:
        return _sync(call, locked)  # already a draft (say the form was sent twice): nothing to do
    if not CALL_LIFECYCLE.allows(locked.status, "unpublish") or locked.phase(now) != CallStatus.SCHEDULED:
        raise ValidationError(CALL_ALREADY_OPENED)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": UNPUBLISH_REASON})
    CALL_LIFECYCLE.apply(call, "unpublish", actor=actor, locked=locked,
                         changes={"published_at": None, "published_closes_at": None, "closing_extension_reason": ""},
                         message=f"Taken back to draft before opening: {reason}")
    return _sync(call, locked)


@transaction.atomic
def call_open(*, actor: User | None, call: Call, now: dt.datetime | None = None) -> Call:
    """Scheduled → open, at or after the opening time (the beat task calls this)."""
    require_actor(actor, "governance.manage_call", call, system=True)  # None: the beat, on time
    now = now or timezone.now()
    locked = _lock_call(call)
    if not CALL_LIFECYCLE.allows(locked.status, "open"):
        raise ValidationError(CALL_NOT_SCHEDULED)
    if now < locked.opens_at:
        raise ValidationError(CALL_NOT_YET_OPENING)
    CALL_LIFECYCLE.apply(call, "open", actor=actor, locked=locked, message="Opened for bids")
    call_alerts_send(call=locked)
    return _sync(call, locked)


@transaction.atomic
def call_close(*, actor: User | None, call: Call, now: dt.datetime | None = None, reason: str = "") -> Call:
    """Open → closed. At the closing time the beat task does this; a fund manager may close an
    open call early, giving the reason (the closing time then becomes now)."""
    require_actor(actor, "governance.manage_call", call, system=True)  # None: the beat, on time
    now = now or timezone.now()
    locked = _lock_call(call)
    if not CALL_LIFECYCLE.allows(locked.status, "close"):
        raise ValidationError(CALL_NOT_OPEN)
    extra: dict[str, Any] = {}
    message = "Closed at its published closing time"
    if now < locked.closes_at:
        if now <= locked.opens_at:
            raise ValidationError(CALL_NOT_STARTED)
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError({"reason": CLOSE_EARLY_REASON})
        extra["closes_at"] = now
        message = f"Closed early: {reason}"
    CALL_LIFECYCLE.apply(call, "close", actor=actor, locked=locked, changes=extra, message=message)
    call_closed.send(sender=Call, call=locked, actor=actor)
    return _sync(call, locked)


@transaction.atomic
def call_extend_closing(
    *, actor: User | None, call: Call, closes_at: dt.datetime, reason: str, now: dt.datetime | None = None,
) -> Call:
    """Move a published call's closing time later, before it has closed, with a published reason.

    Only the closing time moves (criteria and eligibility stay frozen); the later timetable must
    still follow it. The first published closing time is kept to show bidders what changed.
    """
    require_actor(actor, "governance.manage_call", call)
    now = now or timezone.now()
    locked = _lock_call(call)
    if locked.phase(now) not in (CallStatus.SCHEDULED, CallStatus.OPEN):
        raise ValidationError(CALL_NOT_EXTENDABLE)
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if locked.published_closes_at and closes_at == locked.closes_at and reason == locked.closing_extension_reason:
        return _sync(call, locked)  # the same extension sent twice (a double submit): already done
    if not reason:
        _add(errors, "reason", EXTENSION_REASON)
    if closes_at <= locked.closes_at:
        _add(errors, "closes_at", EXTENSION_NOT_LATER)
    elif closes_at - locked.closes_at > dt.timedelta(days=366):
        _add(errors, "closes_at", EXTENSION_TOO_LONG)
    else:
        closes_on = timezone.localdate(closes_at)
        for name, what in (("assessment_due_date", "date assessors' scores are due"),
                           ("panel_meeting_date", "panel meeting"),
                           ("decisions_expected_date", "date decisions are announced by")):
            date = getattr(locked, name)
            if date and date <= closes_on:
                _add(errors, "closes_at", EXTENSION_PAST_TIMETABLE.format(what=what, date=f"{date:%-d %B %Y}"))
                break
    if errors:
        raise ValidationError(errors)
    previous = locked.closes_at
    before = snapshot(locked, ("closes_at", "closing_extension_reason"))
    locked.published_closes_at = locked.published_closes_at or previous
    locked.closes_at = closes_at
    locked.closing_extension_reason = reason
    locked.full_clean()
    locked.save(update_fields=["closes_at", "published_closes_at", "closing_extension_reason", "updated_at"])
    shown = timezone.localtime(closes_at)
    audit_record(actor=actor, action="call.closing_extended", target=locked, before=before,
                 after=snapshot(locked, ("closes_at", "closing_extension_reason")),
                 message=f"Closing time extended to {nhs_datetime(shown)} (UK time): {reason}")
    call_closing_extended.send(sender=Call, call=locked, actor=actor, previous_closes_at=previous)
    return _sync(call, locked)


@transaction.atomic
def call_start_assessment(*, actor: User | None, call: Call, now: dt.datetime | None = None) -> Call:
    """Closed → in assessment. A call past its closing time counts as closed even if the
    beat task has not run yet; its closing is then recorded first."""
    require_actor(actor, "governance.manage_call", call)
    now = now or timezone.now()
    locked = _lock_call(call)
    if locked.phase(now) != CallStatus.CLOSED:
        raise ValidationError(CALL_NOT_CLOSED)
    if locked.status != CallStatus.CLOSED:
        CALL_LIFECYCLE.apply(call, "close", actor=None, locked=locked, message="Closed at its published closing time")
    CALL_LIFECYCLE.apply(call, "start_assessment", actor=actor, locked=locked, message="Assessment started")
    call_entered_assessment.send(sender=Call, call=locked, actor=actor)
    return _sync(call, locked)


@transaction.atomic
def call_mark_decided(*, actor: User | None, call: Call, now: dt.datetime | None = None) -> Call:
    """In assessment → decided; the decisions count as released now (``decisions_released_at``)."""
    require_actor(actor, "governance.manage_call", call)
    now = now or timezone.now()
    locked = _lock_call(call)
    if not CALL_LIFECYCLE.allows(locked.status, "decide"):
        raise ValidationError(CALL_NOT_IN_ASSESSMENT)
    CALL_LIFECYCLE.apply(call, "decide", actor=actor, locked=locked, message="Decisions made and released",
                         changes={"decisions_released_at": locked.decisions_released_at or now})
    return _sync(call, locked)


@transaction.atomic
def call_close_out(*, actor: User | None, call: Call) -> Call:
    """Decided → closed out: nothing more happens on the call itself."""
    require_actor(actor, "governance.manage_call", call)
    locked = _lock_call(call)
    if not CALL_LIFECYCLE.allows(locked.status, "close_out"):
        raise ValidationError(CALL_NOT_DECIDED)
    CALL_LIFECYCLE.apply(call, "close_out", actor=actor, locked=locked, message="Closed out")
    return _sync(call, locked)


def calls_advance(*, now: dt.datetime | None = None) -> list[tuple[int, str]]:
    """Open and close calls whose times have come, as the portal (the beat task runs this).

    Idempotent: each call is locked and its status re-read before it moves, so running this
    twice, or in two workers at once, makes each transition (and its audit event) once.
    """
    now = now or timezone.now()
    due = Call.objects.filter(
        Q(status=CallStatus.SCHEDULED, opens_at__lte=now)
        | Q(status__in=[CallStatus.SCHEDULED, CallStatus.OPEN], closes_at__lte=now)
    ).order_by("pk").values_list("pk", flat=True)
    done: list[tuple[int, str]] = []
    for pk in list(due):
        with transaction.atomic():
            call = Call.objects.select_for_update().filter(pk=pk).first()
            if call is None:
                continue
            if call.status == CallStatus.SCHEDULED and call.opens_at <= now:
                call_open(actor=None, call=call, now=now)
                done.append((pk, CallStatus.OPEN))
            if call.status == CallStatus.OPEN and call.closes_at <= now:
                call_close(actor=None, call=call, now=now)
                done.append((pk, CallStatus.CLOSED))
    return done


# Criteria and rubric ----------------------------------------------------------------------------

CRITERION_FIELDS = (
    "kind", "title", "guidance_for_applicants", "guidance_for_assessors", "weight", "scale_min", "scale_max",
    "gateway_min_score", "position",
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
        others = criterion.call.criteria.exclude(pk=criterion.pk).aggregate(total=Sum("weight"))["total"] or 0
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
            RubricDescriptor.objects.update_or_create(criterion=criterion, score=score, defaults={"descriptor": text})
        else:
            criterion.descriptors.filter(score=score).delete()


def _criterion_snapshot(criterion: Criterion) -> dict[str, Any]:
    return {**snapshot(criterion, CRITERION_FIELDS),
            "descriptors": {str(d.score): d.descriptor for d in criterion.descriptors.all()}}


@transaction.atomic
def criterion_add(
    *, actor: User | None, call: Call, descriptors: dict[int, str] | None = None, **fields: Any,
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
    audit_record(actor=actor, action="criterion.added", target=criterion, after=_criterion_snapshot(criterion))
    return criterion


@transaction.atomic
def criterion_update(
    *, actor: User | None, criterion: Criterion, descriptors: dict[int, str] | None = None, **fields: Any,
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
        audit_record(actor=actor, action="criterion.changed", target=criterion, message=f"Changed {', '.join(changed)}",
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return criterion


@transaction.atomic
def criterion_remove(*, actor: User | None, criterion: Criterion) -> None:
    require_actor(actor, "governance.manage_call", criterion.call)
    locked_call = _lock_call(criterion.call)
    _refuse_if_frozen(locked_call)
    audit_record(actor=actor, action="criterion.removed", target=criterion, before=_criterion_snapshot(criterion))
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
        audit_record(actor=actor, action="criteria.weights_set", target=locked, before=before, after=after,
                     message="Criteria weights changed")


# Notification wording, per fund -------------------------------------------------------------------


@transaction.atomic
def notification_wording_save(*, actor: User, fund: Fund, kind: str, subject: str, body: str) -> NotificationWording:
    """A fund manager rewords a catalogue message for their fund (placeholders checked)."""
    from . import notifications

    require_actor(actor, "governance.manage_fund", fund)
    message = notifications.CATALOGUE.get(kind)
    if message is None or not message.fund_wording:
        raise ValidationError({"kind": ValidationError(NOT_A_CHOICE, code="invalid")})
    subject, body = (subject or "").strip(), (body or "").replace("\r\n", "\n").strip()
    errors = notifications.wording_errors(kind, subject=subject, body=body)
    if errors:
        raise ValidationError(errors)
    wording = NotificationWording.objects.select_for_update().filter(fund=fund, kind=kind).first()
    before = {"subject": wording.subject, "body": wording.body} if wording else {
        "subject": message.subject, "body": message.body}
    if wording is None:
        wording = NotificationWording(fund=fund, kind=kind)
    wording.subject, wording.body, wording.updated_by, wording.updated_at = subject, body, actor, timezone.now()
    wording.full_clean()
    wording.save()
    audit_record(actor=actor, action="notification_wording.changed", target=wording, before=before,
                 after={"subject": subject, "body": body}, message=f"Wording of \u201c{message.label}\u201d changed")
    return wording


@transaction.atomic
def notification_wording_reset(*, actor: User, fund: Fund, kind: str) -> None:
    """Back to the portal's default wording."""
    require_actor(actor, "governance.manage_fund", fund)
    wording = NotificationWording.objects.select_for_update().filter(fund=fund, kind=kind).first()
    if wording is None:
        return
    audit_record(actor=actor, action="notification_wording.reset", target=wording,
                 before={"subject": wording.subject, "body": wording.body}, message="Back to the default wording")
    wording.delete()


# Questions on an open call ------------------------------------------------------------------------


def call_takes_questions(call: Call, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return call.phase(now) == CallStatus.OPEN and (call.questions_close_at is None or now < call.questions_close_at)


@transaction.atomic
def call_question_ask(*, actor: User, call: Call, question: str, now: dt.datetime | None = None) -> CallQuestion:
    """A signed-in bidder asks a question on an open call, before the deadline for questions."""
    from . import notifications

    require_actor(actor, "governance.ask_call_question", call)
    now = now or timezone.now()
    locked = _lock_call(call)
    question = (question or "").strip()
    if not call_takes_questions(locked, now):
        closed = locked.phase(now) == CallStatus.OPEN
        raise ValidationError({"question": QUESTIONS_CLOSED if closed else QUESTIONS_NOT_TAKEN})
    if not question:
        raise ValidationError({"question": QUESTION_EMPTY})
    if len(question) > 2000:
        raise ValidationError({"question": QUESTION_TOO_LONG})
    asked = CallQuestion.objects.create(call=locked, asked_by=actor, question=question, asked_at=now)
    audit_record(actor=actor, action="call_question.asked", target=asked, after={"question": question},
                 message=f"Question asked on {locked.title}")
    notifications.send_to_each("call_question_asked", call_managers(locked), about=asked, fund=locked.fund,
                               values={"call_title": locked.title, "question": question},
                               link=reverse("governance:call_questions", kwargs={"slug": locked.slug}))
    return asked


@transaction.atomic
def call_question_answer(*, actor: User, question: CallQuestion, answer: str, now: dt.datetime | None = None) -> CallQuestion:
    """The fund manager writes (or, before publishing, changes) the answer."""
    require_actor(actor, "governance.answer_call_question", question.call)
    now = now or timezone.now()
    locked = CallQuestion.objects.select_for_update().select_related("call__fund").get(pk=question.pk)
    answer = (answer or "").strip()
    if locked.published_at is not None:
        raise ValidationError({"answer": QUESTION_ALREADY_PUBLISHED})
    if not answer:
        raise ValidationError({"answer": ANSWER_EMPTY})
    before = {"answer": locked.answer}
    locked.answer, locked.answered_by, locked.answered_at = answer, actor, now
    locked.save(update_fields=["answer", "answered_by", "answered_at"])
    audit_record(actor=actor, action="call_question.answered", target=locked, before=before, after={"answer": answer})
    return locked


@transaction.atomic
def call_question_publish(*, actor: User, question: CallQuestion, now: dt.datetime | None = None) -> CallQuestion:
    """Publish an answered question on the public call page, without the asker's name, and tell
    everyone with a bid or an alert on the call (once each)."""
    from . import notifications

    require_actor(actor, "governance.answer_call_question", question.call)
    now = now or timezone.now()
    locked = CallQuestion.objects.select_for_update().select_related("call__fund").get(pk=question.pk)
    if locked.published_at is not None:
        raise ValidationError(QUESTION_ALREADY_PUBLISHED)
    if not locked.answer:
        raise ValidationError(QUESTION_NOT_ANSWERED)
    locked.published_at = now
    locked.save(update_fields=["published_at"])
    audit_record(actor=actor, action="call_question.published", target=locked, after={"published_at": now.isoformat()},
                 message="Answer published on the call page")
    call = locked.call
    values = {"call_title": call.title, "question": locked.question, "answer": locked.answer}
    link = f"{call.get_absolute_url()}#questions"
    notifications.send_to_each("call_question_answered", call_bid_holders(call), about=locked, values=values,
                               fund=call.fund, link=link)
    for subscription in call_alert_subscribers_for(call):
        notifications.send("call_question_answered", email=subscription.email, about=locked, values=values,
                           fund=call.fund, link=link, unsubscribe_link=call_alert_unsubscribe_link(subscription))
    return locked


# Alerts for the public ----------------------------------------------------------------------------

ALERT_SALT_CONFIRM = "governance.call_alert.confirm"
ALERT_SALT_UNSUBSCRIBE = "governance.call_alert.unsubscribe"


def _rate_limited(name: str) -> bool:
    """Count one request for ``name`` this hour; True when over the limit."""
    from django.core.cache import cache

    key = f"call-alert-rate:{hashlib.sha256(name.encode()).hexdigest()}:{timezone.now():%Y%m%d%H}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=3600)
        count = 1
    limit: int = settings.CALL_ALERT_REQUESTS_PER_HOUR
    return count > limit


def call_alert_confirm_link(subscription: CallAlertSubscription) -> str:
    token = signing.dumps(subscription.pk, salt=ALERT_SALT_CONFIRM)
    return reverse("governance:call_alert_confirm", kwargs={"token": token})


def call_alert_unsubscribe_link(subscription: CallAlertSubscription) -> str:
    token = signing.dumps(subscription.pk, salt=ALERT_SALT_UNSUBSCRIBE)
    return reverse("governance:call_alert_unsubscribe", kwargs={"token": token})


@transaction.atomic
def call_alert_subscribe(
    *, email: str, networks: Iterable[Organisation] = (), purposes: Iterable[str] = (), regions: Iterable[str] = (), client: str = "",
) -> CallAlertSubscription:
    """Anyone asks for emails about new calls; nothing is sent until they confirm the address
    (double opt-in). Limited per address and per visitor (``client``, the IP address)."""
    from . import notifications

    email = User.objects.normalize_email((email or "").strip()).lower()
    subscription = CallAlertSubscription(email=email, purposes=sorted(set(purposes)), regions=sorted(set(regions)))
    errors: dict[str, list[str]] = {}
    if any(value not in CallPurpose.values for value in subscription.purposes):
        _add(errors, "purposes", NOT_A_CHOICE)
    if any(value not in Region.values for value in subscription.regions):
        _add(errors, "regions", NOT_A_CHOICE)
    _validate(subscription, errors)
    if (client and _rate_limited(f"ip:{client}")) or _rate_limited(f"email:{email}"):
        raise ValidationError({"email": ALERT_RATE_LIMITED})
    subscription.save()
    subscription.networks.set(list(networks))
    audit_record(actor=None, action="call_alert.requested", target=subscription,
                 after={"purposes": subscription.purposes, "regions": subscription.regions,
                        "networks": sorted(n.pk for n in networks)})
    notifications.send("call_alert_confirm", email=email, about=subscription, values={},
                       link=call_alert_confirm_link(subscription))
    return subscription


def _subscription_from(token: str, salt: str, max_age: int | None) -> CallAlertSubscription:
    try:
        pk = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise ValidationError(ALERT_LINK_EXPIRED, code="expired") from exc
    except signing.BadSignature as exc:
        raise ValidationError(ALERT_LINK_INVALID, code="invalid") from exc
    subscription = CallAlertSubscription.objects.select_for_update().filter(pk=pk).first()
    if subscription is None:
        raise ValidationError(ALERT_LINK_INVALID, code="invalid")
    return subscription


@transaction.atomic
def call_alert_confirm(*, token: str, now: dt.datetime | None = None) -> CallAlertSubscription:
    """The confirmation link was opened in time: alerts start (idempotent)."""
    subscription = _subscription_from(token, ALERT_SALT_CONFIRM, settings.CALL_ALERT_CONFIRM_MAX_AGE)
    if subscription.confirmed_at is None and subscription.unsubscribed_at is None:
        subscription.confirmed_at = now or timezone.now()
        subscription.save(update_fields=["confirmed_at"])
        audit_record(actor=None, action="call_alert.confirmed", target=subscription)
    return subscription


@transaction.atomic
def call_alert_unsubscribe(*, token: str, now: dt.datetime | None = None) -> CallAlertSubscription:
    """One click: no more alerts to this subscription (idempotent)."""
    subscription = _subscription_from(token, ALERT_SALT_UNSUBSCRIBE, None)
    if subscription.unsubscribed_at is None:
        subscription.unsubscribed_at = now or timezone.now()
        subscription.save(update_fields=["unsubscribed_at"])
        audit_record(actor=None, action="call_alert.unsubscribed", target=subscription)
    return subscription


def call_alerts_send(*, call: Call) -> int:
    """Tell each confirmed subscriber whose filters match a call that has just opened (once each)."""
    from . import notifications

    sent = 0
    for subscription in call_alert_subscribers_for(call):
        notification = notifications.send(
            "call_published", email=subscription.email, about=call, fund=call.fund,
            values={"call_title": call.title, "summary": call.summary, "deadline": notifications.uk_datetime(call.closes_at),
                    "fund_name": call.fund.name},
            link=call.get_absolute_url(), unsubscribe_link=call_alert_unsubscribe_link(subscription),
        )
        sent += notification is not None
    return sent
