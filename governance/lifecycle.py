"""Lifecycles as tables: each thing that changes state (a call, a bid, an award …) declares its
states and transitions once, in ``<app>/lifecycle.py``, and every change goes through
:meth:`Lifecycle.apply`, which locks the row, checks the state and the actor's permission, saves
and writes the audit event. Services stay the public API: they validate their own inputs, call
``apply`` and then do what follows (emails, signals).

The same table answers "what can happen next?" for pages (:meth:`Lifecycle.actions_from`) and
draws the diagram on the scoring-method page and in DESIGN.md (:meth:`Lifecycle.mermaid`).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction

from governance.access import ACTOR_NOT_ALLOWED, require_actor
from governance.audit import audit_record, snapshot

M = TypeVar("M", bound=models.Model)

# ValidationError fills %(name)s placeholders from its params.
TRANSITION_NOT_ALLOWED = "This %(thing)s is %(status)s, so it cannot be %(verb)s."

# Every lifecycle declared anywhere, by name, for the diagrams and the walk test. Apps import
# their ``lifecycle`` module in ``AppConfig.ready`` so the registry is complete once Django is.
REGISTRY: dict[str, Lifecycle[Any]] = {}


@dataclass(frozen=True)
class Transition:
    """One row of a lifecycle table: ``action`` moves a row from any of ``sources`` to ``target``.

    ``permission`` is the Django permission the actor needs on the object (the same one the view
    asks); empty: no person may, only the portal (with ``system``). ``system`` lets the portal
    itself (a scheduled task, ``actor=None``) make the change. ``audit`` is the audit event's
    action, empty for a step that writes none (a build starting: its outcome is what is
    recorded); ``verb`` reads in messages ("cannot be {verb}"). ``refusal`` (a ``%(status)s``-style
    message, with ``refusal_code``) replaces the lifecycle's refusal for this action only.
    """

    action: str
    sources: frozenset[str]
    target: str
    permission: str
    audit: str
    verb: str
    system: bool = False
    refusal: str = ""
    refusal_code: str = ""

    def __init__(self, action: str, sources: Iterable[str], target: str, *, permission: str, audit: str,
                 verb: str, system: bool = False, refusal: str = "", refusal_code: str = "") -> None:
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "sources", frozenset(str(s) for s in sources))
        object.__setattr__(self, "target", str(target))
        object.__setattr__(self, "permission", permission)
        object.__setattr__(self, "audit", audit)
        object.__setattr__(self, "verb", verb)
        object.__setattr__(self, "system", system)
        object.__setattr__(self, "refusal", refusal)
        object.__setattr__(self, "refusal_code", refusal_code)


@dataclass
class Lifecycle(Generic[M]):
    """The states a model's ``field`` takes and the transitions between them."""

    name: str
    model: type[M]
    states: type[models.TextChoices]
    transitions: Sequence[Transition]
    field: str = "status"
    thing: str = ""
    # Fields recorded in the audit event's before/after besides the state field.
    audit_fields: tuple[str, ...] = ()
    # The refusal when the row is in the wrong state, if the app words it its own way: a
    # ``%(status)s``-style message given ``thing``, ``status``, ``verb`` (and ``action``, the verb).
    refusal: str = ""
    refusal_code: str = "transition_not_allowed"
    # The object the permission is asked on, when it is not the row itself (a condition's award).
    permission_object: Callable[[Any], Any] | None = None
    # The object the audit event is about, when it is not the row itself (an offer letter's award).
    audit_target: Callable[[Any], Any] | None = None
    # How the row is checked before saving, when not ``full_clean()`` (a bid skips re-reading
    # its linked rows).
    validate: Callable[[Any], None] | None = None
    _by_action: dict[str, Transition] = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.thing = self.thing or str(self.model._meta.verbose_name)
        known = {str(value) for value in self.states.values}
        self._by_action = {}
        for row in self.transitions:
            if row.action in self._by_action:
                raise ValueError(f"{self.name}: action {row.action!r} is declared twice")
            unknown = (row.sources | {row.target}) - known
            if unknown:
                raise ValueError(f"{self.name}: {row.action!r} names unknown states {sorted(unknown)}")
            self._by_action[row.action] = row
        REGISTRY[self.name] = self

    # Reading the table ----------------------------------------------------------------------------

    def transition(self, action: str) -> Transition:
        try:
            return self._by_action[action]
        except KeyError:
            raise ValueError(f"{self.name} has no action {action!r}") from None

    def actions_from(self, state: str) -> list[Transition]:
        return [row for row in self.transitions if str(state) in row.sources]

    def allows(self, state: str, action: str) -> bool:
        return str(state) in self.transition(action).sources

    def can(self, obj: M, action: str, actor: Any) -> bool:
        """Whether ``actor`` could make this change now (for showing or hiding a button)."""
        row = self.transition(action)
        if str(getattr(obj, self.field)) not in row.sources:
            return False
        try:
            self._require_actor(obj, row, actor)
        except PermissionDenied:
            return False
        return True

    def require_permission(self, obj: M, action: str, actor: Any) -> None:
        """PermissionDenied unless ``actor`` may take ``action`` on ``obj`` (whatever its state)."""
        self._require_actor(obj, self.transition(action), actor)

    def require_state(self, obj: M, action: str) -> None:
        """The refusal (ValidationError) unless ``obj`` is in a state ``action`` starts from."""
        row = self.transition(action)
        if str(getattr(obj, self.field)) not in row.sources:
            raise self.refuse(obj, row)

    def check(self, obj: M, action: str, *, actor: Any) -> M:
        """Check who may, lock the row and check its state: the first half of ``apply``, for
        services that check more on the locked row before ``apply(..., locked=row)``. Call it
        inside the service's transaction."""
        self.require_permission(obj, action, actor)
        locked = self.lock(obj)
        self.require_state(locked, action)
        # ``apply(..., locked=row)`` for the same action and person need not ask the rules again.
        locked._lifecycle_checked = (self, action, actor)  # type: ignore[attr-defined]
        return locked

    def _checked(self, locked: M | None, action: str, actor: Any) -> bool:
        """Was ``locked`` returned by ``check`` for this action and this person?"""
        mark = getattr(locked, "_lifecycle_checked", None)
        return mark is not None and mark[0] is self and mark[1] == action and mark[2] is actor

    def _require_actor(self, obj: M, row: Transition, actor: Any) -> None:
        if actor is None:  # the portal itself: no object to ask about
            require_actor(None, row.permission, system=row.system)
            return
        if not row.permission:
            raise PermissionDenied(ACTOR_NOT_ALLOWED)
        require_actor(actor, row.permission, self.checked_object(obj), system=row.system)

    def checked_object(self, obj: M) -> Any:
        """The object the permission is asked on (see ``permission_object``)."""
        return self.permission_object(obj) if self.permission_object is not None else obj

    def final_states(self) -> list[str]:
        sources = {state for row in self.transitions for state in row.sources}
        return [str(value) for value in self.states.values if str(value) not in sources]

    def mermaid(self) -> str:
        """The lifecycle as a Mermaid state diagram, drawn from the table."""
        labels = dict(self.states.choices)
        lines = ["stateDiagram-v2"]
        for value in self.states.values:
            lines.append(f"    {value}: {labels[value]}")
        for row in self.transitions:
            for source in sorted(row.sources):
                lines.append(f"    {source} --> {row.target}: {row.verb}")
        return "\n".join(lines)

    # Changing state ------------------------------------------------------------------------------

    def lock(self, obj: M) -> M:
        # of=("self",): PostgreSQL refuses FOR UPDATE across the nullable side of an outer join.
        return self.model._default_manager.select_for_update(of=("self",)).get(pk=obj.pk)

    def refuse(self, obj: M, row: Transition) -> ValidationError:
        status = getattr(obj, f"get_{self.field}_display")().lower()
        refusal = row.refusal or self.refusal
        if refusal:
            return ValidationError(refusal, code=row.refusal_code or self.refusal_code, params={
                "thing": self.thing, "status": status, "verb": row.verb, "action": row.verb})
        return ValidationError(TRANSITION_NOT_ALLOWED, code="transition_not_allowed",
                               params={"thing": self.thing, "status": status, "verb": row.verb})

    @transaction.atomic
    def apply(self, obj: M, action: str, *, actor: Any, changes: Mapping[str, Any] | None = None,
              message: str = "", locked: M | None = None, clean: bool = True,
              recorded: Sequence[str] | None = None, audit_before: Mapping[str, Any] | None = None,
              audit_after: Mapping[str, Any] | None = None) -> M:
        """Make the change: check who may, lock the row, check the state, save, audit.

        Returns the locked, saved row; ``obj`` is refreshed too so callers holding it see the
        change. Pass ``locked`` when the service already holds the row lock (it checked other
        things on it first). The audit event records the state field, ``audit_fields`` and the
        changed fields, or just the fields in ``recorded`` when given; ``audit_before`` and
        ``audit_after`` add values that are not fields of the row (money released, a letter's
        version). To record only given values, pass ``recorded=()`` with them; an empty side
        then records nothing.
        """
        row = self.transition(action)
        if not self._checked(locked, action, actor):
            self._require_actor(obj, row, actor)
        current = locked if locked is not None else self.lock(obj)
        if str(getattr(current, self.field)) not in row.sources:
            raise self.refuse(current, row)
        if recorded is None:
            recorded = (self.field, *self.audit_fields, *(changes or {}))
        recorded = tuple(dict.fromkeys(recorded))
        before = {**snapshot(current, recorded), **(audit_before or {})}
        setattr(current, self.field, row.target)
        for name, value in (changes or {}).items():
            setattr(current, name, value)
        if clean:
            if self.validate is not None:
                self.validate(current)
            else:
                current.full_clean()
        current.save()
        after = {**snapshot(current, recorded), **(audit_after or {})}
        if row.audit:
            target = self.audit_target(current) if self.audit_target is not None else current
            audit_record(actor=actor, action=row.audit, target=target, before=before or None, after=after or None,
                         message=message)
        if current is not obj:
            for name in (self.field, *recorded, *(changes or {})):
                setattr(obj, name, getattr(current, name))
        return current
