"""Who may see an award, and which of its parts.

**Public.** An award is published (on the register, in 360Giving, ``awards.csv``/``.xlsx``, the
API and impact reports) once its panel decision is released and its call's decisions are
released, unless the offer was declined or lapsed: those were never taken up and never appear.
Withdrawn, suspended and closed awards stay public with their status. ``published_awards`` is
the one query of that rule; no channel writes its own. The public sees the fields in
``PUBLIC_AWARD_FIELDS`` (and, through the register, its released decision's score, criterion
scores and conditions of funding, its profile, money paid and results from approved returns).

**Private parts.** Offer letters, condition evidence and review notes, instalments and payments
(with their remittance: date paid, amount, the finance system's reference, ``remittance``),
variations and the award's own ledger are seen only by ``award_private_audience``: the fund
managers of the call's or fund's host network, fund managers of the network whose pot pays it
(read only), the fund's auditors, members of the recipient organisation, and site admins
(``awards_visible_to`` lists their awards; anyone else gets 404). A fund's pot ledger (budget,
committed, paid, remaining per pot and year) is seen by whoever may see the fund's page.
Emails and notifications about an award go only to people in its private audience.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from applications.models import Bid
from assessment.visibility import unpublic_decisions
from governance.models import (
    PUBLISHED_CALL_STATUSES,
    Call,
    Fund,
    FundRoleKind,
    Membership,
    MembershipRole,
    OrganisationKind,
    User,
)

from .models import Award, AwardStatus

# Statuses that never appear in public: the offer was refused or never taken up.
UNPUBLISHED_STATUSES = frozenset({AwardStatus.DECLINED, AwardStatus.LAPSED})
PUBLIC_STATUS_CHOICES = [(value, label) for value, label in AwardStatus.choices if value not in UNPUBLISHED_STATUSES]

# The award's own fields the public sees (with its recipient's public identifiers).
PUBLIC_AWARD_FIELDS = (
    "reference", "title", "description", "amount", "start_date", "end_date", "status", "status_reason", "recipient",
    "pot", "bid",
)
# Never public, whoever asks through a public channel.
PRIVATE_AWARD_FIELDS = (
    "offer_deadline", "issued_by", "issued_at", "accepted_by", "accepted_at", "return_frequency_months",
)


# What is public --------------------------------------------------------------------------------


def published_awards(now=None, *, among=None) -> QuerySet[Award]:
    """Every award the public may see, as of ``now`` (default: now).

    The decision rule is ``assessment.visibility.public_decisions``' (released, and its call's
    decisions released), written here as exclusions of the (few) decisions and calls not yet
    released, so PostgreSQL answers from the awards table alone instead of joining decisions,
    bids and calls for every award: the register's totals and exports of 50,000 awards run two
    to three times faster this way.

    ``among``: only these award ids, the same rule worked out for them alone (a few indexed
    lookups instead of a pass over every decision): for keeping copies of it in step."""
    now = now or timezone.now()
    awards, decisions, bids = Award.objects.all(), unpublic_decisions(now), Bid.objects.all()
    if among is not None:
        among = list(among)
        awards, decisions, bids = awards.filter(pk__in=among), decisions.filter(award__in=among), bids.filter(award__in=among)
    unreleased_calls = Call.objects.filter(
        Q(decisions_released_at__isnull=True) | Q(decisions_released_at__gt=now) | ~Q(status__in=PUBLISHED_CALL_STATUSES)
    )
    return (
        awards.exclude(status__in=UNPUBLISHED_STATUSES)
        .exclude(decision_id__in=decisions.values("id"))
        .exclude(bid_id__in=bids.filter(call_id__in=unreleased_calls.values("id")).values("id"))
    )


def is_published(award: Award, now=None) -> bool:
    return published_awards(now).filter(pk=award.pk).exists()


# Who sees an award's private parts ------------------------------------------------------------------


def _managed_network_ids(user: User) -> QuerySet:
    return Membership.objects.filter(
        user=user, role=MembershipRole.FUND_MANAGER, organisation__kind=OrganisationKind.HEALTH_INNOVATION_NETWORK
    ).values("organisation_id")


def awards_visible_to(user: User) -> QuerySet[Award]:
    """Awards whose private parts a person may read: fund managers of the call's, fund's or pot's
    network; the fund's auditors; members of the recipient organisation; site admins."""
    awards = Award.objects.select_related("pot__fund", "recipient", "bid__call")
    if not user.is_authenticated:
        return awards.none()
    if user.is_superuser:
        return awards
    managed = _managed_network_ids(user)
    audited = user.fund_roles.filter(role=FundRoleKind.AUDITOR).values("fund_id")
    member_of = Membership.objects.filter(user=user).values("organisation_id")
    return awards.filter(
        Q(bid__call__host_network__in=managed)
        | Q(pot__fund__host_network__in=managed)
        | Q(pot__network__in=managed)
        | Q(pot__fund__in=audited)
        | Q(recipient__in=member_of)
    )


def award_visible_to(user: User, reference: str) -> Award | None:
    """One award of ``awards_visible_to(user)`` by its reference, else None. It carries the
    answer for ``sees_award_private``, so the page's checks do not ask the database again."""
    award = awards_visible_to(user).filter(reference=reference).first()
    if award is not None:
        award._found_visible_by = user.pk
    return award


def sees_award_private(user: User, award: Award) -> bool:
    """May ``user`` see the award's private parts (the same people as ``awards_visible_to``,
    asked of that queryset)? The ``awards.view_award`` permission is this rule."""
    if award is None or user is None or not user.is_authenticated or not user.is_active:
        return False
    if getattr(award, "_found_visible_by", None) == user.pk:
        return True
    return awards_visible_to(user).filter(pk=award.pk).exists()


# Each private part: today the same audience, named so each channel says what it shows.
def sees_offer_letters(user: User, award: Award) -> bool:
    return sees_award_private(user, award)


def sees_condition_evidence(user: User, award: Award) -> bool:
    return sees_award_private(user, award)


def sees_payments(user: User, award: Award) -> bool:
    """Instalments, payments and the award's ledger entries."""
    return sees_award_private(user, award)


# A payment's remittance: what the grantee (and everyone who sees the award's payments) is shown
# of a paid instalment, on the award page, in the payments CSV and in the "Payment made" notification.
REMITTANCE_FIELDS = ("label", "paid_on", "paid_amount", "payment_reference", "payment_note")


def remittance(user: User, instalment) -> dict | None:
    """The remittance of a paid instalment for ``user``, or None if they may not see payments
    (or it is not paid). Who recorded it is shown only to those who may manage the award."""
    if instalment.status != "paid" or not sees_payments(user, instalment.award):
        return None
    view = {name: getattr(instalment, name) for name in REMITTANCE_FIELDS}
    view["amount"] = instalment.amount
    view["recorded_by"] = (instalment.paid_by.full_name if instalment.paid_by_id
                           and user.has_perm("awards.manage_award", instalment.award) else "")
    return view


def sees_pot_ledger(user: User, fund: Fund) -> bool:
    """A fund's pot ledger (page section and CSV): whoever may see the fund's page."""
    return user is not None and user.has_perm("governance.view_fund", fund)


def award_private_audience(award: Award, people) -> list[User]:
    """Those of ``people`` who may see the award's private parts: emails about it go only to them."""
    return [user for user in people if sees_award_private(user, award)]
