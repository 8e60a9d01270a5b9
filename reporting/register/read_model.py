"""The register's read model: kept in step with ``awards.visibility.published_awards``.

``RegisterEntry`` holds one row per award that rule gives now or will give when its releases
fall due (``published_awards(FOREVER)``), with ``visible_from``, so ``published_entries(now)``
is exactly ``published_awards(now)``. Every change that can move an award in or out of the
register or change what it lists (the award itself, its decision, call, bid, fund, recipient,
payments) calls ``register_sync`` for the awards it touches, inside the change's own
transaction; the hooks are connected in ``reporting.apps`` (earlier stages do not import this
one). Each sync moves ``RegisterVersion`` on, and the totals of a filter set are cached under
that version. The version row also keeps running totals of every row, changed by each sync by
the difference it makes: the unfiltered register's totals are read from them (``public_totals``)
instead of adding up every row again after each change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from decimal import Decimal

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, F, Min, QuerySet, Sum
from django.utils import timezone

from applications.models import Bid
from assessment.models import PanelDecision
from awards.models import Award, PotLedgerEntry
from awards.visibility import published_awards
from governance.models import Call, Fund, Organisation

from ..models import RegisterEntry, RegisterVersion

# Later than any release date: ``published_awards(FOREVER)`` is every award that is public or
# will be once its (possibly scheduled) releases are due.
FOREVER = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
BATCH = 2000
TOTALS_SECONDS = 3600
ZERO = Decimal("0.00")
COPIED = (
    "reference", "title", "description", "amount", "status", "start_date", "end_date", "bid_id", "recipient_id",
    "recipient_name", "recipient_ods_code", "recipient_kind", "recipient_region", "recipient_network_id", "call_id",
    "call_purpose", "innovation_type", "fund_id", "decided_at", "score", "paid", "visible_from",
)
UPDATED = list(COPIED)


def published_entries(now: dt.datetime | None = None) -> QuerySet[RegisterEntry]:
    """The read model's rows of ``published_awards(now)``."""
    return RegisterEntry.objects.filter(visible_from__lte=now or timezone.now())


def _rows(awards: QuerySet[Award]):
    from .selectors import paid_subquery

    return (
        awards.order_by("pk")
        .annotate(paid=paid_subquery())
        .values_list(
            "pk", "reference", "title", "description", "amount", "status", "start_date", "end_date", "bid_id",
            "recipient_id", "recipient__name", "recipient__ods_code", "recipient__kind", "recipient__region",
            "recipient__network_id", "bid__call_id", "bid__call__purpose", "bid__innovation_type", "pot__fund_id",
            "decision__decided_at", "decision__score", "paid", "decision__released_at", "bid__call__decisions_released_at",
        )
    )


def _entry(row) -> RegisterEntry:
    pk, *values, released, call_released = row
    values[COPIED.index("recipient_ods_code")] = values[COPIED.index("recipient_ods_code")] or ""
    values[COPIED.index("recipient_region")] = values[COPIED.index("recipient_region")] or ""
    values[COPIED.index("innovation_type")] = values[COPIED.index("innovation_type")] or ""
    return RegisterEntry(award_id=pk, **dict(zip(COPIED[:-1], values, strict=True)), visible_from=max(released, call_released))


def _write(entries: list[RegisterEntry]) -> None:
    if entries:
        RegisterEntry.objects.bulk_create(entries, update_conflicts=True, unique_fields=["award"], update_fields=UPDATED)
        _vectorise(RegisterEntry.objects.filter(pk__in=[entry.award_id for entry in entries]))


def _vectorise(rows: QuerySet[RegisterEntry]) -> None:
    """PostgreSQL: store each row's search vector (the register's search reads it)."""
    if connection.vendor == "postgresql":
        from .selectors import award_search_vector

        rows.update(search=award_search_vector())


# Every writer of the read model takes the version row's lock first, so the running totals on
# it move by one change's difference at a time and always match the table.


def _locked_version() -> None:
    """Lock the version row until the transaction ends (made, with the table's totals, if missing)."""
    if RegisterVersion.objects.select_for_update().filter(pk=1).exists():
        return
    sums = _sums(RegisterEntry.objects.all())
    RegisterVersion.objects.get_or_create(pk=1, defaults={"number": 0, "entries": sums[0], "awarded": sums[1], "paid": sums[2]})
    RegisterVersion.objects.select_for_update().filter(pk=1).exists()


