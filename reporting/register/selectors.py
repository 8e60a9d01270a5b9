"""Reads for the public award register: what is published, search, filters, totals, one award.

Everything public starts from ``awards.visibility.published_awards()`` (the one rule of which
awards are public: decision and call's decisions released, not declined or lapsed; withdrawn
and closed awards stay public with their status), and results only from the approved returns
of ``reporting.visibility.public_returns``; published reports from ``public_versions``. Nothing here returns personal
data of individuals: no assessors, no user names, no emails.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    Aggregate,
    DecimalField,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from applications.models import BenefitMeasure, BidCost, BidPartner
from awards.models import (
    Award,
    AwardCondition,
    AwardYear,
    LedgerEntryKind,
    PotLedgerEntry,
)
from awards.visibility import PUBLIC_STATUS_CHOICES, published_awards
from governance import fy
from governance.form_layout import SearchInput
from governance.forms import MoneyField
from governance.models import (
    PUBLISHED_CALL_STATUSES,
    Call,
    CallPurpose,
    Criterion,
    Fund,
    InnovationType,
    Organisation,
    OrganisationKind,
    Region,
)
from governance.money import NOT_MONEY, parse_money
from governance.siteurl import absolute_url

from ..models import (
    MonitoringReturn,
    RegisterEntry,
    Reinvestment,
    ReportScope,
    ReportVersion,
    ReturnMeasureActual,
    ReturnSaving,
)
from ..visibility import public_returns, public_versions

if TYPE_CHECKING:
    from django.contrib.postgres.search import SearchVector

MAX_SEARCH_LENGTH = 200
MAX_SEARCH_WORDS = 12
PAGE_SIZE = 25
# Ranking by best match reads every matching row's search vector: above this many matches the
# register and the API list them newest first instead (constant cost, however many match), and
# the page says so.
SEARCH_RANK_LIMIT = 1000
SEARCH_NEWEST_FIRST = (
    f"More than {SEARCH_RANK_LIMIT:,} awards match your search, so they are shown newest first. "
    "Add words to your search to see the best matches first."
)
# Past the same number a search's totals are not added up either (constant cost), and the list
# shows the first of its matches; the downloads still hold every match.
SEARCH_FIRST_ONLY = (
    f"The first {SEARCH_RANK_LIMIT:,} are listed here, and the downloads below include every match. "
    f"Totals are shown when {SEARCH_RANK_LIMIT:,} awards or fewer match."
)
SEARCH_MANY = f"More than {SEARCH_RANK_LIMIT:,} awards match your search."
MONEY = DecimalField(max_digits=14, decimal_places=2)
ZERO = Decimal("0.00")

# Messages shown next to the filter that caused them (tests import these).
SEARCH_TOO_LONG = f"Search terms must be {MAX_SEARCH_LENGTH} characters or fewer"
UNKNOWN_FUND = "Choose a fund from the list"
UNKNOWN_CALL = "Choose a call from the list"
UNKNOWN_NETWORK = "Choose a network from the list"
UNKNOWN_REGION = "Choose a region from the list"
UNKNOWN_KIND = "Choose a kind of organisation from the list"
UNKNOWN_PURPOSE = "Choose a purpose from the list"
UNKNOWN_INNOVATION = "Choose a type of innovation from the list"
UNKNOWN_YEAR = "Choose a financial year from the list"
UNKNOWN_STATUS = "Choose a status from the list"
UNKNOWN_SORT = "Choose an order from the list"
RECIPIENT_TOO_LONG = "Recipient organisation must be 200 characters or fewer"
AMOUNT_RANGE_BACKWARDS = "The largest amount must be the same as or more than the smallest amount"

SORTS = {
    "newest": ("Newest first", ["-decision__decided_at", "-pk"]),
    "oldest": ("Oldest first", ["decision__decided_at", "pk"]),
    "amount_desc": ("Largest amount first", ["-amount", "-pk"]),
    "amount_asc": ("Smallest amount first", ["amount", "pk"]),
    "title": ("Title A to Z", ["title", "pk"]),
    "recipient": ("Recipient A to Z", ["recipient__name", "title", "pk"]),
    "relevance": ("Best match (when searching)", None),
}

# Anything 360Giving's quality check would call an email address (it looks for this shape).
EMAIL_RE = re.compile(r"[\w.+-]+@[\w.-]+\.[\w.-]+")
EMAIL_REDACTED = "[email address removed]"


def redact_emails(text: str) -> str:
    """Public text never carries an email address, even one an applicant typed into a summary."""
    if not text or "@" not in text:
        return text or ""
    return EMAIL_RE.sub(EMAIL_REDACTED, text)


def using_postgres() -> bool:
    return connection.vendor == "postgresql"


# What is published -----------------------------------------------------------------------


def public_funds() -> QuerySet[Fund]:
    return Fund.objects.filter(calls__status__in=PUBLISHED_CALL_STATUSES).distinct().order_by("name")


def public_calls_with_awards() -> QuerySet[Call]:
    return (
        Call.objects.filter(status__in=PUBLISHED_CALL_STATUSES, decisions_released_at__isnull=False)
        .only("pk", "slug", "title")
        .order_by("title")
    )


def networks() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=OrganisationKind.HEALTH_INNOVATION_NETWORK).order_by("name")


def year_choices() -> list[tuple[int, str]]:
    """Financial years the funds run over (and the year before, when their calls decide)."""
    span = Fund.objects.aggregate(first=Min("first_year"), last=Max("last_year"))
    if span["first"] is None:
        return []
    return [(year, fy.label(year)) for year in range(span["last"], span["first"] - 2, -1)]


# Search ----------------------------------------------------------------------------------


def award_search_vector() -> SearchVector:
    """The award's own words. A GIN index on exactly this expression makes search fast:
    ``GinIndex(SearchVector("title", "description", config="english"), name="award_search_gin")``."""
    from django.contrib.postgres.search import SearchVector

    return SearchVector("title", "description", config="english")


def search_awards(queryset: QuerySet[Any, Any], text: str, columns: dict[str, str] | None = None) -> QuerySet[Any, Any]:
    """Awards whose title, summary, recipient or partners match ``text``, or whose reference it is.

    ``queryset`` is of awards, or of the register's read model with ``columns`` naming its
    columns for the award's lookups (``RegisterFilter.COLUMNS``).
    PostgreSQL: full-text search (``websearch`` syntax: words, "quoted phrases", -exclusions).
    SQLite: every word must appear somewhere in those fields (case-insensitive).
    """
    columns = columns or {}
    text = " ".join((text or "").split())[:MAX_SEARCH_LENGTH]
    if not text:
        return queryset
    by_reference = Q(reference__iexact=text)
    if using_postgres():
        from django.contrib.postgres.search import SearchQuery, SearchVector

        query = SearchQuery(text, search_type="websearch", config="english")
        if "search_vector" in columns:  # stored and GIN-indexed in the read model
            own_words = Q(**{columns["search_vector"]: query})
        else:
            own_words = Q(pk__in=queryset.model.objects.annotate(_v=award_search_vector()).filter(_v=query).values("pk"))
        orgs = Organisation.objects.annotate(_v=SearchVector("name", config="english")).filter(_v=query).values("pk")
        return queryset.filter(
            by_reference
            | own_words
            | Q(recipient_id__in=orgs)
            | Q(bid_id__in=BidPartner.objects.filter(organisation_id__in=orgs).values("bid_id"))
        )
    condition = Q()
    for word in text.split()[:MAX_SEARCH_WORDS]:
        partner_bids = BidPartner.objects.filter(organisation__name__icontains=word).values("bid_id")
        condition &= (
            Q(title__icontains=word)
            | Q(description__icontains=word)
            | Q(**{f"{columns.get('recipient__name', 'recipient__name')}__icontains": word})
            | Q(bid_id__in=partner_bids)
        )
    return queryset.filter(by_reference | condition)


def _ordering(sort: str, columns: dict[str, str] | None) -> list[str]:
    columns = columns or {}
    return [("-" if key.startswith("-") else "") + columns.get(key.lstrip("-"), key.lstrip("-")) for key in SORTS[sort][1] or ()]


def rank_by_relevance(queryset: QuerySet[Any, Any], text: str, columns: dict[str, str] | None = None) -> QuerySet[Any, Any]:
    if not using_postgres():
        return queryset.order_by(*_ordering("newest", columns))
    from django.contrib.postgres.search import SearchQuery, SearchRank

    query = SearchQuery(" ".join(text.split())[:MAX_SEARCH_LENGTH], search_type="websearch", config="english")
    vector = F(columns["search_vector"]) if columns and "search_vector" in columns else award_search_vector()
    ranked: QuerySet[Any, Any] = queryset.annotate(rank=SearchRank(vector, query)).order_by("-rank", *_ordering("newest", columns))
    return ranked


def sort_awards(queryset: QuerySet[Any, Any], sort: str | None, text: str | None = None, columns: dict[str, str] | None = None) -> QuerySet[Any, Any]:
    if sort == "relevance" or (not sort and text):
        return rank_by_relevance(queryset, text, columns) if text else queryset.order_by(*_ordering("newest", columns))
    return queryset.order_by(*_ordering(sort if sort in SORTS else "newest", columns))


# Filters: the page, the exports and the API share one FilterSet ---------------------------


# What an amount filter accepts: pounds with optional pence, an optional £ and thousands commas,
# and spaces around it. The API schema publishes the same pattern.
MONEY_PATTERN = r"^ *£? *(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{1,2})? *$"
MONEY_SCHEMA = {"type": "string", "pattern": "^(" + MONEY_PATTERN[1:-1] + ")?$", "example": "250000"}  # empty: no filter


class FilterMoneyField(MoneyField):
    """An amount filter: ``parse_money``'s messages, and nothing it would stretch to accept."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["strip"] = False
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]  # a text input cleaned to Decimal
        if value in self.empty_values:
            return None
        amount = parse_money(value)
        if not re.fullmatch(MONEY_PATTERN, value):
            raise ValidationError(NOT_MONEY, code="invalid")
        return amount


