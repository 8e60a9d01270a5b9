"""Shared by the ``test_lifecycle.py`` files: walk every (state, action, role) of a lifecycle
table. For each, a fresh row is put in the state, the role tries the action through
``Lifecycle.apply``, and the outcome must be what the table says: allowed only from a source
state and only for a role holding the transition's permission (or the portal itself, for a
system transition). An allowed change lands on the target with one audit event; a refused one
changes nothing and writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction

from governance.lifecycle import Lifecycle, Transition
from governance.models import AuditEvent

# A role is a name and a function giving that person (or None: the portal itself) for a row.
RoleMaker = Callable[[models.Model], Any]


def walk_cases(lifecycle: Lifecycle, roles: Mapping[str, RoleMaker]) -> list[Any]:
    """pytest parameters: one per (state, action, role), with readable ids."""
    return [
        pytest.param(str(state), row.action, role, id=f"{state}-{row.action}-{role}")
        for state in lifecycle.states.values
        for row in lifecycle.transitions
        for role in roles
    ]


def check_step(lifecycle: Lifecycle, *, state: str, action: str, role: str, roles: Mapping[str, RoleMaker],
               make: Callable[[str], models.Model], may: Callable[[Transition, str], bool],
               changes: Mapping[str, Any] | None = None) -> None:
    """Try one (state, action, role) and check it against the table.

    ``make(state)`` gives a saved row in that state; ``may(row, role)`` says whether the role
    holds the transition's permission (the walk works out the state part itself)."""
    obj = make(state)
    actor = roles[role](obj)
    row = lifecycle.transition(action)
    events = AuditEvent.objects.count()
    allowed_state = state in row.sources
    allowed_actor = (row.system if actor is None else may(row, role))
    if allowed_actor and allowed_state:
        lifecycle.apply(obj, action, actor=actor, changes=changes)
        obj.refresh_from_db()
        assert getattr(obj, lifecycle.field) == row.target
        if not row.audit:  # a step the table marks as writing no event
            assert AuditEvent.objects.count() == events
            return
        assert AuditEvent.objects.count() == events + 1
        assert AuditEvent.objects.latest("pk").action == row.audit
        return
    refusal: type[Exception] = ValidationError if allowed_actor else PermissionDenied
    with pytest.raises(refusal):
        lifecycle.apply(obj, action, actor=actor, changes=changes)
    obj.refresh_from_db()
    assert getattr(obj, lifecycle.field) == state
    assert AuditEvent.objects.count() == events


class ModuleWorld:
    """Rows a walk's module makes once (a fund, a call, people) and its cases share: set
    ``world`` to what was built; other attributes may be added beside it, and anything else is
    read from ``world``."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["world"], name)


@contextmanager
def rolled_back(django_db_blocker: Any) -> Iterator[None]:
    """Inside a module-scoped fixture: a transaction rolled back when the module ends, so the
    rows made once for hundreds of cases never reach the next module."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