def _sums(rows: QuerySet[RegisterEntry]) -> tuple[int, Decimal, Decimal]:
    """How many rows, their amounts and what has been paid on them."""
    sums = rows.order_by().aggregate(count=Count("pk"), awarded=Sum("amount"), paid=Sum("paid"))
    return sums["count"] or 0, _money(sums["awarded"]), _money(sums["paid"])


def _move(change: tuple[int, Decimal, Decimal] | None = None, *, to: tuple[int, Decimal, Decimal] | None = None) -> None:
    """Move the version on, and its running totals by ``change`` (or set them ``to``)."""
    if to is not None:
        totals = {"entries": to[0], "awarded": to[1], "paid": to[2]}
    else:
        count, awarded, paid = change or (0, ZERO, ZERO)
        totals = {"entries": F("entries") + count, "awarded": F("awarded") + awarded, "paid": F("paid") + paid}
    RegisterVersion.objects.filter(pk=1).update(number=F("number") + 1, changed_at=timezone.now(), **totals)


def register_sync(*, award_ids: Iterable[int], leaving: bool = False) -> None:
    """Make the rows of these awards what ``published_awards`` says, in the caller's transaction,
    and the running totals follow by the difference (``leaving``: the awards are being deleted)."""
    award_ids = sorted({pk for pk in award_ids if pk is not None})
    if not award_ids:
        return
    with transaction.atomic():
        _locked_version()
        before = _sums(RegisterEntry.objects.filter(award_id__in=award_ids))
        entries = [] if leaving else [_entry(row) for row in _rows(published_awards(FOREVER, among=award_ids))]
        kept = {entry.award_id for entry in entries}
        RegisterEntry.objects.filter(award_id__in=[pk for pk in award_ids if pk not in kept]).delete()
        _write(entries)
        after = (len(entries), sum((entry.amount for entry in entries), ZERO), sum((entry.paid for entry in entries), ZERO))
        _move((after[0] - before[0], after[1] - before[1], after[2] - before[2]))


def register_rebuild(progress=None) -> int:
    """The whole read model from scratch, in one transaction (idempotent). Returns its rows."""
    with transaction.atomic():
        _locked_version()
        RegisterEntry.objects.all().delete()
        done = 0
        batch: list[RegisterEntry] = []
        for row in _rows(published_awards(FOREVER)).iterator(chunk_size=BATCH):
            batch.append(_entry(row))
            if len(batch) >= BATCH:
                RegisterEntry.objects.bulk_create(batch)
                done += len(batch)
                batch = []
                if progress:
                    progress(done)
        RegisterEntry.objects.bulk_create(batch)
        done += len(batch)
        _vectorise(RegisterEntry.objects.all())
        register_recount()
        if connection.vendor == "postgresql":  # fresh statistics, or the planner guesses from the old table
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(RegisterEntry._meta.db_table)}")
    return done


def register_recount() -> None:
    """After the read model was written wholesale (a rebuild, a bulk load): the running totals
    from the table itself, and the version moved on."""
    with transaction.atomic():
        _locked_version()
        _move(to=_sums(RegisterEntry.objects.all()))


def register_version() -> int:
    return RegisterVersion.objects.filter(pk=1).values_list("number", flat=True).first() or 0


# Totals for a filter set, cached under the register's version --------------------------------


