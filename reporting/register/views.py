"""The public award register and open data: the list, one award, the exports and the API docs.

Every view here is public and reads only published awards (``reporting.register.selectors``).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from awards.models import Award
from governance.access import public
from governance.models import InnovationType

from .opendata import stream_360giving, stream_csv, write_xlsx
from .opendata_files import built_file, request_build
from .public_version import public_version
from .read_model import cached_totals
from .selectors import (
    PAGE_SIZE,
    AwardFilter,
    RegisterFilter,
    award_record,
    list_rows,
    register_award,
    register_stamp,
    site_url,
)

logger = logging.getLogger(__name__)
NOT_PUBLISHED = "No published award has this reference"
NO_GRANTS = "No published awards match these filters; a 360Giving package needs at least one grant."
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
PAGE_NOT_A_NUMBER = "Page numbers are whole numbers, like 2. Showing the first page."
PAGE_OUT_OF_RANGE = "There is no page {asked}. Showing page {shown}, the last page."


def _page(paginator: Paginator, asked: str | None):
    """The page asked for, or the nearest real one with a message saying so."""
    if asked in (None, ""):
        return paginator.page(1), None
    try:
        number = int(asked)
    except (TypeError, ValueError):
        return paginator.page(1), PAGE_NOT_A_NUMBER
    if number < 1:
        return paginator.page(1), PAGE_NOT_A_NUMBER
    if number > paginator.num_pages:
        return paginator.page(paginator.num_pages), PAGE_OUT_OF_RANGE.format(asked=number, shown=paginator.num_pages)
    return paginator.page(number), None


class _Rows:
    """A page of the read model's rows, shown as their awards (in the same order)."""

    def __init__(self, entries):
        self.entries = entries

    def __getitem__(self, window):
        paid = dict(self.entries.values_list("pk", "paid")[window])
        awards = {award.pk: award for award in list_rows(Award.objects.filter(pk__in=paid), paid=False)}
        for pk, amount in paid.items():
            awards[pk].paid = amount
        return [awards[pk] for pk in paid]


@public
@require_safe
def register(request):
    filterset = RegisterFilter(request.GET)
    entries = filterset.qs
    totals = cached_totals(filterset.unsorted, filterset.totals_key)
    paginator = Paginator(_Rows(entries), PAGE_SIZE)
    paginator.count = totals.count  # counted with the (cached) totals: no COUNT query
    page, page_message = _page(paginator, request.GET.get("page"))
    active = filterset.active
    query = urlencode(active)
    suffix = f"?{query}" if query else ""
    return render(request, "reporting/register/list.html", {
        "filter": filterset,
        "form": filterset.form,
        "page": page,
        "page_message": page_message,
        "totals": totals,
        "active": active,
        "downloads": {
            "csv": reverse("reporting:register_csv") + suffix,
            "xlsx": reverse("reporting:register_xlsx") + suffix,
            "json": reverse("reporting:register_360giving") + suffix,
        },
        "licence_url": settings.OPEN_DATA_LICENCE,
        "crumbs": [("Home", reverse("home"))],
    })


def year_chart(years) -> dict | None:
    """Bars for awarded and paid in each financial year, scaled into a 480 × 250 box."""
    if not years:
        return None
    top = max(max(row.awarded, row.paid) for row in years) or Decimal(1)
    width, height, left, base = 480, 250, 84, 190
    slot = (width - left - 8) / len(years)
    bar = min(56.0, slot / 3)
    bars = []
    for index, row in enumerate(years):
        x = left + index * slot + (slot - 2 * bar) / 2
        for offset, value, colour, name in ((0, row.awarded, "#005eb8", "awarded"), (bar, row.paid, "#007f3b", "paid")):
            h = float(value / top) * (base - 20)
            bars.append({"x": round(x + offset, 1), "y": round(base - h, 1), "h": round(h, 1), "w": round(bar - 2, 1),
                         "colour": colour, "title": f"{row.label} {name}", "value": value})
        bars[-1]["label_x"] = round(x + bar, 1)
        bars[-1]["label"] = row.label
    return {"width": width, "height": height, "left": left, "base": base, "bars": bars, "top": top}


@public
@require_safe
def award(request, reference: str):
    try:
        award = register_award(reference)
    except Award.DoesNotExist:
        raise Http404(NOT_PUBLISHED) from None
    record = award_record(award)
    return render(request, "reporting/register/award.html", {
        "award": award,
        "record": record,
        "call": award.bid.call,
        "innovation_type": InnovationType(award.bid.innovation_type).label if award.bid.innovation_type in InnovationType.values else "",
        "chart": year_chart(record.years),
        "crumbs": [("Home", reverse("home")), ("Award register", reverse("reporting:register"))],
    })


