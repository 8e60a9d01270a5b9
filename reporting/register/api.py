"""The read-only open data API (``/api/v1/``): published awards, published calls and published
impact reports. Anonymous, paginated, throttled, filterable like the register page.

The OpenAPI schema is at ``/api/schema/`` (drf-spectacular) and described at ``/api/docs/``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import django_filters
from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, BaseThrottle
from rest_framework.views import APIView

from applications.models import BidPartner
from awards.models import Award
from awards.visibility import published_awards
from governance.models import (
    PUBLISHED_CALL_STATUSES,
    Call,
    CallPurpose,
    CallStatus,
    Criterion,
    Region,
)
from governance.selectors import calls_public

from ..models import ReportScope, ReportVersion
from ..visibility import public_versions
from .opendata import award_path
from .public_cache import cached_part
from .read_model import cached_totals, public_totals, published_entries
from .selectors import (
    SEARCH_RANK_LIMIT,
    AwardFilter,
    RegisterFilter,
    applied_subquery,
    award_record,
    choice_filter,
    paid_subquery,
    redact_emails,
    site_url,
)

if TYPE_CHECKING:
    # The stubs' name for what a view's permission_classes hold.
    from rest_framework.permissions import _PermissionClass

# Throttling ------------------------------------------------------------------------------


class OpenDataThrottle(AnonRateThrottle):
    """Per client address. The rate can be set with ``OPEN_DATA_API_RATE`` (default 600/minute)."""

    scope = "open_data"

    def get_rate(self):
        return getattr(settings, "OPEN_DATA_API_RATE", "600/minute")


PAGE_SIZE_INVALID = "Give page_size as a whole number from 1 to 200"
PAGE_INVALID = "Give page as a whole number, like 2"


class OpenDataPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if not re.fullmatch(r"[0-9]{1,9}", raw):
            raise ValidationError({self.page_query_param: [PAGE_INVALID]})
        return raw  # a page past the end is a 404, as DRF answers

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not re.fullmatch(r"[0-9]{1,7}", raw) or int(raw) < 1:
            raise ValidationError({self.page_size_query_param: [PAGE_SIZE_INVALID]})
        return min(int(raw), self.max_page_size)


class PublicAPIMixin:
    throttle_classes: Sequence[type[BaseThrottle]] = [OpenDataThrottle]
    pagination_class: type[BasePagination] | None = OpenDataPagination
    authentication_classes: Sequence[type[BaseAuthentication]] = []
    permission_classes: Sequence[_PermissionClass] = []


# Small nested shapes ---------------------------------------------------------------------


class OrganisationSerializer(serializers.Serializer):
    name = serializers.CharField()
    identifier = serializers.CharField(source="org_identifier", help_text="org-id.guide identifier, like GB-NHS-RH8")
    kind = serializers.CharField(source="get_kind_display")


class RecipientSerializer(OrganisationSerializer):
    region = serializers.CharField(source="get_region_display", allow_blank=True)
    region_code = serializers.CharField(source="region", allow_blank=True, help_text="ONS code of the NHS England region")
    network = serializers.CharField(source="network.name", allow_null=True, default=None)


class PartnerSerializer(serializers.Serializer):
    name = serializers.CharField(source="organisation.name")
    identifier = serializers.CharField(source="organisation.org_identifier")
    role = serializers.CharField(source="get_role_display")


class FundRefSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()


class CallRefSerializer(serializers.Serializer):
    title = serializers.CharField()
    slug = serializers.CharField()
    url = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, call) -> str:
        return site_url(call.get_absolute_url())


# Awards ----------------------------------------------------------------------------------


class AwardSerializer(serializers.Serializer):
    reference = serializers.CharField()
    grant_id = serializers.CharField(help_text="The 360Giving identifier")
    title = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    amount_awarded = serializers.DecimalField(source="amount", max_digits=14, decimal_places=2)
    amount_applied_for = serializers.DecimalField(source="applied", max_digits=14, decimal_places=2, allow_null=True)
    amount_paid = serializers.DecimalField(source="paid", max_digits=14, decimal_places=2)
    award_date = serializers.DateTimeField(source="decision.decided_at")
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    score = serializers.DecimalField(source="decision.score", max_digits=6, decimal_places=2, allow_null=True,
                                     help_text="The panel's overall score, 0 to 100")
    recipient = RecipientSerializer()
    partners = PartnerSerializer(source="bid.partners.all", many=True)
    fund = FundRefSerializer(source="pot.fund")
    call = CallRefSerializer(source="bid.call")
    purpose = serializers.CharField(source="bid.call.purpose")
    innovation_type = serializers.CharField(source="bid.innovation_type", allow_blank=True)
    url = serializers.SerializerMethodField()

    def get_title(self, award) -> str:
        return redact_emails(award.title)

    def get_description(self, award) -> str:
        return redact_emails(award.description)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, award) -> str:
        return site_url(award_path(award.reference))


class YearSerializer(serializers.Serializer):
    financial_year = serializers.IntegerField(source="year", help_text="The year it starts in: 2026 is 2026/27")
    # A declared field: the serializer's metaclass takes it off the class, so Field.label stays as it is.
    label = serializers.CharField()  # type: ignore[assignment]
    awarded = serializers.DecimalField(max_digits=14, decimal_places=2)
    paid = serializers.DecimalField(max_digits=14, decimal_places=2)


class ScoreSerializer(serializers.Serializer):
    criterion = serializers.CharField(source="criterion.title")
    kind = serializers.CharField(source="criterion.get_kind_display")
    weight = serializers.IntegerField(source="criterion.weight")
    scale_min = serializers.IntegerField(source="criterion.scale_min")
    scale_max = serializers.IntegerField(source="criterion.scale_max")
    score = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    points = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True,
                                      help_text="This criterion's share of the 0 to 100 score")


class ConditionSerializer(serializers.Serializer):
    title = serializers.CharField()
    status = serializers.CharField(source="get_status_display")


class MeasureSerializer(serializers.Serializer):
    name = serializers.CharField(source="measure.name")
    unit = serializers.CharField(source="measure.unit")
    baseline = serializers.DecimalField(source="measure.baseline", max_digits=14, decimal_places=2)
    target = serializers.DecimalField(source="measure.target", max_digits=14, decimal_places=2)
    target_date = serializers.DateField(source="measure.target_date")
    latest_actual = serializers.DecimalField(source="actual", max_digits=14, decimal_places=2, allow_null=True)
    progress_percent = serializers.IntegerField(source="progress", allow_null=True,
                                                help_text="How far from baseline to target, in per cent")


class ResultsSerializer(serializers.Serializer):
    approved_returns = serializers.IntegerField()
    savings_cashable = serializers.DecimalField(source="savings.cashable", max_digits=14, decimal_places=2)
    savings_non_cashable = serializers.DecimalField(source="savings.non_cashable", max_digits=14, decimal_places=2)
    reinvested = serializers.DecimalField(max_digits=14, decimal_places=2)
    organisations_adopting = serializers.IntegerField(source="latest_return.organisations_adopting", allow_null=True, default=None)
    sites_adopting = serializers.IntegerField(source="latest_return.sites_adopting", allow_null=True, default=None)
    patients_reached = serializers.IntegerField(source="latest_return.patients_reached", allow_null=True, default=None)
    measures = MeasureSerializer(many=True)
    lessons_learned = serializers.CharField(source="final_return.lessons_learned", allow_null=True, default=None)


class AwardDetailSerializer(AwardSerializer):
    # Only the decision's public fields (``assessment.visibility.PUBLIC_DECISION_FIELDS``): never
    # the panel's internal rationale.
    public_reason = serializers.CharField(source="decision.public_reason",
                                          help_text="Why the panel decided this, as published")
    rationale = serializers.CharField(source="decision.public_reason",
                                      help_text="Deprecated: the same text as public_reason (the panel's internal "
                                                "rationale is never published)")
    decision = serializers.CharField(source="decision.get_outcome_display")
    profile = serializers.SerializerMethodField()
    scores = serializers.SerializerMethodField()
    conditions = serializers.SerializerMethodField()
    results = serializers.SerializerMethodField()

    def _record(self, award):
        if getattr(award, "_record", None) is None:
            award._record = award_record(award)
        return award._record

    @extend_schema_field(YearSerializer(many=True))
    def get_profile(self, award):
        return YearSerializer(self._record(award).years, many=True).data

    @extend_schema_field(ScoreSerializer(many=True))
    def get_scores(self, award):
        return ScoreSerializer(self._record(award).scores, many=True).data

    @extend_schema_field(ConditionSerializer(many=True))
    def get_conditions(self, award):
        return ConditionSerializer(self._record(award).conditions, many=True).data

    @extend_schema_field(ResultsSerializer)
    def get_results(self, award):
        return ResultsSerializer(self._record(award)).data


LIST_FIELDS = (
    "id", "reference", "title", "description", "status", "amount", "start_date", "end_date", "decision_id", "bid_id",
    "pot_id", "recipient_id", "decision__id", "decision__decided_at", "decision__score",
    "recipient__id", "recipient__name", "recipient__kind", "recipient__ods_code", "recipient__company_number",
    "recipient__charity_number", "recipient__official_org_id", "recipient__ukprn", "recipient__edu_urn",
    "recipient__region", "recipient__network_id", "recipient__network__id", "recipient__network__name",
    "pot__id", "pot__fund_id", "pot__fund__id", "pot__fund__name", "pot__fund__slug",
    "bid__id", "bid__innovation_type", "bid__call_id", "bid__call__id", "bid__call__title", "bid__call__slug", "bid__call__purpose",
)


def attach_money(awards: list) -> list:
    """Set ``paid`` and ``applied`` on each award, in one query for the lot."""
    money = {
        pk: (paid, applied)
        for pk, paid, applied in published_awards().filter(pk__in=[a.pk for a in awards])
        .annotate(paid=paid_subquery(), applied=applied_subquery()).values_list("pk", "paid", "applied")
    }
    for award in awards:
        award.paid, award.applied = money.get(award.pk, (None, None))
    return awards


BAD_FILTER = OpenApiResponse(description="A filter value is not valid; the body names the field and the problem.")
NOT_FOUND = OpenApiResponse(description="No such page of results, or no published object with this identifier.")


def documented(things: str, serializer, detail_serializer=None):
    """The OpenAPI description of a read-only viewset: its list and its detail."""
    detail_serializer = detail_serializer or serializer
    return extend_schema_view(
        list=extend_schema(summary=f"Published {things}", responses={200: serializer(many=True), 400: BAD_FILTER, 404: NOT_FOUND}),
        retrieve=extend_schema(summary=f"One of the published {things}", responses={200: detail_serializer, 404: NOT_FOUND}),
    )


class _CountedEntries:
    """The filtered rows of the read model, counted by the cached totals of their filter set."""

    def __init__(self, entries, count: int):
        self.entries, self._count = entries, count

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, window):
        return list(self.entries.values_list("pk", "paid")[window])


def awards_for_entries(rows: list[tuple[int, object]]) -> list:
    """The awards of a page of the read model's rows, in order, with ``paid`` from the rows and
    ``applied`` (the bid's costs) in one query for the lot."""
    paid = dict(rows)
    awards = {
        award.pk: award
        for award in Award.objects.filter(pk__in=paid)
        .select_related("decision", "recipient__network", "pot__fund", "bid__call")
        .prefetch_related(Prefetch("bid__partners", queryset=BidPartner.objects.select_related("organisation").order_by("pk")))
        .annotate(applied=applied_subquery())
        .only(*LIST_FIELDS)
    }
    for pk, amount in paid.items():
        awards[pk].paid = amount  # type: ignore[attr-defined]  # as list_rows(paid=True) annotates it
    return [awards[pk] for pk in paid]


@documented("awards", AwardSerializer, AwardDetailSerializer)
class AwardViewSet(PublicAPIMixin, viewsets.ReadOnlyModelViewSet):
    """Awards whose decision has been released; filter like the register page.

    The list reads the register's read model (``RegisterFilter``: the same filters and orders),
    a page of rows at a time, counted by the cached totals of the filter set."""

    lookup_field = "reference"
    lookup_value_regex = "[^/]+"

    @property
    def filterset_class(self):
        return RegisterFilter if getattr(self, "action", None) == "list" else AwardFilter

    def get_queryset(self):
        if self.action == "list":
            return published_entries().order_by("-decided_at", "-pk")
        return published_awards().select_related("decision", "recipient__network", "pot__fund", "bid__call").prefetch_related(
            Prefetch("bid__partners", queryset=BidPartner.objects.select_related("organisation").order_by("pk"))
        )

    def list(self, request, *args, **kwargs):
        """A page of the list is the same for everyone who asks for it while nothing public
        changes: its data is kept under the public version (``public_cache``), so repeating it
        costs no query beyond that version's. Errors (a bad filter or page) are not kept."""
        query = sorted((name, value) for name, values in request.query_params.lists() for value in values)
        data = cached_part("api-awards", request, [request.build_absolute_uri("/"), urlencode(query)],
                           lambda: self._list_data(request, *args, **kwargs))
        return Response(data)

    def _list_data(self, request, *args, **kwargs):
        data = super().list(request, *args, **kwargs).data
        return {**data, "results": [dict(row) for row in data["results"]]}  # plain, to keep in a cache

    def paginate_queryset(self, queryset):
        params = sorted((k, v) for k, v in self.request.query_params.lists() if k not in ("page", "page_size", "sort", "format"))
        # No filter: the register's running totals (constant cost); else the filter set's.
        count = public_totals().count if not params else cached_totals(queryset, "api:" + repr(params)).count
        if "-rank" in queryset.query.order_by and count > SEARCH_RANK_LIMIT:  # as the register page does
            queryset = queryset.order_by("-decided_at", "-pk")
        page = super().paginate_queryset(_CountedEntries(queryset, count))
        return awards_for_entries(page) if page is not None else None

    def get_object(self):
        return attach_money([super().get_object()])[0]

    def get_serializer_class(self):
        return AwardDetailSerializer if self.action == "retrieve" else AwardSerializer


# Calls -----------------------------------------------------------------------------------


class CriterionSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = Criterion
        fields = ["title", "kind", "kind_label", "weight", "scale_min", "scale_max", "gateway_min_score", "guidance_for_applicants"]


class CallSerializer(serializers.ModelSerializer):
    fund = FundRefSerializer()
    host_network = OrganisationSerializer()
    status = serializers.SerializerMethodField()
    criteria = CriterionSerializer(many=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Call
        fields = [
            "slug", "title", "summary", "fund", "host_network", "purpose", "innovation_types", "status", "opens_at",
            "closes_at", "min_amount", "max_amount", "max_duration_years", "eligible_org_kinds", "required_partner_kinds",
            "endorsement_required", "decisions_expected_date", "criteria", "url",
            "published_closes_at", "closing_extension_reason",
        ]
        extra_kwargs = {
            "published_closes_at": {"help_text": "The closing time first published, when it has since been extended"},
            "closing_extension_reason": {"help_text": "Why the closing time was extended (empty if it was not)"},
        }

    @extend_schema_field(serializers.ChoiceField(choices=[c for c in CallStatus.values if c in PUBLISHED_CALL_STATUSES]))
    def get_status(self, call) -> str:
        return call.phase()

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, call) -> str:
        return site_url(call.get_absolute_url())


class CallFilter(django_filters.FilterSet):
    fund = django_filters.CharFilter(field_name="fund__slug", help_text="The fund's slug")
    network = django_filters.CharFilter(field_name="host_network__short_name", help_text="The hosting network's short name, like HISW")
    purpose = choice_filter(choices=CallPurpose.choices)

    class Meta:
        model = Call
        fields: list[str] = []


@documented("calls", CallSerializer)
class CallViewSet(PublicAPIMixin, viewsets.ReadOnlyModelViewSet):
    """Calls that have been published (never drafts), with their criteria."""

    serializer_class = CallSerializer
    filterset_class = CallFilter
    lookup_field = "slug"

    def get_queryset(self):
        return calls_public().prefetch_related(
            Prefetch("criteria", queryset=Criterion.objects.order_by("position", "pk"))
        ).order_by("-opens_at", "pk")


# Published reports -----------------------------------------------------------------------


class ReportSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField(source="report.title")
    scope = serializers.ChoiceField(source="report.scope", choices=ReportScope.choices)
    fund = FundRefSerializer(source="report.fund")
    call = serializers.CharField(source="report.call.slug", allow_null=True, default=None)
    network = serializers.CharField(source="report.network.name", allow_null=True, default=None)
    period_start = serializers.DateField(source="report.period_start")
    period_end = serializers.DateField(source="report.period_end")
    version = serializers.IntegerField(source="number")
    published_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, version) -> str:
        return site_url(reverse("reporting:reports"))


