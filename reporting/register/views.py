"""The public award register and open data: the list, one award, the exports and the API docs.

Every view here is public and reads only published awards (``reporting.register.selectors``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from awards.models import Award
from governance.access import public
from governance.models import InnovationType

from . import selectors
from .opendata import stream_360giving, stream_csv, write_xlsx
from .opendata_files import built_file, request_build
from .public_cache import cached_part, normalised_query
from .public_version import public_version
from .read_model import cached_totals, public_totals
from .selectors import (
    PAGE_SIZE,
    AwardFilter,
    RegisterFilter,
    Totals,
    award_record,
    decode_cursor,
    encode_cursor,
    keyset_after,
    keyset_order,
    keyset_values,
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


def _page_number(asked: str | None, num_pages: int) -> tuple[int, str | None]:
    """The page asked for, or the nearest real one with a message saying so."""
    if asked in (None, ""):
        return 1, None
    try:
        number = int(asked)
    except (TypeError, ValueError):
        return 1, PAGE_NOT_A_NUMBER
    if number < 1:
        return 1, PAGE_NOT_A_NUMBER
    if number > num_pages:
        return num_pages, PAGE_OUT_OF_RANGE.format(asked=number, shown=num_pages)
    return number, None


# The parameters the register page reads (its filters, order, page and cursors), in a fixed
# order: the key of its cached part and the base of its page links.
LINK_PARAMS = tuple(name for name in RegisterFilter.base_filters)
PAGE_PARAMS = (*LINK_PARAMS, "page", "after", "before")


@dataclass
class RegisterPage:
    """One page of the register: its awards, where it is, and the links to its neighbours.

    The first page reads the first rows of the sort key's index. "Next" and "Previous" carry the
    page number (for "page 3 of 2,000") and a cursor, the sort keys of the last (or first) row
    shown: the page they open reads the rows after (before) it on the index, at the same cost
    however deep. A page number without a cursor (typed in, or an old link) still works, by
    position (``OFFSET``: cost grows with the depth). The relevance order has no cursor: its set
    is at most ``SEARCH_RANK_LIMIT`` rows."""

    object_list: list
    number: int
    num_pages: int
    count: int
    next_url: str | None = None
    previous_url: str | None = None

    @property
    def start_index(self) -> int:
        return (self.number - 1) * PAGE_SIZE + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.object_list) - 1 if self.object_list else 0


def _awards_of(rows: list[tuple]) -> list[Award]:
    """The awards of a page of the read model's rows (``pk, paid, ...``), in the same order."""
    paid = {row[0]: row[1] for row in rows}
    awards = {award.pk: award for award in list_rows(Award.objects.filter(pk__in=paid), paid=False)}
    for pk, amount in paid.items():
        awards[pk].paid = amount  # type: ignore[attr-defined]  # as list_rows(paid=True) annotates it
    return [awards[pk] for pk in paid]


