"""The lifecycle engine (governance/lifecycle.py): how a table is declared and read, and what
``apply`` does, shown on the call's table and on small tables made for the test."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from governance import lifecycle
from governance.call_lifecycle import CALL_LIFECYCLE
from governance.lifecycle import REGISTRY, Lifecycle, Transition
from governance.models import AuditEvent, Call, CallStatus
from tests.factories.governance import CallFactory, FundManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scratch_registry():
    """Tables made by a test leave the registry as it was."""
    saved = dict(REGISTRY)
    yield
    REGISTRY.clear()
    REGISTRY.update(saved)


def manager_of(call: Call):
    return FundManagerFactory(organisation=call.fund.host_network).user


def messages_of(error) -> list[str]:
    return list(error.value.messages)


# Declaring a table ---------------------------------------------------------------------------


def test_an_action_declared_twice_is_refused(scratch_registry):
    with pytest.raises(ValueError, match="action 'open' is declared twice"):
        Lifecycle(name="twice", model=Call, states=CallStatus, transitions=[
            Transition("open", [CallStatus.SCHEDULED], CallStatus.OPEN, permission="p", audit="a", verb="opened"),
            Transition("open", [CallStatus.DRAFT], CallStatus.OPEN, permission="p", audit="a", verb="opened"),
        ])
    assert "twice" not in REGISTRY


def test_a_state_the_choices_do_not_know_is_refused(scratch_registry):
    with pytest.raises(ValueError, match=r"'open' names unknown states \['ajar'\]"):
        Lifecycle(name="unknown", model=Call, states=CallStatus, transitions=[
            Transition("open", ["ajar"], CallStatus.OPEN, permission="p", audit="a", verb="opened"),
        ])
    with pytest.raises(ValueError, match=r"unknown states \['gone'\]"):
        Lifecycle(name="unknown", model=Call, states=CallStatus, transitions=[
            Transition("open", [CallStatus.SCHEDULED], "gone", permission="p", audit="a", verb="opened"),
        ])


def test_an_unknown_action_is_refused_by_name():
    with pytest.raises(ValueError, match="call has no action 'reopen'"):
        CALL_LIFECYCLE.transition("reopen")
    with pytest.raises(ValueError):
        CALL_LIFECYCLE.allows(CallStatus.CLOSED, "reopen")


def test_each_table_is_in_the_registry_once_django_is_ready():
    assert REGISTRY["call"] is CALL_LIFECYCLE
    assert {"call", "bid", "expression_of_interest"} <= set(REGISTRY)


# Reading a table ------------------------------------------------------------------------------


def test_actions_from_a_state_are_the_rows_that_start_there_in_table_order():
    assert [row.action for row in CALL_LIFECYCLE.actions_from(CallStatus.DRAFT)] == ["publish"]
    assert [row.action for row in CALL_LIFECYCLE.actions_from(CallStatus.SCHEDULED)] == ["unpublish", "open", "close"]
    assert [row.action for row in CALL_LIFECYCLE.actions_from("open")] == ["close"]
    assert CALL_LIFECYCLE.actions_from(CallStatus.CLOSED_OUT) == []


def test_allows_reads_the_sources_of_the_action():
    assert CALL_LIFECYCLE.allows(CallStatus.OPEN, "close")
    assert CALL_LIFECYCLE.allows(CallStatus.SCHEDULED, "close")
    assert not CALL_LIFECYCLE.allows(CallStatus.CLOSED, "close")


def test_final_states_are_those_no_action_leaves():
    assert CALL_LIFECYCLE.final_states() == [CallStatus.CLOSED_OUT]


def test_the_mermaid_diagram_names_every_state_and_draws_every_arrow():
    diagram = CALL_LIFECYCLE.mermaid().splitlines()
    assert diagram[0] == "stateDiagram-v2"
    assert "    draft: Draft" in diagram
    assert "    scheduled: Published, opening soon" in diagram
    assert "    draft --> scheduled: published" in diagram
    # An action with two sources draws two arrows, sources in order.
    closing = [line for line in diagram if line.endswith(": closed")]
    assert closing == ["    open --> closed: closed", "    scheduled --> closed: closed"]
    arrows = [line for line in diagram if "-->" in line]
    assert len(arrows) == sum(len(row.sources) for row in CALL_LIFECYCLE.transitions)
    assert len(diagram) == 1 + len(CallStatus.values) + len(arrows)


def test_can_answers_for_the_state_and_the_actor_without_changing_anything():
    call = CallFactory(status=CallStatus.OPEN)
    manager = manager_of(call)
    assert CALL_LIFECYCLE.can(call, "close", manager)
    assert CALL_LIFECYCLE.can(call, "close", None)  # the portal closes calls on time
    assert not CALL_LIFECYCLE.can(call, "close", UserFactory())
    assert not CALL_LIFECYCLE.can(call, "start_assessment", manager)  # not closed yet
    assert not CALL_LIFECYCLE.can(call, "start_assessment", None)
    call.refresh_from_db()
    assert call.status == CallStatus.OPEN
    assert not AuditEvent.objects.exists()


# Applying a change ----------------------------------------------------------------------------


def test_a_change_the_state_does_not_allow_is_refused_in_words():
    call = CallFactory(status=CallStatus.OPEN)
    with pytest.raises(ValidationError) as error:
        CALL_LIFECYCLE.apply(call, "publish", actor=manager_of(call))
    assert messages_of(error) == ["This call is open, so it cannot be published."]
    assert error.value.code == "transition_not_allowed"
    assert error.value.params == {"thing": "call", "status": "open", "verb": "published"}
    assert not AuditEvent.objects.exists()


def test_a_table_may_word_its_own_refusal(scratch_registry):
    table = Lifecycle(name="worded", model=Call, states=CallStatus, transitions=[
        Transition("close_out", [CallStatus.DECIDED], CallStatus.CLOSED_OUT, permission="governance.manage_call",
                   audit="call.closed_out", verb="closed out"),
    ], refusal="A call that is %(status)s cannot be %(action)s", refusal_code="transition")
    call = CallFactory(status=CallStatus.ASSESSMENT)
    with pytest.raises(ValidationError) as error:
        table.apply(call, "close_out", actor=manager_of(call))
    assert messages_of(error) == ["A call that is in assessment cannot be closed out"]
    assert error.value.code == "transition"


def test_the_permission_is_checked_before_the_state():
    call = CallFactory(status=CallStatus.CLOSED_OUT)
    with pytest.raises(PermissionDenied):
        CALL_LIFECYCLE.apply(call, "publish", actor=UserFactory())
    with pytest.raises(PermissionDenied):
        CALL_LIFECYCLE.apply(call, "publish", actor=None)  # publishing is not the portal's to do


def test_apply_saves_audits_and_refreshes_the_callers_copy():
    call = CallFactory(status=CallStatus.OPEN)
    manager = manager_of(call)
    saved = CALL_LIFECYCLE.apply(call, "close", actor=manager, changes={"closing_extension_reason": "Moved"},
                                 message="Closed by hand", audit_after={"bids": 3})
    assert saved is not call  # the engine locked and saved its own copy …
    assert (call.status, call.closing_extension_reason) == (CallStatus.CLOSED, "Moved")  # … and refreshed ours
    stored = Call.objects.get(pk=call.pk)
    assert (stored.status, stored.closing_extension_reason) == (CallStatus.CLOSED, "Moved")
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.message) == ("call.closed", manager, "Closed by hand")
    assert event.before == {"status": "open", "closing_extension_reason": ""}
    assert event.after == {"status": "closed", "closing_extension_reason": "Moved", "bids": 3}


def test_a_row_the_service_already_locked_is_used_as_it_is(monkeypatch):
    call = CallFactory(status=CallStatus.OPEN)
    manager = manager_of(call)

    def no_second_lock(obj):
        raise AssertionError("the row was locked again")

    monkeypatch.setattr(CALL_LIFECYCLE, "lock", no_second_lock)
    held = Call.objects.get(pk=call.pk)
    saved = CALL_LIFECYCLE.apply(call, "close", actor=manager, locked=held)
    assert saved is held
    assert held.status == call.status == CallStatus.CLOSED
    # The state checked is the locked row's, not the caller's copy.
    stale = Call.objects.get(pk=call.pk)
    stale.status = CallStatus.OPEN
    with pytest.raises(ValidationError):
        CALL_LIFECYCLE.apply(stale, "close", actor=manager, locked=Call.objects.get(pk=call.pk))


def test_the_row_is_validated_before_it_is_saved(scratch_registry):
    call = CallFactory(status=CallStatus.OPEN)
    with pytest.raises(ValidationError):
        CALL_LIFECYCLE.apply(call, "close", actor=None, changes={"closes_at": call.opens_at})  # closes before it opens
    assert Call.objects.get(pk=call.pk).status == CallStatus.OPEN
    checked = []
    table = Lifecycle(name="validated", model=Call, states=CallStatus, transitions=CALL_LIFECYCLE.transitions,
                      validate=checked.append)
    table.apply(call, "close", actor=None)
    assert [c.pk for c in checked] == [call.pk]
    table.apply(call, "start_assessment", actor=manager_of(call), clean=False)
    assert len(checked) == 1


def test_the_permission_may_be_asked_of_another_object(scratch_registry):
    call = CallFactory(status=CallStatus.OPEN)
    asked = []

    def on_the_fund(obj):
        asked.append(obj)
        return obj.fund

    table = Lifecycle(name="on_fund", model=Call, states=CallStatus, transitions=[
        Transition("close", [CallStatus.OPEN], CallStatus.CLOSED, permission="governance.manage_fund",
                   audit="call.closed", verb="closed"),
    ], permission_object=on_the_fund)
    assert table.can(call, "close", manager_of(call))
    table.apply(call, "close", actor=manager_of(call))
    assert asked == [call, call]
    assert call.status == CallStatus.CLOSED


def test_the_transition_message_constant_is_formatted_by_django():
    assert lifecycle.TRANSITION_NOT_ALLOWED % {"thing": "bid", "status": "draft", "verb": "funded"} == (
        "This bid is draft, so it cannot be funded.")


def test_a_row_checked_for_the_action_is_not_asked_about_again(monkeypatch):
    """``check`` then ``apply(locked=…)`` asks the rules once; a row checked for another action
    or another person, or locked by the service itself, is asked about afresh."""
    call = CallFactory(status=CallStatus.OPEN)
    manager = manager_of(call)
    asked = []
    ask = CALL_LIFECYCLE._require_actor
    monkeypatch.setattr(CALL_LIFECYCLE, "_require_actor", lambda *args: asked.append(args[2]) or ask(*args))
    with transaction.atomic():
        held = CALL_LIFECYCLE.check(call, "close", actor=manager)
        CALL_LIFECYCLE.apply(call, "close", actor=manager, locked=held)
    assert asked == [manager]

    asked.clear()
    reopened = CallFactory(status=CallStatus.OPEN)
    with transaction.atomic():
        held = CALL_LIFECYCLE.check(reopened, "close", actor=manager_of(reopened))
        with pytest.raises(PermissionDenied):
            CALL_LIFECYCLE.apply(reopened, "close", actor=UserFactory(), locked=held)
    assert len(asked) == 2
    assert Call.objects.get(pk=reopened.pk).status == CallStatus.OPEN
