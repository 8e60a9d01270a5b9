"""The version of everything the public sees, in one cheap query: the validator (``ETag`` and
``Last-Modified``) of every public page, the open data and the API, and the version the open data
files are built for.

It changes whenever what a public page shows can change: an award changes (status, amounts,
anything saved), a decision is released, a call is saved (published, extended, closed, decisions
released), an organisation is renamed, a monitoring return moves on, an impact report version is
published or withdrawn, a payment or commitment is written to the pot ledger. It also changes at
the next moment a call opens or closes, since the list of open calls changes then without any
row changing, and at the next scheduled release of an award (its ``visible_from`` in the register's
read model); and whenever the read model moves on (``RegisterVersion``). Each part is the end of an index (``reporting/migrations/0005``) or a primary key,
so the query costs the same at 50 or 500,000 awards.

Public things are never deleted (awards, released decisions and published reports change status;
organisations named on awards are protected), so "latest change" is enough.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from assessment.models import PanelDecision
from awards.models import Award, PotLedgerEntry
from governance.models import Call, Organisation

from ..models import MonitoringReturn, RegisterEntry, RegisterVersion, ReportVersion


@dataclass(frozen=True)
class PublicVersion:
    token: str  # changes whenever anything public changes
    last_modified: dt.datetime | None  # the latest change (for Last-Modified)
    next_change: dt.datetime | None  # the next moment a call opens or closes, or an award is released

    def etag(self, *parts: str) -> str:
        """A strong ETag for one representation (its path and query) of this version."""
        text = "|".join([self.token, *parts])
        return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def _moment(value) -> dt.datetime | None:
    """A timestamp from a raw query: PostgreSQL gives datetimes, SQLite gives UTC text."""
    if value is None or isinstance(value, dt.datetime):
        return value
    moment = dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def public_version(now: dt.datetime | None = None) -> PublicVersion:
    """One query: the latest change to anything public, and the next time a call opens or closes."""
    now = now or timezone.now()
    award, call, org, decision = _table(Award), _table(Call), _table(Organisation), _table(PanelDecision)
    returns, reports, ledger = _table(MonitoringReturn), _table(ReportVersion), _table(PotLedgerEntry)
    register, entries = _table(RegisterVersion), _table(RegisterEntry)
    # Only fixed table and column names are formatted in; the moment is a parameter.
    latest = [
        f"(SELECT MAX(updated_at) FROM {award})",  # noqa: S608
        f"(SELECT MAX(released_at) FROM {decision})",  # noqa: S608
        f"(SELECT MAX(updated_at) FROM {call})",  # noqa: S608
        f"(SELECT MAX(updated_at) FROM {org})",  # noqa: S608
        f"(SELECT MAX(updated_at) FROM {returns})",  # noqa: S608
        f"(SELECT MAX(published_at) FROM {reports})",  # noqa: S608
        f"(SELECT MAX(unpublished_at) FROM {reports})",  # noqa: S608
    ]
    counters = [f"(SELECT MAX(id) FROM {award})", f"(SELECT MAX(id) FROM {ledger})",  # noqa: S608
                f"(SELECT MAX(id) FROM {reports})",  # noqa: S608
                # The register's read model moves on with every change to what it lists (a bid's
                # type of innovation, a decision's score, a fund's name), not only the above.
                f"(SELECT MAX(number) FROM {register})"]  # noqa: S608
    upcoming = [f"(SELECT MIN(opens_at) FROM {call} WHERE opens_at > %s)",  # noqa: S608
                f"(SELECT MIN(closes_at) FROM {call} WHERE closes_at > %s)",  # noqa: S608
                # A two-stage call's page changes when its expressions of interest open and close.
                f"(SELECT MIN(eoi_opens_at) FROM {call} WHERE eoi_opens_at > %s)",  # noqa: S608
                f"(SELECT MIN(eoi_closes_at) FROM {call} WHERE eoi_closes_at > %s)",  # noqa: S608
                # An award whose release is scheduled becomes public then, with no row written.
                f"(SELECT MIN(visible_from) FROM {entries} WHERE visible_from > %s)"]  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join([*latest, *counters, *upcoming])}", [now] * len(upcoming))
        row = cursor.fetchone()
    moments = [_moment(value) for value in row[:len(latest)]]
    next_moments = [m for m in (_moment(value) for value in row[-len(upcoming):]) if m is not None]
    parts = [m.isoformat() if m else "-" for m in moments] + [str(value) for value in row[len(latest):-len(upcoming)]]
    # The next opening or closing is part of the token once it has passed, not before: the
    # token stays the same between boundaries (so caches keep their copies) and changes at each.
    parts.append(min(next_moments).isoformat() if next_moments else "-")
    known = [m for m in moments if m is not None]
    return PublicVersion(
        token=hashlib.sha256("|".join(parts).encode()).hexdigest()[:32],
        last_modified=max(known) if known else None,
        next_change=min(next_moments) if next_moments else None,
    )
