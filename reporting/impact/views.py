"""Impact reports: the public list and downloads, and requests, builds, previews and publication
for fund managers (auditors see everything and change nothing).

Reports outside what a person may see answer 404; seeing but not managing answers 403.
Drafts, failed builds and withdrawn versions are never public.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance.access import public, require
from governance.forms import add_service_errors
from governance.models import Fund, Organisation, OrganisationKind
from governance.status_tags import tag_parts

from ..models import ImpactReport, ReportVersion
from ..visibility import (
    publication_blockers,
    report_funds_visible_to,
    reports_visible_to,
    version_for_download,
)
from . import services
from .charts import draw_charts
from .document import document_sections, headline_items
from .forms import ReportRequestForm, ScheduleForm, UnpublishForm
from .selectors import public_report_funds, public_reports, report_versions_of

FILE_KINDS = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8",
              "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


# The public list --------------------------------------------------------------------------


class PublicFilterForm(forms.Form):
    fund = forms.ModelChoiceField(label="Fund", queryset=Fund.objects.none(), required=False, empty_label="All funds")
    network = forms.ModelChoiceField(label="Network", queryset=Organisation.objects.none(), required=False,
                                     empty_label="All networks")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fund"].queryset = public_report_funds()
        self.fields["network"].queryset = Organisation.objects.filter(
            kind=OrganisationKind.HEALTH_INNOVATION_NETWORK).order_by("name")


@public
@require_GET
def reports(request):
    """Published impact reports, newest first, filtered by fund and network, with their files."""
    form = PublicFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    versions = public_reports(fund=filters.get("fund"), network=filters.get("network"))
    page = Paginator(versions, 20).get_page(request.GET.get("page"))
    return render(request, "reporting/reports.html", {
        "form": form, "page": page, "reports": page.object_list, "filtered": bool(filters and any(filters.values())),
        "has_errors": bool(form.errors),
    })


@public
@require_GET
def report_file(request, pk: int, number: int, kind: str):
    """A version's PDF, CSV or XLSX: anyone for a published version; otherwise only the fund's
    managers and auditors (everyone else gets 404, as if it did not exist)."""
    if kind not in FILE_KINDS:
        raise Http404
    version = version_for_download(request.user, pk, number)
    field = getattr(version, kind, None) if version else None
    if not field or version is None:
        raise Http404
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    name = field.name.rsplit("/", 1)[-1]
    response = FileResponse(handle, content_type=FILE_KINDS[kind], as_attachment=kind != "pdf", filename=name)
    if not version.is_public:
        response["Cache-Control"] = "private, no-store"
    return response


# Lists for managers and auditors --------------------------------------------------------------


@require_GET
def manage_reports(request):
    reports_list = reports_visible_to(request.user).prefetch_related("versions")
    funds = report_funds_visible_to(request.user).order_by("name")
    requestable = [fund for fund in funds if request.user.has_perm("reporting.request_impact_report", fund)]
    return render(request, "reporting/reports/manage_list.html", {
        "reports": reports_list, "requestable_funds": requestable,
    })


@require_GET
def fund_reports(request, slug: str):
    fund = get_object_or_404(Fund, slug=slug)
    require(request.user.has_perm("governance.view_fund", fund))
    return render(request, "reporting/reports/fund_list.html", {
        "fund": fund,
        "reports": reports_visible_to(request.user).filter(fund=fund).prefetch_related("versions"),
        "can_request": request.user.has_perm("reporting.request_impact_report", fund),
        "crumbs": [("Funds", reverse("governance:funds")), (fund.name, fund.get_absolute_url())],
    })


@require_http_methods(["GET", "POST"])
def report_request(request, slug: str):
    fund = get_object_or_404(Fund, slug=slug)
    require(request.user.has_perm("reporting.request_impact_report", fund))
    form = ReportRequestForm(request.POST or None, fund=fund)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.impact_report_request(actor=request.user, fund=fund, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            _say_queued(request, version, "Your report is queued. This page shows its progress.")
            return redirect("reporting:report_version", version.report_id, version.number)
    return render(request, "reporting/reports/request.html", {
        "fund": fund, "form": form,
        "crumbs": [("Funds", reverse("governance:funds")), (fund.name, fund.get_absolute_url()),
                   ("Impact reports", reverse("reporting:fund_reports", args=[fund.slug]))],
    })


def _say_queued(request, version: ReportVersion, text: str) -> None:
    if services.build_waits_for_broker(version):
        messages.warning(request, services.QUEUE_UNAVAILABLE)
    else:
        messages.success(request, text)


# One report and its versions -----------------------------------------------------------------


def _report(request, pk: int) -> ImpactReport:
    return get_object_or_404(reports_visible_to(request.user), pk=pk)


def _version(request, pk: int, number: int) -> ReportVersion:
    report = _report(request, pk)
    return get_object_or_404(report.versions.select_related("requested_by", "published_by"), number=number)


def _crumbs(report: ImpactReport, *extra) -> list[tuple[str, str]]:
    return [("Impact reports", reverse("reporting:manage_reports")),
            (report.fund.name, reverse("reporting:fund_reports", args=[report.fund.slug])), *extra]


@require_GET
def report_detail(request, pk: int):
    report = _report(request, pk)
    return render(request, "reporting/reports/report_detail.html", {
        "report": report, "versions": report_versions_of(report),
        "can_manage": request.user.has_perm("reporting.manage_impact_report", report),
        "schedule_form": ScheduleForm(initial={"scheduled_quarterly": report.scheduled_quarterly}),
        "crumbs": _crumbs(report),
    })


@require_POST
def report_rebuild(request, pk: int):
    report = _report(request, pk)
    require(request.user.has_perm("reporting.manage_impact_report", report))
    try:
        version = services.impact_report_rebuild(actor=request.user, report=report)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("reporting:report_detail", report.pk)
    _say_queued(request, version, f"Version {version.number} is queued with the latest data.")
    return redirect("reporting:report_version", report.pk, version.number)


@require_POST
def report_schedule(request, pk: int):
    report = _report(request, pk)
    require(request.user.has_perm("reporting.manage_impact_report", report))
    form = ScheduleForm(request.POST)
    form.is_valid()
    scheduled = bool(form.cleaned_data.get("scheduled_quarterly"))
    if scheduled != report.scheduled_quarterly:
        services.impact_report_schedule(actor=request.user, report=report, scheduled=scheduled)
        messages.success(request, "The report will be rebuilt every quarter." if scheduled
                         else "The report will no longer be rebuilt every quarter.")
    return redirect("reporting:report_detail", report.pk)


def _status(version: ReportVersion) -> dict:
    colour, label = tag_parts("document", version.status)
    return {
        "status": version.status,
        "label": label,
        "colour": colour,  # the page's script draws the same tag as {% status_tag %}
        "step": version.step,
        "error": version.error,
        "finished": version.status in ("ready", "failed"),
    }


@require_GET
def report_version(request, pk: int, number: int):
    version = _version(request, pk, number)
    report = version.report
    blockers = publication_blockers(version) if version.status == "ready" and not version.is_public else []
    return render(request, "reporting/reports/version.html", {
        "report": report, "version": version, "state": _status(version), "publication_blockers": blockers,
        "can_manage": request.user.has_perm("reporting.manage_impact_report", report),
        "status_url": reverse("reporting:report_version_status", args=[pk, number]),
        "crumbs": _crumbs(report, (report.title, reverse("reporting:report_detail", args=[pk]))),
    })


@never_cache
@require_GET
def report_version_status(request, pk: int, number: int):
    """The build's progress as JSON, for the version page's script to poll."""
    return JsonResponse(_status(_version(request, pk, number)))


@require_GET
def report_version_preview(request, pk: int, number: int):
    """The report as it will be published, from the version's snapshot and charts."""
    version = _version(request, pk, number)
    if version.status != "ready" or not version.snapshot:
        raise Http404
    report = version.report
    return render(request, "reporting/reports/preview.html", {
        "report": report, "version": version, "meta": version.snapshot["meta"],
        "headline": headline_items(version.snapshot),
        "sections": document_sections(version.snapshot, _stored_charts(version)),
        "can_manage": request.user.has_perm("reporting.manage_impact_report", report),
        "crumbs": _crumbs(report, (report.title, reverse("reporting:report_detail", args=[pk])),
                          (f"Version {number}", reverse("reporting:report_version", args=[pk, number]))),
    })


