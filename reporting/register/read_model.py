"""The register's read model: kept in step with ``awards.visibility.published_awards``.

``RegisterEntry`` holds one row per award that rule gives now or will give when its releases
fall due (``published_awards(FOREVER)``), with ``visible_from``, so ``published_entries(now)``
is exactly ``published_awards(now)``. Every change that can move an award in or out of the
register or change what it lists (the award itself, its decision, call, bid, fund, recipient,
payments) calls ``register_sync`` for the awards it touches, inside the change's own
transaction; the hooks are connected in ``reporting.apps`` (earlier stages do not import this
one). Each sync moves ``RegisterVersion`` on, and the totals of a filter set are cached under
that version.
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


def _bump() -> None:
    if not RegisterVersion.objects.filter(pk=1).update(number=F("number") + 1, changed_at=timezone.now()):
        RegisterVersion.objects.get_or_create(pk=1, defaults={"number": 1})


def register_sync(*, award_ids: Iterable[int]) -> None:
    """Make the rows of these awards what ``published_awards`` says, in the caller's transaction."""
    award_ids = sorted({pk for pk in award_ids if pk is not None})
    if not award_ids:
        return
    with transaction.atomic():
        entries = [_entry(row) for row in _rows(published_awards(FOREVER, among=award_ids))]
        kept = {entry.award_id for entry in entries}
        RegisterEntry.objects.filter(award_id__in=[pk for pk in award_ids if pk not in kept]).delete()
        _write(entries)
        _bump()


def register_rebuild(progress=None) -> int:
    """The whole read model from scratch, in one transaction (idempotent). Returns its rows."""
    with transaction.atomic():
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
        _bump()
        if connection.vendor == "postgresql":  # fresh statistics, or the planner guesses from the old table
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(RegisterEntry._meta.db_table)}")
    return done


def register_version() -> int:
    return RegisterVersion.objects.filter(pk=1).values_list("number", flat=True).first() or 0


# Totals for a filter set, cached under the register's version --------------------------------


def cached_totals(entries: QuerySet[RegisterEntry], key: str, now: dt.datetime | None = None):
    """Number, amount awarded and paid of the filtered rows. Cached under the register version
    and the filter set ``key``; kept no later than the next scheduled release (when more rows
    become visible without any change being written)."""
    from .selectors import Totals

    now = now or timezone.now()
    cache_key = "register-totals:" + hashlib.sha256(f"{register_version()}|{key}".encode()).hexdigest()
    hit = cache.get(cache_key)
    if hit is not None and (hit[3] is None or now < hit[3]):
        return Totals(count=hit[0], awarded=hit[1], paid=hit[2])
    sums = entries.order_by().aggregate(awarded=Sum("amount"), paid=Sum("paid"), count=Count("pk"))
    following = RegisterEntry.objects.filter(visible_from__gt=now).aggregate(next=Min("visible_from"))["next"]
    totals = Totals(count=sums["count"] or 0, awarded=_money(sums["awarded"]), paid=_money(sums["paid"]))
    cache.set(cache_key, (totals.count, totals.awarded, totals.paid, following), TOTALS_SECONDS)
    return totals


def _money(value) -> Decimal:
    return Decimal("0.00") if value is None else Decimal(value).quantize(Decimal("0.01"))


# The changes that move the register, as model signals (connected in ``reporting.apps``) -------


def award_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        register_sync(award_ids=[instance.pk])


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
    from django.db.models.signals import post_delete, post_save

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