@extend_schema_field(MONEY_SCHEMA)
class MoneyFilter(django_filters.Filter):  # type: ignore[misc]  # django-filter ships no type hints
    field_class = FilterMoneyField


class RegisterFilterForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for form_field in self.fields.values():
            setattr(form_field, "say_optional", False)  # noqa: B010 (not a declared attribute); every filter is optional: the labels need not say so
        if "q" in self.fields:
            self.fields["q"].label = "Search awards"
            self.fields["q"].widget = SearchInput(attrs={"class": "nhsuk-input--width-30", "spellcheck": "false"})

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean() or {}
        low, high = cleaned.get("min_amount"), cleaned.get("max_amount")
        if low is not None and high is not None and low > high:
            self.add_error("max_amount", AMOUNT_RANGE_BACKWARDS)
        return cleaned


def _choice(message: str) -> dict[str, Any]:
    return {"error_messages": {"invalid_choice": message}}


def choice_filter(choices: Iterable[tuple[Any, Any]], **kwargs: Any) -> django_filters.ChoiceFilter:
    """A choice filter whose published schema lists its values and the empty value ("all")."""
    values = ["", *(str(value) for value, _ in choices)]
    return extend_schema_field({"type": "string", "enum": values})(django_filters.ChoiceFilter(choices=choices, **kwargs))