# Exports ---------------------------------------------------------------------------------


def _filtered_for_export(request):
    """The filtered awards, or a 400 naming each filter that could not be used."""
    filterset = AwardFilter(request.GET)
    if not filterset.is_valid():
        lines = [f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()]
        body = "These filters could not be used, so nothing was exported:\n" + "\n".join(lines) + "\n"
        return None, HttpResponse(body, status=400, content_type="text/plain; charset=utf-8")
    filterset.qs  # noqa: B018 - builds the filtered queryset (lazily: no query yet)
    return filterset, None


def _conditional(request, kind: str, queryset):
    """ETag and Last-Modified from two cheap aggregates; a 304 when the client is up to date."""
    stamp = register_stamp(queryset)
    etag = stamp.etag(kind, request.GET.urlencode())
    last_modified = int(stamp.last_modified.timestamp()) if stamp.last_modified else None
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    return stamp, etag, last_modified, not_modified


def _finish(response, etag: str, last_modified: int | None, filename: str | None = None):
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, no_cache=True)
    response["X-Content-Type-Options"] = "nosniff"
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _filename(extension: str) -> str:
    return f"award-register-{timezone.localdate():%Y-%m-%d}.{extension}"


def _export(request, kind: str, content_type: str, build, filename: str | None = None):
    """Filter, answer 304 if the client is up to date (or just the headers to a HEAD request),
    else serve the file built ahead (no filters) or ``build(queryset, stamp, etag, last_modified)``."""
    if not request.GET and request.method == "GET" and (served := _built_file(request, kind, content_type, filename)):
        return served
    filterset, error = _filtered_for_export(request)
    if error:
        return error
    queryset = filterset.unsorted
    stamp, etag, last_modified, not_modified = _conditional(request, kind, queryset)
    if not_modified is not None:
        return _finish(not_modified, etag, last_modified)
    if request.method == "HEAD":
        return _finish(HttpResponse(content_type=content_type), etag, last_modified)
    return build(queryset, stamp, etag, last_modified)


def _built_file(request, kind: str, content_type: str, filename: str | None):
    """The unfiltered file of the current public version, built ahead (``opendata_files``),
    with that version's validator; None if there is none yet, after asking for a build (once;
    where Celery runs in-process it is made there and then, and served)."""
    cached = getattr(request, "_public_cache", None)
    version = cached[2] if cached else public_version()
    etag = version.etag(request.resolver_match.view_name, request.get_full_path())
    last_modified = int(version.last_modified.timestamp()) if version.last_modified else None
    if (not_modified := get_conditional_response(request, etag=etag, last_modified=last_modified)) is not None:
        return _finish(not_modified, etag, last_modified)
    handle = built_file(version.token, kind)
    if handle is None:
        try:
            asked = request_build(version.token)
        except Exception:  # a build run in-process failed: this download streams, as before
            logger.exception("The open data files could not be built")
            asked = False
        handle = built_file(version.token, kind) if asked else None
    if handle is None:
        return None
    return _finish(FileResponse(handle, content_type=content_type), etag, last_modified, filename)


@public
@require_safe
def register_360giving(request):
    def build(queryset, stamp, etag, last_modified):
        if stamp.count == 0:
            response = JsonResponse({"detail": NO_GRANTS}, status=404)
            return _finish(response, etag, last_modified)
        download = site_url(request.get_full_path())
        stream = stream_360giving(queryset, download_url=download, last_modified=stamp.last_modified)
        response = StreamingHttpResponse((piece.encode() for piece in stream), content_type=JSON_TYPE)
        return _finish(response, etag, last_modified)

    return _export(request, "360giving", JSON_TYPE, build)


@public
@require_safe
def register_csv(request):
    def build(queryset, stamp, etag, last_modified):
        response = StreamingHttpResponse((piece.encode() for piece in stream_csv(queryset)), content_type=CSV_TYPE)
        return _finish(response, etag, last_modified, _filename("csv"))

    return _export(request, "csv", CSV_TYPE, build, _filename("csv"))


@public
@require_safe
def register_xlsx(request):
    def build(queryset, stamp, etag, last_modified):
        response = FileResponse(write_xlsx(queryset), content_type=XLSX_TYPE)
        return _finish(response, etag, last_modified, _filename("xlsx"))

    return _export(request, "xlsx", XLSX_TYPE, build, _filename("xlsx"))


@public
@require_safe
def api_docs(request):
    return render(request, "reporting/register/api_docs.html", {
        "filter": AwardFilter(),
        "licence_url": settings.OPEN_DATA_LICENCE,
        "crumbs": [("Home", reverse("home")), ("Award register", reverse("reporting:register"))],
    })
