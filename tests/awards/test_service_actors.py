"""Awards services check the person acting with the permission their view checks and refuse
anyone else before changing anything (issue 13, finding 7): only the fund managers of the
award's call issue, withdraw, suspend, resume, close and start awards, remake offer letters,
review conditions, release and pay instalments and decide variations."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from awards import services
from awards.models import (
    Award,
    AwardCondition,
    ConditionTemplate,
    OfferLetter,
    PotLedgerEntry,
    Variation,
)
from governance.models import Pot
from tests.actor_checks import assert_refused
from tests.awards.conftest import issue
from tests.factories.governance import FundManagerFactory, NetworkFactory

pytestmark = pytest.mark.django_db

WRONG = ["signatory", "member", "outsider", "commissioner", "assessor", "chair", "auditor", "other_manager",
         "pot_manager", None]


def _person(world, name):
    if name is None:
        return None
    if name == "pot_manager":  # the network whose pot pays the award: reads it, changes nothing
        network = NetworkFactory()
        Pot.objects.filter(pk=world.pot.pk).update(network=network)
        return FundManagerFactory(organisation=network).user
    return getattr(world, name)


def _award(world):
    return issue(world, conditions=[services.ConditionSpec(title="Data sharing agreement signed")])


def _condition(world):
    return _award(world).conditions.get()


def _instalment(world):
    return _award(world).instalments.order_by("financial_year", "quarter").first()


def _variation(world):
    award = _award(world)
    return Variation.objects.create(award=award, kind="scope", reasons="A wider scope", proposed_scope="More wards",
                                    requested_by=world.member)


AWARD_ACTIONS = [
    ("offer_letter_request", services.offer_letter_request, {}),
    ("award_activate", services.award_activate, {}),
    ("award_return_frequency_set", services.award_return_frequency_set, {"months": 6}),
    ("award_suspend", services.award_suspend, {"reason": "Concerns"}),
    ("award_resume", services.award_resume, {}),
    ("award_withdraw", services.award_withdraw, {"reason": "Concerns"}),
    ("award_close", services.award_close, {}),
]


def _award_row(service, extra):
    def build(world):
        award = _award(world)
        return service, {"award": award, **extra}, [award], [OfferLetter, PotLedgerEntry]
    return build


ROWS = [
    ("award_issue", lambda w: (lambda **kwargs: issue(w, **kwargs), {"conditions": None}, [w.decision],
                               [Award, PotLedgerEntry])),
    *[(name, _award_row(service, extra)) for name, service, extra in AWARD_ACTIONS],
    ("condition_sign_off", lambda w: (lambda c: (services.condition_sign_off, {"condition": c}, [c], []))(_condition(w))),
    ("condition_waive", lambda w: (lambda c: (services.condition_waive, {"condition": c, "note": "Not needed"}, [c],
                                              []))(_condition(w))),
    ("condition_return", lambda w: (lambda c: (services.condition_return, {"condition": c, "note": "Unsigned"}, [c],
                                               []))(_condition(w))),
    ("condition_template_create", lambda w: (services.condition_template_create, {
        "fund": w.fund, "title": "Information governance", "description": "A DPIA"}, [], [ConditionTemplate])),
    ("instalment_release", lambda w: (lambda i: (services.instalment_release, {"instalment": i}, [i], []))(
        _instalment(w))),
    ("instalment_mark_paid", lambda w: (lambda i: (services.instalment_mark_paid, {"instalment": i, "reference": "AP-1"}, [i],
                                                   [PotLedgerEntry]))(_instalment(w))),
    ("variation_approve", lambda w: (lambda v: (services.variation_approve, {"variation": v}, [v, v.award], []))(
        _variation(w))),
    ("variation_reject", lambda w: (lambda v: (services.variation_reject, {"variation": v, "note": "No"}, [v], []))(
        _variation(w))),
]


@pytest.mark.parametrize(("build", "actor"), [
    pytest.param(build, actor, id=f"{name}-{actor}") for name, build in ROWS for actor in WRONG
])
def test_an_awards_service_refuses_the_wrong_person_and_changes_nothing(world, build, actor):
    service, kwargs, watch, counted = build(world)
    person = _person(world, actor)
    assert_refused(lambda: service(actor=person, **kwargs), watch=watch, counted=counted)


def test_the_award_s_manager_passes_the_same_check(world):
    condition = _condition(world)
    services.condition_waive(actor=world.manager, condition=condition, note="Not needed")
    condition.refresh_from_db()
    assert condition.status == "waived"
    assert AwardCondition.objects.filter(signed_off_by=world.manager).exists()


# The grantee's side: only the recipient's signatory answers the offer, only its members send
# evidence and ask for variations (the awards stage refuses with its own messages).

NOT_THE_GRANTEE = ["manager", "auditor", "outsider", "commissioner", "other_manager", None]
GRANTEE_ROWS = [
    ("award_accept", lambda w: (lambda a: (services.award_accept, {"award": a}, [a], []))(_award(w))),
    ("award_decline", lambda w: (lambda a: (services.award_decline, {"award": a, "reason": "No"}, [a],
                                            [PotLedgerEntry]))(_award(w))),
    ("condition_evidence_submit", lambda w: (lambda c: (services.condition_evidence_submit, {
        "condition": c, "upload": None}, [c], []))(_condition(w))),
    ("variation_request", lambda w: (lambda a: (services.variation_request, {
        "award": a, "kind": "scope", "reasons": "Wider", "proposed_scope": "More wards"}, [a], [Variation]))(
        _award(w))),
]


@pytest.mark.parametrize(("build", "actor"), [
    pytest.param(build, actor, id=f"{name}-{actor}") for name, build in GRANTEE_ROWS for actor in NOT_THE_GRANTEE
])
def test_the_grantee_s_services_refuse_anyone_else_and_change_nothing(world, build, actor):
    service, kwargs, watch, counted = build(world)
    person = _person(world, actor)
    assert_refused(lambda: service(actor=person, **kwargs), watch=watch, counted=counted, refusal=ValidationError)