def public_totals(now: dt.datetime | None = None):
    """Number, amount awarded and paid of the whole register at ``now``: the version row's
    running totals less the rows not visible yet (releases still to come: few, read from the
    ``visible_from`` index), in one statement so both come from the same moment. Exactly the
    ``COUNT``/``SUM`` of ``published_entries(now)``, at a cost that does not grow with the register."""
    from .selectors import Totals

    quote = connection.ops.quote_name
    version, entry = quote(RegisterVersion._meta.db_table), quote(RegisterEntry._meta.db_table)
    # Only table and column names from the models are formatted in; the moment is a parameter.
    statement = (
        f"SELECT v.{quote('entries')} - COALESCE(f.n, 0), v.{quote('awarded')} - COALESCE(f.a, 0), "  # noqa: S608
        f"v.{quote('paid')} - COALESCE(f.p, 0) FROM {version} v CROSS JOIN (SELECT COUNT(*) AS n, "
        f"SUM({quote('amount')}) AS a, SUM({quote('paid')}) AS p FROM {entry} WHERE {quote('visible_from')} > %s) f "
        f"WHERE v.{quote('id')} = 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [now or timezone.now()])
        row = cursor.fetchone()
    if row is None:  # no version row yet (never built): add the rows up
        sums = _sums(published_entries(now))
        return Totals(count=sums[0], awarded=sums[1], paid=sums[2])
    return Totals(count=int(row[0]), awarded=_money(row[1]), paid=_money(row[2]))


def cached_totals(entries: QuerySet[RegisterEntry], key: str, now: dt.datetime | None = None, *, limit: int | None = None):
    """Number, amount awarded and paid of the filtered rows. Cached under the register version
    and the filter set ``key``; kept no later than the next scheduled release (when more rows
    become visible without any change being written).

    With ``limit`` (a search), no more than ``limit + 1`` rows are added up: if there are more
    than ``limit``, the totals say only that (``more``, ``count`` is ``limit``, no amounts)."""
    from .selectors import Totals

    now = now or timezone.now()
    cache_key = "register-totals:" + hashlib.sha256(f"{register_version()}|{key}|{limit}".encode()).hexdigest()
    hit = cache.get(cache_key)
    if hit is not None and len(hit) == 5 and (hit[3] is None or now < hit[3]):
        return Totals(count=hit[0], awarded=hit[1], paid=hit[2], more=hit[4])
    if limit is None:
        count, awarded, paid = _sums(entries)
        more = False
    else:
        count, awarded, paid = _first_sums(entries, limit + 1)
        more = count > limit
        if more:
            count, awarded, paid = limit, ZERO, ZERO
    following = RegisterEntry.objects.filter(visible_from__gt=now).aggregate(next=Min("visible_from"))["next"]
    totals = Totals(count=count, awarded=awarded, paid=paid, more=more)
    cache.set(cache_key, (totals.count, totals.awarded, totals.paid, following, more), TOTALS_SECONDS)
    return totals


def _first_sums(entries: QuerySet[RegisterEntry], rows: int) -> tuple[int, Decimal, Decimal]:
    """``_sums`` of no more than the first ``rows`` of ``entries`` (in no particular order)."""
    sql, params = entries.order_by().values_list("amount", "paid")[:rows].query.sql_with_params()
    quote = connection.ops.quote_name
    # The inner query is Django's own, its values parameters; only column names are formatted in.
    statement = f"SELECT COUNT(*), SUM(s.{quote('amount')}), SUM(s.{quote('paid')}) FROM ({sql}) s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        count, awarded, paid = cursor.fetchone()
    return int(count or 0), _money(awarded), _money(paid)


def _money(value) -> Decimal:
    return ZERO if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


# The changes that move the register, as model signals (connected in ``reporting.apps``) -------


def award_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        register_sync(award_ids=[instance.pk])


def award_deleting(sender, instance, **kwargs):
    """Before an award is deleted: its row leaves the read model and the running totals (the
    deletion would otherwise remove the row by cascade, behind the totals' back)."""
    register_sync(award_ids=[instance.pk], leaving=True)


def ledger_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        register_sync(award_ids=[instance.award_id])


def _awards_by(lookup: str):
    """A receiver that syncs the awards whose ``lookup`` is the saved row (its decision, call,
    bid, fund or recipient)."""

    def saved(sender, instance, raw=False, **kwargs):
        if not raw:
            register_sync(award_ids=Award.objects.filter(**{lookup: instance.pk}).values_list("pk", flat=True))

    saved.__name__ = f"awards_by_{lookup}"
    return saved


HOOKS = (
    (Award, award_saved, True),
    (PanelDecision, _awards_by("decision_id"), False),
    (Call, _awards_by("bid__call_id"), False),
    (Bid, _awards_by("bid_id"), False),
    (Fund, _awards_by("pot__fund_id"), False),
    (Organisation, _awards_by("recipient_id"), False),
    (PotLedgerEntry, ledger_changed, True),
)


def connect() -> None:
    from django.db.models.signals import post_delete, post_save, pre_delete

    pre_delete.connect(award_deleting, sender=Award, dispatch_uid="register.award_deleting")
    for model, receiver, on_delete in HOOKS:
        post_save.connect(receiver, sender=model, dispatch_uid=f"register.{receiver.__name__}")
        if on_delete:
            post_delete.connect(receiver, sender=model, dispatch_uid=f"register.{receiver.__name__}.delete")


def build_if_never_built(**kwargs) -> None:
    """After ``migrate``: a database that has never had its read model gets one (not when the
    migration that makes it was just undone)."""
    if RegisterVersion._meta.db_table not in connection.introspection.table_names():
        return
    if not RegisterVersion.objects.exists():
        register_rebuild()