@extend_schema_field(OpenApiTypes.STR)
class SlugChoiceFilter(django_filters.ModelChoiceFilter):  # type: ignore[misc]  # django-filter ships no type hints
    """A record chosen by its slug in the URL: the API schema says a string, whichever table the
    filter ends up reading (the awards, or the register's read model)."""


class AwardFilter(django_filters.FilterSet):  # type: ignore[misc]  # django-filter ships no type hints
    """Filters in the URL: ``?q=falls&fund=<slug>&region=E40000006&min_amount=50000&sort=amount_desc``.

    Invalid values are reported against their field and left out; the rest still apply.
    """

    q = django_filters.CharFilter(
        label="Search", method="filter_search", max_length=MAX_SEARCH_LENGTH,
        help_text="Words from the title or summary, or the name of the recipient or a partner",
        error_messages={"max_length": SEARCH_TOO_LONG},
    )
    fund = SlugChoiceFilter(
        label="Fund", field_name="pot__fund", to_field_name="slug", queryset=public_funds(),
        empty_label="All funds", **_choice(UNKNOWN_FUND),
    )
    call = SlugChoiceFilter(
        label="Call", field_name="bid__call", to_field_name="slug", queryset=public_calls_with_awards(),
        empty_label="All calls", **_choice(UNKNOWN_CALL),
    )
    network = extend_schema_field(OpenApiTypes.STR)(django_filters.ModelChoiceFilter(
        label="Health Innovation Network", method="filter_network", to_field_name="short_name",
        queryset=networks(), empty_label="All networks", **_choice(UNKNOWN_NETWORK),
        help_text="The network whose area the recipient is in (its short name, like HISW)",
    ))
    region = choice_filter(
        label="NHS England region", field_name="recipient__region", choices=Region.choices,
        empty_label="All regions", **_choice(UNKNOWN_REGION),
    )
    recipient = django_filters.CharFilter(
        label="Recipient organisation", method="filter_recipient", max_length=200,
        help_text="Part of its name, or its ODS code", error_messages={"max_length": RECIPIENT_TOO_LONG},
    )
    org_kind = choice_filter(
        label="Kind of recipient organisation", field_name="recipient__kind", choices=OrganisationKind.choices,
        empty_label="All kinds", **_choice(UNKNOWN_KIND),
    )
    purpose = choice_filter(
        label="Purpose", field_name="bid__call__purpose", choices=CallPurpose.choices,
        empty_label="All purposes", **_choice(UNKNOWN_PURPOSE),
    )
    innovation_type = choice_filter(
        label="Type of innovation", field_name="bid__innovation_type", choices=InnovationType.choices,
        empty_label="All types", **_choice(UNKNOWN_INNOVATION),
    )
    year = extend_schema_field({"type": "string", "pattern": "^([0-9]{4})?$"})(django_filters.ChoiceFilter(
        label="Financial year awarded", method="filter_year", choices=year_choices,
        empty_label="All years", help_text="The year it starts in: 2026 is 2026/27", **_choice(UNKNOWN_YEAR),
    ))
    min_amount = MoneyFilter(label="Smallest amount (£)", field_name="amount", lookup_expr="gte")
    max_amount = MoneyFilter(label="Largest amount (£)", field_name="amount", lookup_expr="lte")
    status = choice_filter(
        label="Status", field_name="status", choices=PUBLIC_STATUS_CHOICES, empty_label="All statuses",
        **_choice(UNKNOWN_STATUS),
    )
    sort = choice_filter(
        label="Order", method="filter_sort", choices=[(key, label) for key, (label, _) in SORTS.items()],
        empty_label=None, **_choice(UNKNOWN_SORT),
    )

    class Meta:
        model = Award
        form = RegisterFilterForm
        fields: list[str] = []

    # The award's lookups and, in a subclass over another model, the columns that hold them.
    COLUMNS: dict[str, str] = {}

    def __init__(self, data: Any = None, queryset: QuerySet[Any, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(data, queryset if queryset is not None else self.published(), **kwargs)
        for filter_ in self.filters.values():
            filter_.field_name = self.COLUMNS.get(filter_.field_name, filter_.field_name)
        self.unsorted: QuerySet[Any, Any] | None = None

    def published(self) -> QuerySet[Any, Any]:
        return published_awards()

    def column(self, lookup: str) -> str:
        return self.COLUMNS.get(lookup, lookup)

    # Each method returns the queryset filtered by one value; django-filter calls them.
    def filter_search(self, queryset: QuerySet[Any, Any], name: str, value: str) -> QuerySet[Any, Any]:
        return search_awards(queryset, value, self.COLUMNS)

    def filter_network(self, queryset: QuerySet[Any, Any], name: str, value: Organisation) -> QuerySet[Any, Any]:
        return queryset.filter(Q(**{self.column("recipient__network"): value}) | Q(recipient=value))

    def filter_recipient(self, queryset: QuerySet[Any, Any], name: str, value: str) -> QuerySet[Any, Any]:
        value = " ".join(value.split())
        if not value:
            return queryset
        return queryset.filter(Q(**{f"{self.column('recipient__name')}__icontains": value})
                               | Q(**{f"{self.column('recipient__ods_code')}__iexact": value}))

    def filter_year(self, queryset: QuerySet[Any, Any], name: str, value: str) -> QuerySet[Any, Any]:
        year = fy.FinancialYear(int(value))
        start = timezone.make_aware(dt.datetime.combine(year.start, dt.time.min))
        end = timezone.make_aware(dt.datetime.combine(year.end + dt.timedelta(days=1), dt.time.min))
        decided = self.column("decision__decided_at")
        return queryset.filter(**{f"{decided}__gte": start, f"{decided}__lt": end})

    def filter_sort(self, queryset: QuerySet[Any, Any], name: str, value: str) -> QuerySet[Any, Any]:
        return queryset  # applied last, in filter_queryset

    def filter_queryset(self, queryset: QuerySet[Any, Any]) -> QuerySet[Any, Any]:
        filtered = super().filter_queryset(queryset)
        self.unsorted = filtered
        data = self.form.cleaned_data
        sort, text = data.get("sort"), data.get("q")
        self.ranked = bool(text) and (sort == "relevance" or not sort)
        return sort_awards(filtered, sort, text, self.COLUMNS)

    ranked = False  # ordered by best match (set when the queryset is built)

    def capped(self, count: int) -> tuple[QuerySet[Any, Any], bool]:
        """The sorted rows, newest first instead of by best match when more than
        ``SEARCH_RANK_LIMIT`` of them (``count``) match; and whether that happened."""
        queryset = self.qs
        if self.ranked and count > SEARCH_RANK_LIMIT and self.unsorted is not None:  # set with ranked
            return self.unsorted.order_by(*_ordering("newest", self.COLUMNS)), True
        return queryset, False

    @property
    def searching(self) -> bool:
        """Whether words are searched for (whose totals are added up only so far)."""
        self.form.is_valid()
        return bool(getattr(self.form, "cleaned_data", {}).get("q"))

    @property
    def totals_key(self) -> str:
        """The filter set in use (not its order), as a key for its cached totals."""
        if not self.is_bound or not self.form.is_valid():
            active = {}
        else:
            active = {name: value for name, value in self.form.cleaned_data.items() if name != "sort"}
        return repr(sorted((name, str(getattr(value, "pk", value))) for name, value in active.items()))

    @property
    def active(self) -> dict[str, str]:
        """The filters in use (valid, non-empty), as URL parameters."""
        if not self.is_bound:
            return {}
        self.form.is_valid()
        return {
            name: self.data.get(name)
            for name, value in self.form.cleaned_data.items()
            if value not in (None, "", []) and name != "sort"
        }


class RegisterFilter(AwardFilter):
    """``AwardFilter`` over the register's read model (``RegisterEntry``): the same filters,
    search and orders, each on an indexed column of one table."""

    COLUMNS = {
        "pot__fund": "fund", "bid__call": "call", "recipient__region": "recipient_region",
        "recipient__kind": "recipient_kind", "bid__call__purpose": "call_purpose",
        "bid__innovation_type": "innovation_type", "recipient__network": "recipient_network",
        "recipient__name": "recipient_name", "recipient__ods_code": "recipient_ods_code",
        "decision__decided_at": "decided_at", "search_vector": "search",
    }

    class Meta:
        model = RegisterEntry
        form = RegisterFilterForm
        fields: list[str] = []

    def published(self) -> QuerySet[Any, Any]:
        from .read_model import published_entries

        return published_entries()


# Keyset pages: the rows after (or before) a row, at the same cost however deep ------------


def keyset_order(queryset: QuerySet[Any, Any]) -> list[str] | None:
    """The queryset's order if a page can be read as "the rows after this one": plain fields,
    all in the same direction, ending with the primary key (so every row has its own place)."""
    order = [key for key in queryset.query.order_by if isinstance(key, str)]
    if not order or len(order) != len(queryset.query.order_by):
        return None
    if len({key.startswith("-") for key in order}) != 1 or order[-1].lstrip("-") != "pk":
        return None
    # Stored columns only: a computed order (a search's relevance) is read by position instead.
    stored = {field.name for field in queryset.model._meta.concrete_fields} | {"pk"}
    if not all(key.lstrip("-") in stored for key in order):
        return None
    return order


def _keyset_columns(order: list[str]) -> list[str]:
    return ["pk" if key.lstrip("-") == "pk" else key.lstrip("-") for key in order]


def keyset_values(queryset: QuerySet[Any, Any], order: list[str]) -> list[str]:
    """The names to read alongside each row to make its cursor (for ``values_list``)."""
    model = queryset.model
    return [model._meta.pk.name if name == "pk" else name for name in _keyset_columns(order)]


def encode_cursor(values: Iterable[Any]) -> str:
    """A row's place in its order, as URL-safe text (the values of its sort keys)."""
    import base64
    import json

    plain = [value.isoformat() if isinstance(value, dt.datetime) else str(value) for value in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(text: str | None, queryset: QuerySet[Any, Any], order: list[str]) -> list[Any] | None:
    """The sort-key values of a cursor made by ``encode_cursor`` for this order; None for
    anything else (a cursor is never trusted to be well formed: it is only a position)."""
    import base64
    import binascii
    import json

    if not text or len(text) > 2000:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        return None
    names = _keyset_columns(order)
    if not isinstance(raw, list) or len(raw) != len(names) or not all(isinstance(value, str) for value in raw):
        return None
    values = []
    for name, value in zip(names, raw, strict=True):
        model_field = queryset.model._meta.pk if name == "pk" else queryset.model._meta.get_field(name)
        if getattr(model_field, "target_field", None) is not None:
            model_field = model_field.target_field
        try:
            parsed = model_field.to_python(value)
        except ValidationError:
            return None
        if parsed is None or (isinstance(parsed, dt.datetime) and timezone.is_naive(parsed)):
            return None
        values.append(parsed)
    return values


def keyset_after(queryset: QuerySet[Any, Any], order: list[str], values: list[Any], *, forward: bool = True) -> QuerySet[Any, Any]:
    """The rows after (``forward``) or before the row whose sort keys are ``values``, in
    ``order`` (before: in the reverse order, nearest first). One row-value comparison,
    ``(decided_at, award_id) < (%s, %s)``, which PostgreSQL reads as a range of the sort key's
    index (ties on the first key, common for decision dates, cost nothing extra)."""
    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    descending = order[0].startswith("-")
    op = "<" if descending == forward else ">"
    model = queryset.model
    table = connection.ops.quote_name(model._meta.db_table)
    fields = [model._meta.pk if name == "pk" else model._meta.get_field(name) for name in _keyset_columns(order)]
    columns = ", ".join(f"{table}.{connection.ops.quote_name(field.column)}" for field in fields)
    params = [field.get_db_prep_value(value, connection) for field, value in zip(fields, values, strict=True)]
    # Only column names from the model are formatted in; the values are parameters.
    beyond = RawSQL(f"({columns}) {op} ({', '.join(['%s'] * len(params))})", params, output_field=BooleanField())  # noqa: S611
    rows = queryset.filter(beyond)
    if not forward:
        rows = rows.order_by(*[key[1:] if key.startswith("-") else f"-{key}" for key in order])
    return rows


# Rows for the list, totals and the cheap change stamp -------------------------------------


def paid_subquery(outer: str = "pk") -> Coalesce:
    payments = (
        PotLedgerEntry.objects.filter(award_id=OuterRef(outer), kind=LedgerEntryKind.PAYMENT)
        .order_by()
        .values("award_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(payments, output_field=MONEY), Value(ZERO), output_field=MONEY)


def applied_subquery(outer: str = "bid_id") -> Subquery:
    costs = BidCost.objects.filter(bid_id=OuterRef(outer)).order_by().values("bid_id").annotate(total=Sum("amount")).values("total")
    return Subquery(costs, output_field=MONEY)


def list_rows(queryset: QuerySet[Award], *, paid: bool = True) -> QuerySet[Award]:
    """What the register's table shows, in one query (``paid`` too, unless the caller has it)."""
    rows = queryset.select_related("recipient", "bid__call", "pot__fund", "decision").only(
        "id", "reference", "title", "amount", "status", "start_date", "end_date",
        "recipient__id", "recipient__name", "recipient__kind", "recipient__region",
        "bid__id", "bid__call__id", "bid__call__title", "bid__call__slug",
        "pot__id", "pot__fund__id", "pot__fund__name", "pot__fund__slug",
        "decision__id", "decision__decided_at", "decision__score",
    )
    return rows.annotate(paid=paid_subquery()) if paid else rows


@dataclass
class Totals:
    """How many awards, how much awarded and paid. ``more``: more than ``count`` awards match (a
    search past ``SEARCH_RANK_LIMIT``), so the amounts were not added up."""

    count: int = 0
    awarded: Decimal = ZERO
    paid: Decimal = ZERO
    more: bool = False

    @property
    def count_label(self) -> str:
        """The count with its thousands marked, as people read it ("1,000")."""
        return f"{self.count:,}"

    @property
    def of_count(self) -> str:
        """How many there are, as the table's caption says it: "4200", or "more than 1,000"."""
        return f"more than {self.count_label}" if self.more else str(self.count)


def _over_selection(queryset: QuerySet[Award], columns: dict[str, str], selects: list[str], payments: str) -> tuple[Any, ...]:
    """Aggregates over the filtered awards, which are computed once as the common table
    expression ``selected`` (so the published-award joins run once, not once per aggregate).
    ``selects`` aggregate ``selected``; ``payments`` aggregates their payments ``l``."""
    sql, params = queryset.order_by().values_list("id", *columns.values()).query.sql_with_params()
    ledger = connection.ops.quote_name(PotLedgerEntry._meta.db_table)
    # Only this module's fixed SQL is formatted in; every value from a request is a parameter.
    parts = [*(f"(SELECT {select} FROM selected)" for select in selects),  # noqa: S608
             f"(SELECT {payments} FROM {ledger} l INNER JOIN selected s ON s.id = l.award_id WHERE l.kind = %s)"]  # noqa: S608
    statement = f"WITH selected({', '.join(['id', *columns])}) AS ({sql}) SELECT {', '.join(parts)}"
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, LedgerEntryKind.PAYMENT])
        row: tuple[Any, ...] = cursor.fetchone()
        return row


def _decimal(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _moment(value: Any) -> dt.datetime | None:
    """A timestamp from a raw query: PostgreSQL gives datetimes, SQLite gives UTC text."""
    if value is None or isinstance(value, dt.datetime):
        return value
    moment = dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def register_totals(queryset: QuerySet[Award]) -> Totals:
    """Number of awards, amount awarded and amount paid for the filtered set, in one query."""
    count, awarded, paid = _over_selection(queryset, {"amount": "amount"}, ["COUNT(*)", "SUM(amount)"], "SUM(l.amount)")
    return Totals(count=count or 0, awarded=_decimal(awarded), paid=_decimal(paid))


@dataclass(frozen=True)
class Stamp:
    """What changes whenever an export of ``queryset`` would: count and latest changes."""

    count: int
    last_modified: dt.datetime | None

    def etag(self, *parts: str) -> str:
        import hashlib

        text = "|".join([str(self.count), self.last_modified.isoformat() if self.last_modified else "-", *parts])
        return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def register_stamp(queryset: QuerySet[Award]) -> Stamp:
    """Two aggregate queries, however many awards there are: the awards' own changes, and the
    latest change to any organisation (exports name recipients and partners; renames are rare)."""
    count, *moments = _over_selection(
        queryset, {"updated": "updated_at", "released": "decision__released_at", "call_updated": "bid__call__updated_at"},
        ["COUNT(*)", "MAX(updated)", "MAX(released)", "MAX(call_updated)"], "MAX(l.created_at)",
    )
    moments.append(Organisation.objects.aggregate(latest=Max("updated_at"))["latest"])
    moments = [m for m in map(_moment, moments) if m is not None]
    return Stamp(count=count or 0, last_modified=max(moments) if moments else None)


# One award -------------------------------------------------------------------------------


def register_award(reference: str) -> Award:
    """The published award with this reference; ``Award.DoesNotExist`` for any other. Whether it
    is published is its row in the register's read model (one indexed lookup)."""
    from .read_model import published_entries

    return Award.objects.filter(pk__in=published_entries().filter(reference=reference).values("pk")).select_related(
        "decision", "bid__call__fund", "bid__call__host_network", "pot__fund__host_network", "pot__network",
        "recipient__network",
    ).get(reference=reference)


@dataclass
class CriterionScore:
    criterion: Criterion
    score: Decimal | None

    @property
    def points(self) -> Decimal | None:
        """The criterion's share of the 0-100 score: weight × (score − min) / (max − min)."""
        if self.score is None:
            return None
        span = Decimal(self.criterion.scale_max - self.criterion.scale_min)
        return (Decimal(self.criterion.weight) * (self.score - self.criterion.scale_min) / span).quantize(Decimal("0.01"))


@dataclass
class MeasureResult:
    measure: BenefitMeasure
    actual: Decimal | None
    reported_for: object = None  # the period end of the return it came from

    @property
    def progress(self) -> int | None:
        """How far from baseline to target the latest actual is, in per cent (may exceed 100)."""
        if self.actual is None or self.measure.target == self.measure.baseline:
            return None
        share = (self.actual - self.measure.baseline) / (self.measure.target - self.measure.baseline)
        return int((share * 100).to_integral_value())


@dataclass
class YearRow:
    year: int
    awarded: Decimal
    paid: Decimal

    @property
    def label(self) -> str:
        return fy.label(self.year)


@dataclass
class AwardRecord:
    """Everything the public page of one award shows."""

    award: Award
    partners: list[BidPartner]
    years: list[YearRow]
    paid: Decimal
    applied_for: Decimal | None
    scores: list[CriterionScore]
    conditions: list[AwardCondition]
    savings: dict[str, Decimal]
    measures: list[MeasureResult]
    latest_return: MonitoringReturn | None
    final_return: MonitoringReturn | None
    approved_returns: int
    reinvested: Decimal
    reinvestments: list[Reinvestment]
    reports: list[ReportVersion] = field(default_factory=list)

    @property
    def description(self) -> str:
        return redact_emails(self.award.description)

    @property
    def savings_total(self) -> Decimal:
        return sum(self.savings.values(), ZERO)

    @property
    def remaining(self) -> Decimal:
        remaining: Decimal = self.award.amount - self.paid
        return remaining

    @property
    def has_results(self) -> bool:
        return self.latest_return is not None


def award_record(award: Award) -> AwardRecord:
    """A fixed number of queries, whatever the award's size."""
    call = award.bid.call
    partners = list(BidPartner.objects.filter(bid_id=award.bid_id).select_related("organisation").order_by("pk"))
    profile = {row.financial_year: row.amount for row in AwardYear.objects.filter(award=award)}
    paid_by_year = dict(
        PotLedgerEntry.objects.filter(award=award, kind=LedgerEntryKind.PAYMENT)
        .order_by().values_list("financial_year").annotate(total=Sum("amount"))
    )
    years = [YearRow(year, profile.get(year, ZERO), paid_by_year.get(year, ZERO)) for year in sorted(set(profile) | set(paid_by_year))]
    applied = BidCost.objects.filter(bid_id=award.bid_id).aggregate(total=Sum("amount"))["total"]
    used = award.decision.criterion_scores or {}
    scores = []
    for criterion in Criterion.objects.filter(call=call).order_by("position", "pk"):
        raw = used.get(str(criterion.pk))
        try:
            value = Decimal(str(raw)) if raw not in (None, "") else None
        except ArithmeticError:
            value = None
        scores.append(CriterionScore(criterion, value))
    conditions = list(AwardCondition.objects.filter(award=award).order_by("pk"))

    approved = public_returns(award=award)
    savings = dict.fromkeys(("cashable", "non_cashable"), ZERO)
    for kind, total in ReturnSaving.objects.filter(monitoring_return__in=approved).order_by().values_list("kind").annotate(total=Sum("amount")):
        savings[kind] = total or ZERO
    returns = list(approved.order_by("-period_end").only(
        "pk", "period_start", "period_end", "is_final", "organisations_adopting", "sites_adopting",
        "patients_reached", "adoption_notes", "lessons_learned", "will_be_sustained", "sustained_funding_by",
    ))
    latest = returns[0] if returns else None
    final = next((r for r in returns if r.is_final), None)
    actuals: dict[int, tuple[Decimal, object]] = {}
    for measure_id, value, period_end in (
        ReturnMeasureActual.objects.filter(monitoring_return__in=approved)
        .order_by("measure_id", "-monitoring_return__period_end")
        .values_list("measure_id", "value", "monitoring_return__period_end")
    ):
        actuals.setdefault(measure_id, (value, period_end))
    measures = [
        MeasureResult(measure, *actuals.get(measure.pk, (None, None)))
        for measure in BenefitMeasure.objects.filter(bid_id=award.bid_id).order_by("pk")
    ]
    reinvestments = list(Reinvestment.objects.filter(monitoring_return__in=approved).order_by("pk"))
    return AwardRecord(
        award=award, partners=partners, years=years, paid=sum(paid_by_year.values(), ZERO), applied_for=applied,
        scores=scores, conditions=conditions, savings=savings, measures=measures, latest_return=latest,
        final_return=final, approved_returns=len(returns),
        reinvested=sum((r.amount for r in reinvestments), ZERO), reinvestments=reinvestments,
        reports=reports_covering(award),
    )


# Published reports -----------------------------------------------------------------------


def reports_covering(award: Award) -> list[ReportVersion]:
    """The latest public version of each report on the award's fund, call, pot or network."""
    networks_of_award = {n for n in (award.pot.network_id, award.recipient.network_id, award.recipient_id) if n}
    covers = (
        Q(report__scope=ReportScope.FUND, report__fund_id=award.pot.fund_id)
        | Q(report__scope=ReportScope.CALL, report__call_id=award.bid.call_id)
        | Q(report__scope=ReportScope.POT, report__pot_id=award.pot_id)
        | Q(report__scope=ReportScope.NETWORK, report__network_id__in=networks_of_award)
    )
    latest: dict[int, ReportVersion] = {}
    for version in public_versions().filter(covers).select_related("report").order_by("report_id", "-number"):
        latest.setdefault(version.report_id, version)
    return sorted(latest.values(), key=lambda v: v.published_at or dt.datetime.min.replace(tzinfo=dt.UTC), reverse=True)


class JoinedText(Aggregate):
    """Text values joined with "; " (STRING_AGG on PostgreSQL, GROUP_CONCAT on SQLite)."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, '; ')"
    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)


def partner_names_subquery(outer: str = "bid_id") -> Subquery:
    names = (
        BidPartner.objects.filter(bid_id=OuterRef(outer)).order_by().values("bid_id")
        .annotate(names=JoinedText("organisation__name")).values("names")
    )
    return Subquery(names, output_field=TextField())


def site_url(path: str) -> str:
    return absolute_url(path)
