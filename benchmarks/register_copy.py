"""The register benchmark's awards written with PostgreSQL ``COPY`` instead of ``bulk_create``.

Same data as ``tests/reporting/register_builders.bulk_register`` (same base of networks,
organisations, funds, pots, calls and criteria, made by its ``_bulk_base``; the same shape per
award: a funded bid with 1-2 partners, costs, a benefit measure, a released fund decision, the
award, its profile and commitments, and for a published, accepted award two approved returns with
their payments, a saving and a measure actual each; 2% more awards that are not public), but each
table's rows go to the server as one ``COPY ... FROM STDIN`` stream per slice, with their ids
reserved from the table's sequence up front, so no ``RETURNING`` and no model instances.

The register's read model is then written the way ``register_rebuild`` decides it: the rows of the
rule's own query (``read_model._rows(published_awards(FOREVER))``, the same SQL ``register_sync``
runs for a few awards) inserted by one ``INSERT ... SELECT`` on the server, the search vectors by
the same ``UPDATE`` as ``register_rebuild``, then the register version moved on and the tables
analysed. ``check_read_model`` compares a sample of rows with what ``register_sync`` would write.

Used by ``benchmarks/register.py --builder copy``; PostgreSQL only.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from applications.models import (
    BenefitMeasure,
    Bid,
    BidCost,
    BidPartner,
    BidStatus,
    CareSetting,
    SavingKind,
)
from assessment.models import DecisionOutcome, PanelDecision
from awards.models import Award, AwardStatus, AwardYear, LedgerEntryKind, PotLedgerEntry
from governance import fy
from governance.models import InnovationType, PartnerKind
from reporting.models import (
    MonitoringReturn,
    RegisterEntry,
    ReturnMeasureActual,
    ReturnSaving,
    ReturnStatus,
)
from tests.reporting.register_builders import STATUSES, WORDS, _bulk_base

TABLES: tuple[type[Model], ...] = (
    Bid, BidPartner, BidCost, BenefitMeasure, PanelDecision, Award, AwardYear, PotLedgerEntry,
    MonitoringReturn, ReturnSaving, ReturnMeasureActual,
)


class CopyTable:
    """One table's rows for ``COPY``: every concrete column, each row its model's defaults (as
    ``Model()`` and ``save()`` would give: ``auto_now`` fields now) with the given values over them."""

    def __init__(self, model: type[Model], now: dt.datetime):
        self.model = model
        self.table = model._meta.db_table
        fields = model._meta.concrete_fields
        self.columns = [field.column for field in fields]
        self.names = [field.attname for field in fields]
        defaults = []
        for field in fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now
            else:
                value = field.get_default()
            defaults.append(_plain(value))
        self.defaults = dict(zip(self.names, defaults, strict=True))
        self.rows: list[tuple] = []

    def add(self, **values) -> None:
        row = self.defaults | values
        self.rows.append(tuple(row[name] for name in self.names))

    def copy(self, cursor) -> int:
        columns = ", ".join(connection.ops.quote_name(column) for column in self.columns)
        with cursor.copy(f"COPY {connection.ops.quote_name(self.table)} ({columns}) FROM STDIN") as copy:
            for row in self.rows:
                copy.write_row(row)
        written, self.rows = len(self.rows), []
        return written


def _plain(value):
    """A default as COPY takes it: choices as their strings, JSON as text."""
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, str):
        return str(value)
    return value


class Ids:
    """Ids reserved from a table's own sequence, so rows can name each other before they are sent."""

    def __init__(self, cursor, model: type[Model]):
        self.cursor, self.table = cursor, model._meta.db_table

    def reserve(self, count: int) -> int:
        """The first of ``count`` consecutive new ids."""
        self.cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [self.table])
        sequence = self.cursor.fetchone()[0]
        self.cursor.execute("SELECT nextval(%s)", [sequence])
        first = self.cursor.fetchone()[0]
        self.cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
        return first