def register_page(entries, count: int, query, base: list[tuple[str, str]], *,
                  first_only: bool = False) -> tuple[RegisterPage, str | None]:
    """The page of ``entries`` (sorted, ``count`` of them) that ``query`` asks for; with
    ``first_only`` there are more, and only the first ``count`` are listed."""
    num_pages = max(1, -(-count // PAGE_SIZE))
    number, message = _page_number(query.get("page"), num_pages)
    size = min(PAGE_SIZE, count - (number - 1) * PAGE_SIZE) if first_only else PAGE_SIZE
    order = keyset_order(entries)
    columns = ["pk", "paid", *(keyset_values(entries, order) if order else [])]
    rows = None
    if order and number > 1 and message is None:
        for name, forward in (("after", True), ("before", False)):
            values = decode_cursor(query.get(name), entries, order)
            if values is not None:
                found = list(keyset_after(entries, order, values, forward=forward).values_list(*columns)[:size])
                rows = (found if forward else found[::-1]) or None  # none: the data moved; by position
                break
    if rows is None:
        start = (number - 1) * PAGE_SIZE
        rows = list(entries.values_list(*columns)[start:start + size])
    page = RegisterPage(object_list=_awards_of(rows), number=number, num_pages=num_pages, count=count)

    def link(page_number: int, cursor: tuple[str, tuple] | None) -> str:
        params = list(base)
        if page_number > 1:
            params.append(("page", str(page_number)))
            if cursor and order:
                params.append((cursor[0], encode_cursor(cursor[1][2:])))
        return reverse("reporting:register") + (f"?{urlencode(params)}" if params else "")

    if rows and number < num_pages:
        page.next_url = link(number + 1, ("after", rows[-1]))
    if number > 1:
        page.previous_url = link(number - 1, ("before", rows[0]) if rows else None)
    return page, message


@public
@require_safe
def register(request):
    part = cached_part("register", request, [normalised_query(request.GET, PAGE_PARAMS)],
                       lambda: _register_part(request.GET))
    return render(request, "reporting/register/list.html", {
        "content": mark_safe(part["content"]),  # noqa: S308 - rendered from our own template, escaped there
        "page_number": part["page_number"],
        "num_pages": part["num_pages"],
        "has_errors": part["has_errors"],
        "crumbs": [("Home", reverse("home"))],
    })


def _register_part(query) -> dict:
    """The register's list for this query (filters, totals, rows, page links), rendered: the
    same for everyone, so kept under the public version (``public_cache``)."""
    filterset = RegisterFilter(query)
    filterset.qs  # noqa: B018 - sorts and filters (lazily: no query yet)
    active = filterset.active
    totals = register_list_totals(filterset, active)
    entries, newest_first = filterset.capped(totals.count + totals.more)
    base = [(name, value) for name in LINK_PARAMS for value in query.getlist(name) if value != ""]
    page, page_message = register_page(entries, totals.count, query, base, first_only=totals.more)
    search_message = None
    if totals.more:
        search_message = f"{selectors.SEARCH_NEWEST_FIRST if newest_first else selectors.SEARCH_MANY} {selectors.SEARCH_FIRST_ONLY}"
    elif newest_first:
        search_message = selectors.SEARCH_NEWEST_FIRST
    suffix = f"?{urlencode(active)}" if active else ""
    content = render_to_string("reporting/register/_list.html", {
        "filter": filterset,
        "form": filterset.form,
        "page": page,
        "page_message": page_message,
        "search_message": search_message,
        "totals": totals,
        "active": active,
        "downloads": {
            "csv": reverse("reporting:register_csv") + suffix,
            "xlsx": reverse("reporting:register_xlsx") + suffix,
            "json": reverse("reporting:register_360giving") + suffix,
        },
        "licence_url": settings.OPEN_DATA_LICENCE,
        "open_data_licence_name": settings.OPEN_DATA_LICENCE_NAME,
    })
    return {"content": str(content), "page_number": page.number, "num_pages": page.num_pages,
            "has_errors": bool(filterset.form.errors)}


def register_list_totals(filterset: RegisterFilter, active: dict[str, str]) -> Totals:
    """The totals the list shows: with no filter, the register's running totals (constant cost);
    for a search, added up only as far as ``SEARCH_RANK_LIMIT`` matches; otherwise the filtered
    rows' totals (read from covering indexes)."""
    if not active:
        return public_totals()
    entries = filterset.unsorted if filterset.unsorted is not None else filterset.qs
    return cached_totals(entries, filterset.totals_key, limit=selectors.SEARCH_RANK_LIMIT if filterset.searching else None)


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
    part = cached_part("award", request, [reference], lambda: _award_part(reference))
    if part is None:
        raise Http404(NOT_PUBLISHED)
    return render(request, "reporting/register/award.html", {
        "content": mark_safe(part["content"]),  # noqa: S308 - rendered from our own template, escaped there
        "title": part["title"],
        "crumbs": [("Home", reverse("home")), ("Award register", reverse("reporting:register"))],
    })


def _award_part(reference: str) -> dict | None:
    """One published award's page, rendered (None if no published award has this reference):
    the same for everyone, so kept under the public version (``public_cache``)."""
    try:
        award = register_award(reference)
    except Award.DoesNotExist:
        return None
    record = award_record(award)
    content = render_to_string("reporting/register/_award.html", {
        "award": award,
        "record": record,
        "call": award.bid.call,
        "innovation_type": InnovationType(award.bid.innovation_type).label if award.bid.innovation_type in InnovationType.values else "",
        "chart": year_chart(record.years),
    })
    return {"content": str(content), "title": award.title}


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
