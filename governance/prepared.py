"""Queries whose SQL is built once per process, then run with each request's values.

Turning a queryset into SQL (Django's compiler: joins, selected columns, ``EXISTS`` subqueries)
costs more CPU than PostgreSQL spends answering a lookup by key: about 1.6 ms for a bid with its
six linked rows and 1.8 ms for the second-factor question, asked on every page a writer opens in
the last minute before a call closes. A ``PreparedQuery`` builds its queryset once, with stand-in
values for its arguments, keeps the compiled SQL and the compiler's map of columns to models, and
from then on runs that SQL with the real values through Django's own iterables, so the result is
what the queryset itself would give: model instances with their ``select_related`` rows, or the
tuples of ``values_list``.

Only for queries whose shape does not depend on the values (a lookup by key, a user's rows): the
values must be integers passed as arguments, and nothing that changes between requests (the time,
a setting) may be baked into the queryset the builder returns.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError

T = TypeVar("T")

# Stand-ins for the arguments while the SQL is built: integers no key or count ever takes.
_STAND_IN = -(2**62)


@dataclass(frozen=True)
class _Compiled:
    queryset: QuerySet[Any]
    compiler: Any
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int], ...]  # (position in params, argument number)


class PreparedQuery(Generic[T]):
    """``build(*arguments)`` returns the queryset; call ``list``, ``first`` or ``get`` with
    the arguments (integers) to run it."""

    def __init__(self, build: Callable[..., QuerySet[Any]], *, arguments: int = 1) -> None:
        self._build = build
        self._arguments = arguments
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
        compiled = self._compiled.get(alias)
        if compiled is not None:
            return compiled
        stand_ins = [_STAND_IN - number for number in range(self._arguments)]
        queryset = self._build(*stand_ins).using(alias)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = tuple(
            (position, stand_ins.index(value))
            for position, value in enumerate(params)
            if type(value) is int and value in stand_ins
        )
        if {argument for _, argument in slots} != set(range(self._arguments)):
            raise ValueError("Every argument of a prepared query must reach its SQL as a parameter")
        compiled = _Compiled(queryset, compiler, sql, tuple(params), slots)
        self._compiled[alias] = compiled  # a race builds it twice, the same both times
        return compiled

    def _queryset(self, values: tuple[int, ...], using: str | None) -> QuerySet[Any]:
        if len(values) != self._arguments or any(type(value) is not int for value in values):
            raise TypeError(f"A prepared query takes {self._arguments} integer argument(s)")
        alias = using or DEFAULT_DB_ALIAS
        compiled = self._compile(alias)
        connection = connections[alias]
        # As Django's compiler refuses it: a lock outside a transaction would be let go at once.
        locks = compiled.queryset.query.select_for_update and connection.features.has_select_for_update
        if locks and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = list(compiled.params)
        for position, argument in compiled.slots:
            params[position] = values[argument]
        # A copy of the compiler that was set up once: its selected columns and the models they
        # fill are the same for any values; only the connection (one per thread) and the
        # parameters are this call's.
        compiler = copy.copy(compiled.compiler)
        compiler.connection = connection
        compiler.as_sql = lambda *args, **kwargs: (compiled.sql, params)
        # A clone: copying a queryset with ``copy`` would run it (its pickling state is its rows).
        queryset = compiled.queryset._chain()  # type: ignore[attr-defined]
        queryset.query.get_compiler = lambda *args, **kwargs: compiler
        return queryset

    def list(self, *values: int, using: str | None = None) -> list[T]:
        return list(self._queryset(values, using))

    def first(self, *values: int, using: str | None = None) -> T | None:
        rows = self.list(*values, using=using)
        return rows[0] if rows else None

    def get(self, *values: int, using: str | None = None) -> T:
        rows = self.list(*values, using=using)
        if len(rows) != 1:
            model: Any = self._compile(using or DEFAULT_DB_ALIAS).queryset.model
            if not rows:
                raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
            raise model.MultipleObjectsReturned(f"get() returned more than one {model._meta.object_name}")
        return rows[0]