class ReportFilter(django_filters.FilterSet):
    fund = django_filters.CharFilter(field_name="report__fund__slug", help_text="The fund's slug")
    scope = choice_filter(field_name="report__scope", choices=ReportScope.choices)
    region = choice_filter(field_name="report__network__region", choices=Region.choices)

    class Meta:
        model = ReportVersion
        fields: list[str] = []


@documented("impact reports", ReportSerializer)
class ReportViewSet(PublicAPIMixin, viewsets.ReadOnlyModelViewSet):
    """Impact report versions that are published and not withdrawn."""

    serializer_class = ReportSerializer
    filterset_class = ReportFilter

    def get_queryset(self):
        return public_versions().select_related(
            "report__fund", "report__call", "report__network"
        ).order_by("-published_at", "-pk")


# The root --------------------------------------------------------------------------------


class RootSerializer(serializers.Serializer):
    awards = serializers.URLField()
    calls = serializers.URLField()
    reports = serializers.URLField()
    schema = serializers.URLField()
    docs = serializers.URLField()
    licence = serializers.URLField()


class ApiRootView(PublicAPIMixin, APIView):
    """Where each part of the API is."""

    @extend_schema(summary="The API's parts, its schema, documentation and licence", responses={200: RootSerializer})
    def get(self, request):
        return Response({
            "awards": site_url(reverse("reporting:api_awards")),
            "calls": site_url(reverse("reporting:api_calls")),
            "reports": site_url(reverse("reporting:api_reports")),
            "schema": site_url(reverse("reporting:api_schema")),
            "docs": site_url(reverse("reporting:api_docs")),
            "licence": settings.OPEN_DATA_LICENCE,
        })


api_root = ApiRootView.as_view()
