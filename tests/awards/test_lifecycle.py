"""Every (state, action, role) of the awards stage's lifecycles, walked through the tables
(``awards.lifecycle``): a change happens only from a source state and only for someone holding
the transition's permission on the award, or for the portal itself where the table lets it.

Roles: the fund manager of the award's fund, another fund's manager, the grantee (the lead
organisation's authorised signatory, and a member who is not one), the fund's auditor, a
signed-in person with no role, and the portal itself."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from awards import services
from awards.lifecycle import (
    AWARD_LIFECYCLE,
    CONDITION_LIFECYCLE,
    INSTALMENT_LIFECYCLE,
    OFFER_LETTER_LIFECYCLE,
    VARIATION_LIFECYCLE,
)
from awards.models import (
    COMMITTING_STATUSES,
    Award,
    AwardCondition,
    AwardStatus,
    DocumentStatus,
    Instalment,
    OfferLetter,
    Variation,
    VariationKind,
)
from governance.lifecycle import REGISTRY, Transition
from governance.models import AuditEvent, FundRole, FundRoleKind, User
from governance.money import format_money
from tests.factories.awards import AwardFactory
from tests.factories.governance import FundManagerFactory, MembershipFactory, UserFactory
from tests.lifecycle_walk import check_step, walk_cases

from .conftest import first_award_year, issue

pytestmark = pytest.mark.django_db


def _award_of(obj) -> Award:
    return obj if isinstance(obj, Award) else obj.award


def _auditor(obj) -> User:
    auditor = UserFactory()
    FundRole.objects.create(user=auditor, fund=_award_of(obj).pot.fund, role=FundRoleKind.AUDITOR)
    return auditor


# Who each role is, for the award a row belongs to (made when the walk asks, one per step).
ROLES = {
    "fund_manager": lambda obj: FundManagerFactory(organisation=_award_of(obj).bid.call.fund.host_network).user,
    "other_fund_manager": lambda obj: FundManagerFactory().user,
    "grantee_signatory": lambda obj: MembershipFactory(organisation=_award_of(obj).recipient,
                                                       is_authorised_signatory=True).user,
    "grantee_member": lambda obj: MembershipFactory(organisation=_award_of(obj).recipient).user,
    "auditor": _auditor,
    "no_role": lambda obj: UserFactory(),
    "portal": lambda obj: None,
}

# Who holds each permission the tables ask, on an award of the world's fund.
HOLDERS = {
    "awards.manage_award": {"fund_manager"},
    "awards.respond_to_offer": {"grantee_signatory"},
    "awards.act_for_recipient": {"grantee_signatory", "grantee_member"},
    "": set(),  # the portal only
}


def may(row: Transition, role: str) -> bool:
    return role in HOLDERS[row.permission]


def _award(status=AwardStatus.ACTIVE) -> Award:
    return AwardFactory(status=status)


def test_the_awards_tables_are_registered_and_drawn():
    for lifecycle in (AWARD_LIFECYCLE, CONDITION_LIFECYCLE, INSTALMENT_LIFECYCLE, VARIATION_LIFECYCLE,
                      OFFER_LETTER_LIFECYCLE):
        assert REGISTRY[lifecycle.name] is lifecycle
        assert lifecycle.mermaid().startswith("stateDiagram-v2")
    assert set(AWARD_LIFECYCLE.final_states()) == {"closed", "withdrawn", "declined", "lapsed"}
    # Withdrawing is possible exactly while the award holds money in the pot.
    assert AWARD_LIFECYCLE.transition("withdraw").sources == {str(s) for s in COMMITTING_STATUSES}


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(AWARD_LIFECYCLE, ROLES))
def test_award_lifecycle(state, action, role):
    check_step(AWARD_LIFECYCLE, state=state, action=action, role=role, roles=ROLES, may=may, make=_award)


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(CONDITION_LIFECYCLE, ROLES))
def test_condition_lifecycle(state, action, role):
    def make(s):
        return AwardCondition.objects.create(award=_award(), title="DPIA signed", status=s)

    check_step(CONDITION_LIFECYCLE, state=state, action=action, role=role, roles=ROLES, may=may, make=make)


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(INSTALMENT_LIFECYCLE, ROLES))
def test_instalment_lifecycle(state, action, role):
    # The award is closed with no money in the ledger, so the pot ledger (checked after every
    # test here) balances whatever the walk does to the instalment: the table alone is walked.
    def make(s):
        award = _award(AwardStatus.CLOSED)
        return Instalment.objects.create(award=award, financial_year=award.years[0], quarter=1,
                                         amount=Decimal("1000.00"), status=s)

    check_step(INSTALMENT_LIFECYCLE, state=state, action=action, role=role, roles=ROLES, may=may, make=make)


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(VARIATION_LIFECYCLE, ROLES))
def test_variation_lifecycle(state, action, role):
    def make(s):
        return Variation.objects.create(award=_award(), kind=VariationKind.SCOPE, reasons="Wider reach",
                                        proposed_scope="Two more wards", requested_by=UserFactory(), status=s)

    check_step(VARIATION_LIFECYCLE, state=state, action=action, role=role, roles=ROLES, may=may, make=make)


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(OFFER_LETTER_LIFECYCLE, ROLES))
def test_offer_letter_lifecycle(state, action, role):
    check_step(OFFER_LETTER_LIFECYCLE, state=state, action=action, role=role, roles=ROLES, may=may,
               make=lambda s: OfferLetter.objects.create(award=_award(), status=s))


def test_an_offer_letter_event_is_filed_under_its_award():
    letter = OfferLetter.objects.create(award=_award(), status=DocumentStatus.RUNNING)
    OFFER_LETTER_LIFECYCLE.apply(letter, "fail", actor=None, changes={"error": "RuntimeError: no fonts"},
                                 recorded=(), message="Offer letter version 1 could not be made")
    event = AuditEvent.objects.get(action="offer_letter.failed")
    assert (event.target_type, event.target_id, event.before, event.after) == (
        "awards.award", str(letter.award_id), None, None)


def test_refusals_keep_the_awards_wording():
    award = _award(AwardStatus.CLOSED)
    with pytest.raises(ValidationError) as exc:
        AWARD_LIFECYCLE.require_state(award, "suspend")
    assert (exc.value.code, exc.value.messages) == ("transition_not_allowed", ["An award that is closed cannot be suspended"])
    with pytest.raises(ValidationError) as exc:
        AWARD_LIFECYCLE.require_state(award, "accept")
    assert (exc.value.code, exc.value.messages) == ("not_offered", ["This offer is no longer open: the award is closed"])
    condition = AwardCondition.objects.create(award=award, title="DPIA signed", status="met")
    with pytest.raises(ValidationError) as exc:
        CONDITION_LIFECYCLE.require_state(condition, "waive")
    assert exc.value.messages == ["This condition is met, so it cannot be waived"]
    with pytest.raises(ValidationError) as exc:
        CONDITION_LIFECYCLE.require_state(condition, "submit_evidence")
    assert exc.value.messages == ["This condition is met, so evidence can no longer be sent"]


def test_a_condition_is_asked_about_on_its_award():
    condition = AwardCondition.objects.create(award=_award(), title="DPIA signed")
    manager = ROLES["fund_manager"](condition)
    assert CONDITION_LIFECYCLE.can(condition, "waive", manager)
    assert not CONDITION_LIFECYCLE.can(condition, "waive", ROLES["other_fund_manager"](condition))
    assert not CONDITION_LIFECYCLE.can(condition, "sign_off", manager)  # no evidence yet
    # No person cancels an instalment: it follows the award's end, done by the portal.
    instalment = Instalment.objects.create(award=_award(AwardStatus.CLOSED), financial_year=first_award_year(),
                                           quarter=1, amount=Decimal("10.00"))
    assert not INSTALMENT_LIFECYCLE.can(instalment, "cancel", ROLES["fund_manager"](instalment))
    assert INSTALMENT_LIFECYCLE.can(instalment, "cancel", None)


def test_withdrawing_an_award_cancels_each_unpaid_instalment_on_the_record(world):
    award = issue(world)
    scheduled = list(award.instalments.order_by("financial_year", "quarter"))
    services.award_withdraw(actor=world.manager, award=award, reason="The trust merged")
    events = AuditEvent.objects.filter(action="instalment.cancelled").order_by("pk")
    assert [e.target_id for e in events] == [str(i.pk) for i in scheduled]
    assert all(e.actor is None and e.before == {"status": "scheduled"} and e.after == {"status": "cancelled"}
               for e in events)
    assert events[0].message == (f"{scheduled[0].label} instalment of {format_money(scheduled[0].amount, pence=True)} "
                                 "cancelled: award withdrawn")
    withdrawn = AuditEvent.objects.get(action="award.withdrawn")
    assert (withdrawn.before, withdrawn.after["status"]) == ({"status": "offered", "status_reason": ""}, "withdrawn")