def _stored_charts(version: ReportVersion) -> dict[str, str]:
    """The SVGs saved with the build; drawn again from the snapshot if any has gone missing."""
    from django.core.files.storage import default_storage

    charts = {}
    snapshot: dict[str, Any] = version.snapshot or {}  # a built version has its snapshot
    for part in snapshot["sections"]:
        for spec in part["charts"]:
            try:
                with default_storage.open(services.chart_path(version, spec["key"])) as handle:
                    charts[spec["key"]] = handle.read().decode("utf-8")
            except FileNotFoundError:
                return draw_charts(snapshot)
    return charts


@require_POST
def report_version_retry(request, pk: int, number: int):
    version = _version(request, pk, number)
    require(request.user.has_perm("reporting.manage_impact_report", version.report))
    try:
        retry = services.report_version_retry(actor=request.user, version=version)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("reporting:report_version", pk, number)
    _say_queued(request, retry, f"Trying again as version {retry.number}.")
    return redirect("reporting:report_version", pk, retry.number)


@require_http_methods(["GET", "POST"])
def report_version_publish(request, pk: int, number: int):
    """Publishing asks first: the confirmation page says what becomes public and what it replaces;
    only its button (a POST with ``confirm=yes``) publishes."""
    version = _version(request, pk, number)
    report = version.report
    require(request.user.has_perm("reporting.manage_impact_report", report))
    if version.is_public:
        messages.info(request, f"Version {number} is already published.")
        return redirect("reporting:report_version", pk, number)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            services.report_version_publish(actor=request.user, version=version)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Version {number} is published on the impact reports page.")
        return redirect("reporting:report_version", pk, number)
    blockers = publication_blockers(version) if version.status == "ready" else [services.ONLY_READY_PUBLISH]
    replaces = report.versions.exclude(pk=version.pk).filter(published_at__isnull=False, unpublished_at__isnull=True)
    return render(request, "reporting/reports/publish.html", {
        "report": report, "version": version, "publication_blockers": blockers, "replaces": list(replaces),
        "crumbs": _crumbs(report, (report.title, reverse("reporting:report_detail", args=[pk])),
                          (f"Version {number}", reverse("reporting:report_version", args=[pk, number]))),
    })


@require_http_methods(["GET", "POST"])
def report_version_unpublish(request, pk: int, number: int):
    version = _version(request, pk, number)
    report = version.report
    require(request.user.has_perm("reporting.manage_impact_report", report))
    if not version.is_public:
        messages.error(request, services.NOT_PUBLISHED)
        return redirect("reporting:report_version", pk, number)
    form = UnpublishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_version_unpublish(actor=request.user, version=version, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Version {number} is withdrawn from the impact reports page.")
            return redirect("reporting:report_version", pk, number)
    return render(request, "reporting/reports/unpublish.html", {
        "report": report, "version": version, "form": form,
        "crumbs": _crumbs(report, (report.title, reverse("reporting:report_detail", args=[pk])),
                          (f"Version {number}", reverse("reporting:report_version", args=[pk, number]))),
    })
