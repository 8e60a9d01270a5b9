"""Funds and what hangs off them: the fund's details and years, its pots and their yearly
budgets, its auditors (independent of its managers and bidders) and its panels with their
members and declared affiliations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from .. import fy
from ..access import require_actor
from ..audit import audit_record, snapshot
from ..extensions import committed_by_pot_year
from ..messages import (
    BUDGET_BELOW_COMMITTED,
    FUND_AUDITOR_TAKEN,
    FUND_HOST_HAS_CALLS,
    FUND_NATIONAL_HAS_POTS,
    FUND_RING_FENCED_POT_WITHOUT_NETWORK,
    FUND_SLUG_RESERVED,
    FUND_SLUG_TAKEN,
    FUND_YEARS_EXCLUDE_BUDGETS,
    FUND_YEARS_OUT_OF_ORDER,
    NOT_A_NETWORK,
    PANEL_MEMBER_TAKEN,
    PANEL_NAME_TAKEN,
    POT_NAME_TAKEN,
    POT_NATIONAL_NO_NETWORK,
    POT_NATIONAL_ONLY_ONE,
    POT_NETWORK_IN_USE,
    POT_NETWORK_REQUIRED,
    POT_NETWORK_TAKEN,
    YEAR_OUTSIDE_FUND,
)
from ..models import (
    AUDITOR_IS_BIDDER,
    AUDITOR_IS_MANAGER,
    PUBLISHED_CALL_STATUSES,
    AllocationModel,
    Fund,
    FundRole,
    FundRoleKind,
    Membership,
    MembershipRole,
    Organisation,
    Panel,
    PanelMember,
    Pot,
    PotBudget,
    User,
    auditor_bidder_organisations,
)
from ..money import ZERO, format_money, parse_money
from ._shared import _add, _save_unique, _validate

# Funds ----------------------------------------------------------------------------------------

FUND_FIELDS = (
    "name",
    "slug",
    "host_network",
    "description",
    "priorities",
    "allocation_model",
    "first_year",
    "last_year",
)

RESERVED_FUND_SLUGS = frozenset({"new"})


def _fund_errors(fund: Fund) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if fund.host_network_id and not fund.host_network.is_network:
        _add(errors, "host_network", NOT_A_NETWORK)
    if fund.slug in RESERVED_FUND_SLUGS:
        _add(errors, "slug", FUND_SLUG_RESERVED)
    elif fund.slug and Fund.objects.filter(slug=fund.slug).exclude(pk=fund.pk).exists():
        _add(errors, "slug", FUND_SLUG_TAKEN)
    if (
        fund.first_year is not None
        and fund.last_year is not None
        and fund.last_year < fund.first_year
    ):
        _add(errors, "last_year", FUND_YEARS_OUT_OF_ORDER)
    if fund.pk and fund.first_year is not None and fund.last_year is not None:
        outside = sorted(
            set(
                PotBudget.objects.filter(pot__fund=fund)
                .exclude(financial_year__range=(fund.first_year, fund.last_year))
                .values_list("financial_year", flat=True)
            )
        )
        if outside:
            field = "first_year" if outside[0] < fund.first_year else "last_year"
            _add(
                errors,
                field,
                f"{FUND_YEARS_EXCLUDE_BUDGETS} ({', '.join(fy.label(y) for y in outside)}): change those budgets first",
            )
    if fund.pk:
        pots = list(fund.pots.all())
        if fund.allocation_model == AllocationModel.NATIONAL and len(pots) > 1:
            _add(errors, "allocation_model", FUND_NATIONAL_HAS_POTS)
        if fund.allocation_model == AllocationModel.RING_FENCED and any(
            p.network_id is None for p in pots
        ):
            _add(errors, "allocation_model", FUND_RING_FENCED_POT_WITHOUT_NETWORK)
    return errors


@transaction.atomic
def fund_create(
    *,
    actor: User | None,
    host_network: Organisation,
    name: str,
    description: str,
    allocation_model: str,
    first_year: int,
    last_year: int,
    slug: str = "",
    priorities: str = "",
) -> Fund:
    require_actor(actor, "governance.host_fund", host_network)
    fund = Fund(
        host_network=host_network,
        name=(name or "").strip(),
        slug=slug or slugify(name or "")[:80],
        description=description,
        priorities=priorities,
        allocation_model=allocation_model,
        first_year=first_year,
        last_year=last_year,
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
        actor=actor,
        action="fund.changed",
        target=fund,
        message=f"Changed {', '.join(changed)}",
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
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
def pot_create(
    *, actor: User | None, fund: Fund, name: str, network: Organisation | None = None
) -> Pot:
    require_actor(actor, "governance.manage_fund", fund)
    Fund.objects.select_for_update().filter(pk=fund.pk).first()  # one pot at a time per fund
    pot = Pot(fund=fund, name=(name or "").strip(), network=network)
    _validate(pot, _pot_errors(pot))
    _save_unique(pot, "name", POT_NAME_TAKEN)
    audit_record(actor=actor, action="pot.created", target=pot, after=snapshot(pot, POT_FIELDS))
    return pot


@transaction.atomic
def pot_update(
    *, actor: User | None, pot: Pot, name: str, network: Organisation | None = None
) -> Pot:
    require_actor(actor, "governance.manage_fund", pot.fund)
    pot = Pot.objects.select_for_update().select_related("fund").get(pk=pot.pk)
    before = snapshot(pot, POT_FIELDS)
    pot.name = (name or "").strip()
    pot.network = network
    errors = _pot_errors(pot)
    if (
        pot.network_id != before["network"]
        and pot.calls.filter(status__in=PUBLISHED_CALL_STATUSES).exists()
    ):
        _add(errors, "network", POT_NETWORK_IN_USE)
    _validate(pot, errors)
    after = snapshot(pot, POT_FIELDS)
    if after != before:
        _save_unique(pot, "name", POT_NAME_TAKEN)
        audit_record(actor=actor, action="pot.changed", target=pot, before=before, after=after)
    return pot


@transaction.atomic
def pot_budget_set(
    *, actor: User | None, pot: Pot, financial_year: int, amount: Decimal | str
) -> PotBudget:
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
        _add(
            errors,
            "financial_year",
            f"{YEAR_OUTSIDE_FUND}: {fy.label(fund.first_year)} to {fy.label(fund.last_year)}",
        )
    if errors or not isinstance(amount, Decimal):
        raise ValidationError(errors)
    budget = (
        PotBudget.objects.select_for_update().filter(pot=pot, financial_year=financial_year).first()
    )
    committed = committed_by_pot_year([pot.pk]).get((pot.pk, financial_year), ZERO)
    if amount < committed:
        raise ValidationError(
            {"amount": f"{BUDGET_BELOW_COMMITTED} ({format_money(committed, pence=True)})"}
        )
    before = {"financial_year": financial_year, "amount": budget.amount if budget else None}
    if budget is None:
        budget = PotBudget(pot=pot, financial_year=financial_year, amount=amount)
    elif budget.amount == amount:
        return budget
    budget.amount = amount
    _validate(budget)
    budget.save()
    audit_record(
        actor=actor,
        action="pot.budget_set",
        target=budget,
        before=before,
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
    if Membership.objects.filter(
        user=user, organisation_id=fund.host_network_id, role=MembershipRole.FUND_MANAGER
    ).exists():
        raise ValidationError({"email": FUND_AUDITOR_IS_MANAGER})
    if bidders := auditor_bidder_organisations(user.pk, fund.pk):
        raise ValidationError(
            {"email": FUND_AUDITOR_IS_BIDDER.format(organisations=", ".join(bidders))}
        )
    if FundRole.objects.filter(fund=fund, user=user, role=FundRoleKind.AUDITOR).exists():
        raise ValidationError({"email": FUND_AUDITOR_TAKEN})
    role = FundRole(fund=fund, user=user, role=FundRoleKind.AUDITOR)
    _save_unique(role, "email", FUND_AUDITOR_TAKEN)
    audit_record(
        actor=actor,
        action="fund.auditor_added",
        target=fund,
        after={"auditor": user.email},
        message=f"{user} made an auditor of {fund.name}",
    )
    return role


@transaction.atomic
def fund_auditor_remove(*, actor: User | None, role: FundRole) -> None:
    require_actor(actor, "governance.manage_fund", role.fund)
    fund, user = role.fund, role.user
    role.delete()
    audit_record(
        actor=actor,
        action="fund.auditor_removed",
        target=fund,
        before={"auditor": user.email},
        message=f"{user} is no longer an auditor of {fund.name}",
    )


# Panels -----------------------------------------------------------------------------------------

PANEL_FIELDS = ("name", "terms_of_reference")


def _panel_errors(panel: Panel) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if (
        panel.name
        and Panel.objects.filter(fund=panel.fund, name__iexact=panel.name)
        .exclude(pk=panel.pk)
        .exists()
    ):
        _add(errors, "name", PANEL_NAME_TAKEN)
    return errors


@transaction.atomic
def panel_create(
    *, actor: User | None, fund: Fund, name: str, terms_of_reference: str = ""
) -> Panel:
    require_actor(actor, "governance.manage_fund", fund)
    panel = Panel(fund=fund, name=(name or "").strip(), terms_of_reference=terms_of_reference)
    _validate(panel, _panel_errors(panel))
    _save_unique(panel, "name", PANEL_NAME_TAKEN)
    audit_record(
        actor=actor, action="panel.created", target=panel, after=snapshot(panel, PANEL_FIELDS)
    )
    return panel


@transaction.atomic
def panel_update(
    *, actor: User | None, panel: Panel, name: str, terms_of_reference: str = ""
) -> Panel:
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
    return {
        "user": member.user.email,
        "role": member.role,
        "affiliations": sorted(member.affiliations.values_list("pk", flat=True)),
    }


@transaction.atomic
def panel_member_add(
    *,
    actor: User | None,
    panel: Panel,
    user: User,
    role: str,
    affiliations: list[Organisation] | tuple[Organisation, ...] = (),
) -> PanelMember:
    require_actor(actor, "governance.manage_fund", panel.fund)
    if PanelMember.objects.filter(panel=panel, user=user).exists():
        raise ValidationError({"email": PANEL_MEMBER_TAKEN})
    member = PanelMember(panel=panel, user=user, role=role)
    _validate(member)
    _save_unique(member, "email", PANEL_MEMBER_TAKEN)
    member.affiliations.set(affiliations)
    audit_record(
        actor=actor, action="panel.member_added", target=member, after=_member_snapshot(member)
    )
    return member


@transaction.atomic
def panel_member_update(*, actor: User | None, member: PanelMember, role: str) -> PanelMember:
    require_actor(actor, "governance.manage_fund", member.panel.fund)
    before = _member_snapshot(member)
    member.role = role
    _validate(member)
    if member.role != before["role"]:
        member.save(update_fields=["role"])
        audit_record(
            actor=actor,
            action="panel.member_changed",
            target=member,
            before=before,
            after=_member_snapshot(member),
        )
    return member


@transaction.atomic
def panel_member_remove(*, actor: User | None, member: PanelMember) -> None:
    require_actor(actor, "governance.manage_fund", member.panel.fund)
    before = _member_snapshot(member)
    audit_record(actor=actor, action="panel.member_removed", target=member, before=before)
    member.delete()


@transaction.atomic
def panel_member_affiliation_add(
    *, actor: User | None, member: PanelMember, organisation: Organisation
) -> bool:
    """Declare that a panel member works for or with an organisation. False if already declared."""
    require_actor(actor, "governance.manage_fund", member.panel.fund)
    if member.affiliations.filter(pk=organisation.pk).exists():
        return False
    member.affiliations.add(organisation)
    audit_record(
        actor=actor,
        action="panel.affiliation_added",
        target=member,
        message=f"Affiliation with {organisation} declared",
        after={"organisation": organisation.pk},
    )
    return True


@transaction.atomic
def panel_member_affiliation_remove(
    *, actor: User | None, member: PanelMember, organisation: Organisation
) -> bool:
    require_actor(actor, "governance.manage_fund", member.panel.fund)
    if not member.affiliations.filter(pk=organisation.pk).exists():
        return False
    member.affiliations.remove(organisation)
    audit_record(
        actor=actor,
        action="panel.affiliation_removed",
        target=member,
        message=f"Affiliation with {organisation} removed",
        before={"organisation": organisation.pk},
    )
    return True