def copy_register(n: int, *, seed: int = 7, tag: str = "BENCH", returns_per_award: int = 2,
                  slice_size: int = 25_000, progress=None) -> dict:
    """``n`` published awards (and ``n // 50`` not public) with everything under them, written with
    COPY, then the register's read model. Returns the seconds each step took."""
    assert connection.vendor == "postgresql", "COPY needs PostgreSQL"
    timings: dict[str, float] = {}
    started = time.monotonic()
    rng = random.Random(seed)
    with transaction.atomic():
        base = _bulk_base(n, tag, rng)
    timings["base"] = time.monotonic() - started
    total = n + max(1, n // 50)
    now = timezone.now()
    tables = {model: CopyTable(model, now) for model in TABLES}
    rows = 0
    step = time.monotonic()
    for first in range(0, total, slice_size):
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor: COPY
            _slice(range(first, min(total, first + slice_size)), n, base, rng, returns_per_award, tables,
                   {model: Ids(cursor, model) for model in TABLES})
            for table in tables.values():
                rows += table.copy(raw)
        if progress:
            progress(min(total, first + slice_size), total)
    timings["copy"] = time.monotonic() - step
    timings["rows"] = rows
    step = time.monotonic()
    fill_read_model()
    timings["read_model"] = time.monotonic() - step
    step = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timings["analyze"] = time.monotonic() - step
    timings["total"] = time.monotonic() - started
    return {key: round(value, 1) for key, value in timings.items()}


def _slice(indexes: range, n: int, base: dict, rng: random.Random, returns_per_award: int,
           tables: dict[type[Model], CopyTable], ids: dict[type[Model], Ids]) -> None:
    tag, author, organisations, calls, pots, criteria = (
        base["tag"], base["author"], base["organisations"], base["calls"], base["pots"], base["criteria"]
    )
    org_count = len(organisations)
    count = len(indexes)
    # Every award has a bid, a measure, a decision; the other tables' counts depend on the rows, so
    # their ids are numbered here and reserved once the slice's rows are known.
    bid_id, measure_id, decision_id, award_id = (ids[model].reserve(count) for model in (Bid, BenefitMeasure, PanelDecision, Award))
    pending: dict[type[Model], list[dict]] = {model: [] for model in (BidPartner, BidCost, AwardYear, PotLedgerEntry, MonitoringReturn)}
    savings_and_actuals: list[tuple[int, dict, int, int, int]] = []  # (return index, its values, award, recipient, measure)
    for offset, i in enumerate(indexes):
        call_index = i % len(calls)
        call = calls[call_index]
        released = call.decisions_released_at
        lead = organisations[rng.randrange(org_count)]
        start = (released + dt.timedelta(days=30 + rng.randrange(60))).date().replace(day=1)
        end = start.replace(year=start.year + 2) - dt.timedelta(days=1)
        years = fy.years_spanning(start, end)
        title = f"{rng.choice(WORDS['what'])} for {rng.choice(WORDS['for'])} in {rng.choice(WORDS['place'])}"
        summary = f"{title}: adopting an approach proven elsewhere, with partners across the pathway. Case {i}."
        published = i < n
        status = rng.choice(STATUSES) if published else rng.choice([AwardStatus.DECLINED, AwardStatus.LAPSED, "unreleased"])
        amount = Decimal(rng.randrange(20, 900)) * 1000
        pot = pots[call_index % 2]
        bid, measure, decision, award = bid_id + offset, measure_id + offset, decision_id + offset, award_id + offset
        reference = f"{tag}-{i:06d}"
        innovation = rng.choice(InnovationType.values)
        tables[Bid].add(
            id=bid, call_id=call.pk, lead_organisation_id=lead.pk, pot_id=pot.pk, reference=reference, title=title,
            status=str(BidStatus.FUNDED), summary=summary, start_date=start, end_date=end, innovation_type=innovation,
            created_by_id=author.pk, submitted_at=call.closes_at - dt.timedelta(days=3), submitted_by_id=author.pk,
        )
        for j in range(1 + offset % 2):
            partner = organisations[(offset * 7 + j + 1) % org_count]
            if partner.pk != lead.pk:
                pending[BidPartner].append({
                    "bid_id": bid, "organisation_id": partner.pk, "contribution": "Referrals and data.",
                    "role": str(PartnerKind.COMMISSIONER if j == 0 else PartnerKind.PRIMARY_CARE)})
        for year in years[:2]:
            pending[BidCost].append({"bid_id": bid, "financial_year": year, "category": "staff", "amount": amount / 2 + 5000})
        tables[BenefitMeasure].add(id=measure, bid_id=bid, name="Bed days avoided", unit="days", baseline=0, target=1000,
                                   target_date=end)
        tables[PanelDecision].add(
            id=decision, bid_id=bid, outcome=str(DecisionOutcome.FUND), amount_approved=amount,
            public_reason="Above the funding line.", rank=1 + offset % 10, score=Decimal(50 + offset % 50),
            above_funding_line=True, decided_by_id=author.pk,
            criterion_scores=json.dumps({str(pk): f"{1 + (offset + p) % 4}.00" for p, pk in enumerate(criteria[call.pk])}),
            decided_at=released - dt.timedelta(days=10), released_at=None if status == "unreleased" else released,
        )
        award_status = str(AwardStatus.OFFERED if status == "unreleased" else status)
        tables[Award].add(
            id=award, decision_id=decision, bid_id=bid, pot_id=pot.pk, recipient_id=lead.pk, reference=reference,
            title=title, description=summary, amount=amount, start_date=start, end_date=end, status=award_status,
            offer_deadline=start, issued_by_id=author.pk, issued_at=released + dt.timedelta(days=2),
        )
        share = (amount / len(years)).quantize(Decimal("0.01"))
        for index, year in enumerate(years):
            part = share if index < len(years) - 1 else amount - share * (len(years) - 1)
            pending[AwardYear].append({"award_id": award, "financial_year": year, "amount": part})
            pending[PotLedgerEntry].append({"pot_id": pot.pk, "financial_year": year, "kind": str(LedgerEntryKind.COMMIT),
                                                "amount": part, "award_id": award, "created_by_id": author.pk})
        if published and award_status != AwardStatus.OFFERED:
            for q in range(returns_per_award):
                pending[PotLedgerEntry].append({"pot_id": pot.pk, "financial_year": years[0], "kind": str(LedgerEntryKind.PAYMENT),
                                                    "amount": (amount / 8).quantize(Decimal("0.01")), "award_id": award,
                                                    "created_by_id": author.pk})
                period = start + dt.timedelta(days=91 * q)
                pending[MonitoringReturn].append({
                    "award_id": award, "period_start": period, "period_end": period + dt.timedelta(days=90),
                    "due_date": period + dt.timedelta(days=120), "status": str(ReturnStatus.APPROVED),
                    "organisations_adopting": 1 + q, "sites_adopting": 2 + q, "patients_reached": 100 * (q + 1)})
                savings_and_actuals.append((len(pending[MonitoringReturn]) - 1, period, lead.pk, measure))
    for model, values in pending.items():
        first = ids[model].reserve(len(values)) if values else 0
        for offset, row in enumerate(values):
            tables[model].add(id=first + offset, **row)
        if model is MonitoringReturn:
            return_first = first
    saving_first = ids[ReturnSaving].reserve(len(savings_and_actuals)) if savings_and_actuals else 0
    actual_first = ids[ReturnMeasureActual].reserve(len(savings_and_actuals)) if savings_and_actuals else 0
    for k, (index, period, recipient, measure) in enumerate(savings_and_actuals):
        tables[ReturnSaving].add(
            id=saving_first + k, monitoring_return_id=return_first + index, financial_year=fy.FinancialYear.of(period).start_year,
            kind=str(SavingKind.CASHABLE), realised_by_id=recipient, care_setting=str(CareSetting.SECONDARY),
            amount=Decimal("2500.00"))
        tables[ReturnMeasureActual].add(id=actual_first + k, monitoring_return_id=return_first + index, measure_id=measure,
                                        value=Decimal(100 * (1 + k % 5)))


def fill_read_model() -> int:
    """The read model from scratch, on the server: the rows ``register_rebuild`` would write (the
    same query), the same search vectors, the register version and its running totals set. Returns its rows."""
    from awards.visibility import published_awards
    from reporting.register.read_model import (
        COPIED,
        FOREVER,
        _locked_version,
        _rows,
        _vectorise,
        register_recount,
    )

    quote = connection.ops.quote_name
    fields = {field.attname: field.column for field in RegisterEntry._meta.concrete_fields}
    names = ["award_id", *COPIED[:-1]]
    columns = [fields.get(name) or fields[f"{name}_id"] for name in names] + [fields["visible_from"]]
    selected = [f"c{k}" for k in range(len(names) + 2)]
    blank_when_null = {"recipient_ods_code", "recipient_region", "innovation_type"}  # as ``read_model._entry``
    values = [f"COALESCE(c{k}, '')" if name in blank_when_null else f"c{k}" for k, name in enumerate(names)]
    values.append(f"GREATEST(c{len(names)}, c{len(names) + 1})")  # visible_from: the later of the two releases
    sql, params = _rows(published_awards(FOREVER)).query.sql_with_params()
    with transaction.atomic():
        _locked_version()
        RegisterEntry.objects.all().delete()
        insert = (f"INSERT INTO {quote(RegisterEntry._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
                  f"SELECT {', '.join(values)} FROM ({sql}) AS rows ({', '.join(selected)})")  # names from the models; values as parameters
        with connection.cursor() as cursor:
            cursor.execute(insert, params)
            written = cursor.rowcount
        _vectorise(RegisterEntry.objects.all())
        register_recount()  # the running totals from the rows just written
    return written


def check_read_model(sample: int = 500, seed: int = 3) -> int:
    """Compare ``sample`` rows of the read model (search vector included) with the rows
    ``register_sync`` would write for the same awards; raise on a difference. Returns rows checked."""
    from awards.visibility import published_awards
    from reporting.models import RegisterVersion
    from reporting.register.read_model import COPIED, FOREVER, _entry, _rows, _sums
    from reporting.register.selectors import award_search_vector

    ids = sorted(RegisterEntry.objects.values_list("award_id", flat=True).order_by("?")[:sample])
    expected = {entry.award_id: entry for entry in (_entry(row) for row in _rows(published_awards(FOREVER, among=ids)))}
    stored = {entry.award_id: entry for entry in RegisterEntry.objects.filter(award_id__in=ids)}
    assert set(expected) == set(stored), "the read model holds other awards than the rule gives"
    vectors = dict(RegisterEntry.objects.filter(award_id__in=ids).annotate(fresh=award_search_vector()).values_list("award_id", "fresh"))
    for pk, entry in expected.items():
        for name in COPIED:
            assert getattr(stored[pk], name) == getattr(entry, name), (pk, name, getattr(stored[pk], name), getattr(entry, name))
        assert stored[pk].search == vectors[pk], (pk, "search")
    # Every public award has its row, and none other has one; the running totals are the rows'.
    assert RegisterEntry.objects.count() == published_awards(FOREVER).count()
    kept = RegisterVersion.objects.values_list("entries", "awarded", "paid").get(pk=1)
    assert kept == _sums(RegisterEntry.objects.all()), ("running totals", kept)
    return len(expected)
