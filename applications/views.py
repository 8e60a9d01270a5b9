"""Bid pages. Thin: they find the bid in what the person may see (404 otherwise), check the
permission (403), hand what was typed to a service and show what it says."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance import uploads
from governance.access import require
from governance.forms import add_service_errors, submit_form
from governance.models import Call, Organisation, OrganisationKind
from governance.request_time import request_started_at
from governance.sections import edit_section, form_has_errors, has_code
from governance.selectors import (
    calls_open_now,
    calls_public,
    organisation_search,
    organisations_of,
    request_roles,
)

from . import checks, forms, selectors, services, visibility
from .exports import csv_text
from .extensions import sections_for_bid
from .models import (
    NOT_SUBMITTED_LABEL,
    Bid,
    BidPartner,
    BidSection,
    BidSectionState,
    BidStatus,
    EndorsementStatus,
    ProjectedSaving,
    SectionStatus,
)
from .sections import SECTION_PAGES

SECTION_HINTS = {
    BidSection.SUMMARY: "Title, summary, the problem and the project's dates",
    BidSection.INNOVATION: "Type of innovation, evidence base, NICE or other evidence",
    BidSection.PATHWAY: "Primary, community, secondary, tertiary, social care, patients at home",
    BidSection.PARTNERS: "Partner organisations and the commissioner who endorses the bid",
    BidSection.COSTS: "By financial year and category, capital or revenue; match funding",
    BidSection.SAVINGS: "Cashable and non-cashable, by year, with the projected return",
    BidSection.BENEFITS: "Measures with a baseline, target and date",
    BidSection.DELIVERY: "Plan, sustainability and milestones",
    BidSection.RISKS: "Risks and how you will manage them",
    BidSection.ATTACHMENTS: "Evaluations, letters of support (optional)",
}


# Finding the bid -----------------------------------------------------------------------------------


def _visible_bid(request, pk: int) -> Bid:
    bid = visibility.bid_visible_to(request.user, pk)
    if bid is None:
        raise Http404("No such bid")
    return bid


def _writable_bid(request, pk: int) -> Bid:
    bid = _visible_bid(request, pk)
    require(request.user.has_perm("applications.write_bid", bid))
    return bid


def _closed_to_changes(request, bid: Bid, now=None):
    """A redirect to the bid with the reason, if the bid can no longer change; else None. The
    closing time is judged against when the request reached the service (``request_time``)."""
    now = now or request_started_at(request)
    if bid.status != BidStatus.DRAFT:
        messages.error(request, services.BID_LOCKED.format(status=bid.get_status_display().lower()))
        return redirect(bid)
    if not bid.call.is_accepting_bids(now):
        messages.error(request, services.CALL_CLOSED_FOR_CHANGES.format(closed=checks.uk_datetime(bid.call.closes_at)))
        return redirect(bid)
    return None


def _crumbs(bid: Bid | None = None, *extra) -> list[tuple[str, str]]:
    crumbs = [("Home", reverse("dashboard")), ("Bids", reverse("applications:bids"))]
    if bid is not None:
        crumbs.append((bid.reference, bid.get_absolute_url()))
    return [*crumbs, *extra]


# Lists -------------------------------------------------------------------------------------------


@require_GET
def bid_list(request):
    """Your organisations' bids, bids waiting for your endorsement, and calls you manage."""
    roles = request_roles(request)
    managed_calls = []
    if roles.is_fund_manager or roles.is_auditor or roles.is_site_admin:
        visible = visibility.bids_visible_to(request.user)
        call_ids = visible.values("call_id")
        for call in calls_public().filter(pk__in=call_ids).order_by("-closes_at"):
            counts = selectors.bid_status_counts(visible.filter(call=call))
            managed_calls.append((call, [(BidStatus(s).label.lower(), n) for s, n in counts.items() if n]))
    return render(request, "applications/bid_list.html", {
        "my_bids": selectors.with_totals(selectors.bids_of_my_organisations(request.user)),
        "my_eois": list(selectors.eois_of_my_organisations(request.user)[:20]) if roles.is_applicant else [],
        "to_endorse": selectors.bids_awaiting_endorsement(request.user),
        "endorsed": selectors.bids_endorsed_or_declined_by(request.user)[:20],
        "open_calls": list(calls_open_now()) if roles.is_applicant else [],
        "managed_calls": managed_calls,
        "roles": roles,
        "now": timezone.now(),
        "crumbs_home": [("Home", reverse("dashboard"))],
    })


# Starting a bid ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def bid_start(request, slug: str):
    call = get_object_or_404(calls_public(), slug=slug)
    organisations = organisations_of(request.user).exclude(kind=OrganisationKind.HEALTH_INNOVATION_NETWORK).order_by("name")
    has_organisation = organisations_of(request.user).exists()
    form = forms.BidStartForm(request.POST or None, organisations=organisations,
                              initial={"organisation": organisations.first()} if organisations.count() == 1 else None)
    accepting = call.is_accepting_bids()
    if request.method == "POST" and form.is_valid():
        try:
            bid = services.bid_start(actor=request.user, call=call, organisation=form.cleaned_data["organisation"],
                                     title=form.cleaned_data["title"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Bid {bid.reference} started. Complete each section, then check and submit it.")
            return redirect(bid)
    elif request.method == "POST" and not has_organisation:
        form.errors.clear()
        form.add_error(None, services.NO_ORGANISATION)
    eligibility = [(org, checks.lead_eligibility_problem(call, org)) for org in organisations]
    return render(request, "applications/bid_start.html", {
        "call": call, "form": form, "accepting": accepting, "has_organisation": has_organisation,
        "eligibility": eligibility, "closed_message": (
            services.CALL_CLOSED.format(closed=checks.uk_datetime(call.closes_at))
            if timezone.now() >= call.closes_at else services.CALL_NOT_OPEN),
        "crumbs": [("Home", reverse("home")), ("Funding calls", reverse("governance:calls")),
                   (call.title, call.get_absolute_url())],
    })


# The bid: task list or read-only -------------------------------------------------------------------


@require_GET
def bid_detail(request, pk: int):
    bid = _visible_bid(request, pk)
    can_write = request.user.has_perm("applications.write_bid", bid)
    context = {"bid": bid, "crumbs": _crumbs(), "can_write": can_write,
               "pdf": services.bid_pdf_current(bid), "eoi": getattr(bid, "eoi", None) if bid.call.eoi_stage else None,
               "extra_sections": sections_for_bid(request, bid)}
    if can_write and bid.status == BidStatus.DRAFT:
        # The sections' states are read once: for their statuses and for who completed them.
        prefetch_related_objects([bid], Prefetch("section_states", BidSectionState.objects.select_related("updated_by")))
        statuses, problems = checks.bid_overview(bid)
        filled = list(checks.FILLED_SECTIONS)
        done = sum(1 for s in filled if statuses[s] == SectionStatus.COMPLETED)
        ready = not problems
        completed_by = {state.section: state.updated_by for state in bid.section_states.all()
                        if state.status == SectionStatus.COMPLETED}
        context.update({
            "tasks": [(section, statuses[section], SECTION_HINTS.get(section, ""), completed_by.get(section))
                      for section in filled],
            "can_manage_team": request.user.has_perm("applications.manage_team", bid),
            "can_comment": request.user.has_perm("applications.view_comments", bid),
            "sign_offs": _sign_off_rows(bid) if bid.call.partner_sign_off_required else [],
            "can_sign_off": bool(services.sign_off_organisations(request.user, bid)),
            "completed_count": done, "section_count": len(filled), "ready": ready,
            "accepting": bid.call.is_accepting_bids(),
            "endorsement_problem": next((p for p in problems if p.section == checks.ENDORSEMENT), None),
            "commissioner_has_endorser": selectors.has_active_endorser(bid.commissioner_id),
            "can_request_endorsement": (
                bid.call.endorsement_required and bid.commissioner_id is not None
                and bid.endorsement_status in (EndorsementStatus.NOT_REQUESTED, EndorsementStatus.DECLINED)
            ),
        })
        return render(request, "applications/bid_tasks.html", context)
    context.update(selectors.bid_content(bid))
    context.update({
        "can_comment": request.user.has_perm("applications.view_comments", bid),
        "can_sign_off": bid.status == BidStatus.DRAFT and bool(services.sign_off_organisations(request.user, bid)),
        "can_endorse": request.user.has_perm("applications.endorse_bid", bid)
        and bid.endorsement_status == EndorsementStatus.PENDING and bid.status == BidStatus.DRAFT,
        "can_manage": request.user.has_perm("applications.manage_bid", bid)
        and bid.status in (BidStatus.SUBMITTED, BidStatus.IN_ASSESSMENT),
        "can_withdraw": can_write and bid.status == BidStatus.SUBMITTED and timezone.now() < bid.call.closes_at,
        "can_record_endorsement": request.user.has_perm("applications.record_offline_endorsement", bid)
        and bid.status == BidStatus.DRAFT and bid.commissioner_id is not None
        and bid.endorsement_status != EndorsementStatus.ENDORSED,
    })
    return render(request, "applications/bid_detail.html", context)


# Sections ------------------------------------------------------------------------------------------


ROW_LABELS = {"costs": "Cost", "match": "Match funding", "savings": "Saving", "measures": "Measure",
              "milestones": "Milestone", "risks": "Risk"}


def _anchor(field) -> str:
    if field.widget_type in ("nhsdate", "nhsdatetime", "radioselect", "checkboxselectmultiple"):
        return f"#{field.auto_id}_0"
    return f"#{field.auto_id}"


def _error_items(built: dict) -> list[tuple[str, str]]:
    """Every error on the page as (link to the field, message), for the error summary."""
    items: list[tuple[str, str]] = []
    for name, form in built.items():
        if not form.is_bound:
            continue
        if hasattr(form, "forms"):
            label = ROW_LABELS.get(name, "Row")
            items += [(f"#{form.prefix}-errors", str(error)) for error in form.non_form_errors()]
            for number, row in enumerate(form.forms, 1):
                items += [(f"#{row.prefix}-errors", f"{label} {number}: {error}") for error in row.non_field_errors()]
                items += [(_anchor(field), f"{label} {number}: {error}") for field in row for error in field.errors]
        else:
            anchor = "#main-errors" if name == "main" else f"#{name}-errors"
            items += [(anchor, str(error)) for error in form.non_field_errors()]
            items += [(_anchor(field), str(error)) for field in form for error in field.errors]
    return items


def _section_context(request, bid: Bid, section: str, built: dict, state=None, **extra) -> dict:
    if state is None:
        state = selectors.section_state(bid, section)
    has_errors = any(form_has_errors(form) for form in built.values())
    return {
        "bid": bid, "section": BidSection(section), "forms": built, "main": built["main"], "state": state,
        "formsets": [(name, ROW_LABELS[name], built[name]) for name in built if name in ROW_LABELS],
        "problems": checks.problems_in_section(bid, section) if not has_errors else [],
        "has_errors": has_errors, "error_items": _error_items(built),
        "crumbs": _crumbs(bid),
        **extra,
    }


@require_http_methods(["GET", "POST"])
def bid_section(request, pk: int, section: str):
    bid = _writable_bid(request, pk)
    page_class = SECTION_PAGES.get(section)
    if page_class is None:
        raise Http404("No such section")
    if refused := _closed_to_changes(request, bid):
        return refused
    posted = request.POST if request.method == "POST" else None
    page = page_class(bid, posted, more=request.GET.get("rows") == "more", now=request_started_at(request))
    more_url = reverse("applications:bid_section", kwargs={"pk": bid.pk, "section": section}) + "?rows=more"
    page, saved = edit_section(request, page, saved_url=more_url if "more" in request.POST else bid.get_absolute_url())
    if saved:
        return saved
    context = _section_context(request, bid, section, page.forms, state=page.state, conflict=page.stale,
                               rows=page.more_rows)
    return render(request, page.template, {**context, **page.context()}, status=409 if page.stale else 200)


# Partners --------------------------------------------------------------------------------------------


def _partner_crumbs(bid: Bid) -> list[tuple[str, str]]:
    return _crumbs(bid, ("Partners", reverse("applications:bid_section", kwargs={"pk": bid.pk, "section": "partners"})))


@require_GET
def partner_search(request, pk: int):
    bid = _writable_bid(request, pk)
    if refused := _closed_to_changes(request, bid):
        return refused
    form = forms.PartnerSearchForm(request.GET or None)
    results = []
    if form.is_valid() and form.cleaned_data["q"]:
        on_bid = {bid.lead_organisation_id, *bid.partners.values_list("organisation_id", flat=True)}
        results = [(org, org.pk in on_bid) for org in organisation_search(form.cleaned_data["q"])]
    return render(request, "applications/partners/search.html", {
        "bid": bid, "form": form, "results": results, "searched": form.is_bound,
        "crumbs": _partner_crumbs(bid),
    })


@require_http_methods(["GET", "POST"])
def partner_add(request, pk: int, organisation_pk: int):
    bid = _writable_bid(request, pk)
    if refused := _closed_to_changes(request, bid):
        return refused
    organisation = get_object_or_404(Organisation, pk=organisation_pk)
    form = forms.PartnerForm(request.POST or None)
    if submit_form(request, form, lambda: services.bid_partner_add(
            actor=request.user, bid=bid, now=request_started_at(request), organisation=organisation, **form.cleaned_data)):
        messages.success(request, f"{organisation.name} added as a partner.")
        return redirect("applications:bid_section", pk=bid.pk, section="partners")
    return render(request, "applications/partners/form.html", {
        "bid": bid, "form": form, "organisation": organisation, "adding": True,
        "crumbs": _partner_crumbs(bid),
    })


@require_http_methods(["GET", "POST"])
def partner_change(request, pk: int, partner_pk: int):
    bid = _writable_bid(request, pk)
    if refused := _closed_to_changes(request, bid):
        return refused
    partner = get_object_or_404(bid.partners.select_related("organisation"), pk=partner_pk)
    state = selectors.section_state(bid, BidSection.PARTNERS)
    form = forms.PartnerChangeForm(request.POST or None, initial={
        "version": state.version, "role": partner.role, "contribution": partner.contribution})
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            services.bid_partner_change(actor=request.user, bid=bid, now=request_started_at(request), partner=partner, **form.cleaned_data)
        except ValidationError as error:
            conflict = has_code(error, "conflict")
            add_service_errors(form, error)
        else:
            messages.success(request, f"{partner.organisation.name} changed.")
            return redirect("applications:bid_section", pk=bid.pk, section="partners")
    return render(request, "applications/partners/form.html", {
        "bid": bid, "form": form, "organisation": partner.organisation, "adding": False, "conflict": conflict,
        "crumbs": _partner_crumbs(bid),
    }, status=409 if conflict else 200)


@require_POST
def partner_remove(request, pk: int, partner_pk: int):
    bid = _writable_bid(request, pk)
    if refused := _closed_to_changes(request, bid):
        return refused
    partner = get_object_or_404(bid.partners.select_related("organisation"), pk=partner_pk)
    try:
        services.bid_partner_remove(actor=request.user, bid=bid, now=request_started_at(request), partner=partner)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{partner.organisation.name} removed from the partners.")
    return redirect("applications:bid_section", pk=bid.pk, section="partners")


# Attachments -------------------------------------------------------------------------------------------


@uploads.limit_upload_size(uploads.BID_ATTACHMENT)
@require_http_methods(["GET", "POST"])
def bid_attachments(request, pk: int):
    # The size limit is in place before anything reads the upload (see limit_upload_size).
    bid = _writable_bid(request, pk)
    if refused := _closed_to_changes(request, bid):
        return refused
    state = selectors.section_state(bid, BidSection.ATTACHMENTS)
    too_large = "file" in uploads.too_large_fields(request)
    main = forms.SectionForm(request.POST if "confirm" in request.POST else None, initial={"version": state.version})
    upload_form = forms.AttachmentForm(request.POST if "upload" in request.POST else None,
                                       request.FILES if "upload" in request.POST else None)
    conflict = False
    if request.method == "POST" and "confirm" in request.POST and main.is_valid():
        try:
            services.bid_section_confirm(actor=request.user, bid=bid, now=request_started_at(request), section=BidSection.ATTACHMENTS,
                                         version=main.cleaned_data["version"])
        except ValidationError as error:
            conflict = has_code(error, "conflict")
            add_service_errors(main, error)
        else:
            messages.success(request, "Attachments saved.")
            return redirect(bid)
    elif request.method == "POST" and "upload" in request.POST and upload_form.is_valid():
        try:
            if too_large:
                raise ValidationError({"file": services.FILE_TOO_LARGE})
            attachment = services.bid_attachment_add(actor=request.user, bid=bid, now=request_started_at(request), upload=request.FILES.get("file"),
                                                     description=upload_form.cleaned_data["description"])
        except ValidationError as error:
            add_service_errors(upload_form, error)
        else:
            if attachment.scan_status == uploads.ScanStatus.AWAITING:
                messages.success(request, f"{attachment.original_name} uploaded. It is being checked for viruses "
                                          "and can be opened once the check is done.")
            else:
                messages.success(request, f"{attachment.original_name} uploaded.")
            return redirect("applications:bid_section", pk=bid.pk, section=BidSection.ATTACHMENTS)
    elif request.method == "POST" and too_large:
        upload_form.add_error("file", services.FILE_TOO_LARGE)
    built = {"main": main, "upload": upload_form}
    return render(request, "applications/sections/attachments.html", {
        **_section_context(request, bid, BidSection.ATTACHMENTS, built, state=state, conflict=conflict),
        "attachments": list(selectors.bid_attachments(bid)),
        "has_errors": bool(main.errors or upload_form.errors),
    }, status=409 if conflict else 200)


@require_GET
def attachment_download(request, pk: int, attachment_pk: int):
    bid = _visible_bid(request, pk)
    require(request.user.has_perm("applications.view_bid", bid))
    attachment = get_object_or_404(selectors.bid_attachments(bid), pk=attachment_pk)
    if reason := uploads.unavailable_message(attachment.scan_status):
        return render(request, "governance/file_unavailable.html", {
            "name": attachment.original_name, "reason": reason, "status": attachment.get_scan_status_display(),
            "back": bid.get_absolute_url(),
        }, status=409)
    return uploads.private_file_response(attachment.file, content_type=attachment.content_type,
                                         filename=services.attachment_download_name(attachment))


@require_POST
def attachment_remove(request, pk: int, attachment_pk: int):
    bid = _writable_bid(request, pk)
    if refused := _closed_to_changes(request, bid):
        return refused
    attachment = get_object_or_404(selectors.bid_attachments(bid), pk=attachment_pk)
    try:
        services.bid_attachment_remove(actor=request.user, bid=bid, now=request_started_at(request), attachment=attachment)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{attachment.original_name} removed.")
    return redirect("applications:bid_section", pk=bid.pk, section=BidSection.ATTACHMENTS)


# Endorsement -------------------------------------------------------------------------------------------


@require_POST
def endorsement_request(request, pk: int):
    bid = _writable_bid(request, pk)
    try:
        services.bid_endorsement_request(actor=request.user, bid=bid)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{bid.commissioner.name if bid.commissioner else 'The commissioner'} has been asked to endorse the bid.")
    return redirect(bid)


@require_http_methods(["GET", "POST"])
def bid_endorse(request, pk: int):
    bid = _visible_bid(request, pk)
    require(request.user.has_perm("applications.endorse_bid", bid))
    form = forms.EndorsementForm(request.POST or None)
    pending = bid.endorsement_status == EndorsementStatus.PENDING and bid.status == BidStatus.DRAFT
    if request.method == "POST" and form.is_valid():
        decision, comment = form.cleaned_data["decision"], form.cleaned_data["comment"]
        try:
            if decision == "endorse":
                services.bid_endorse(actor=request.user, bid=bid, comment=comment)
            else:
                services.bid_endorsement_decline(actor=request.user, bid=bid, comment=comment)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Thank you: the bid's writers have been told your decision.")
            return redirect(bid)
    return render(request, "applications/bid_endorse.html", {
        "bid": bid, "form": form, "pending": pending, "crumbs": _crumbs(bid),
        **selectors.bid_content(bid),
    })


@uploads.limit_upload_size(uploads.BID_ATTACHMENT)
@require_http_methods(["GET", "POST"])
def endorsement_record(request, pk: int):
    """A fund manager records an endorsement the commissioner sent outside the portal."""
    bid = _visible_bid(request, pk)
    require(request.user.has_perm("applications.record_offline_endorsement", bid))
    form = forms.OfflineEndorsementForm(request.POST or None, request.FILES or None)
    if submit_form(request, form, lambda: services.bid_endorsement_record_offline(
            actor=request.user, bid=bid, upload=form.cleaned_data["file"],
            endorsed_by_name=form.cleaned_data["endorsed_by_name"], comment=form.cleaned_data["comment"])):
        messages.success(request, "The endorsement has been recorded with its evidence and the bid's writers told.")
        return redirect(bid)
    return render(request, "applications/endorsement_record.html", {
        "bid": bid, "form": form, "crumbs": _crumbs(bid),
        "has_endorser": selectors.has_active_endorser(bid.commissioner_id),
        "endorsed": bid.endorsement_status == EndorsementStatus.ENDORSED,
    })


# Check, submit, confirm, withdraw ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def bid_check(request, pk: int):
    received = request_started_at(request)  # the closing time is judged against when the submission arrived
    bid = _writable_bid(request, pk)
    if bid.status == BidStatus.SUBMITTED:
        return redirect("applications:bid_submitted", pk=bid.pk)
    if refused := _closed_to_changes(request, bid, received):
        return refused
    form = forms.SubmitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.bid_submit(actor=request.user, bid=bid, declarations_confirmed=form.confirmed(), now=received)
        except ValidationError as error:
            if getattr(error, "code", None) == "already_submitted":
                return redirect("applications:bid_submitted", pk=bid.pk)
            add_service_errors(form, error)
        else:
            return redirect("applications:bid_submitted", pk=bid.pk)
    # For showing the page only (after any submission, which reads afresh under its lock): the
    # rows both the checks and the page read, once each.
    prefetch_related_objects([bid], Prefetch("partners", BidPartner.objects.select_related("organisation")), "costs",
                             Prefetch("projected_savings", ProjectedSaving.objects.select_related("realised_by")),
                             "benefit_measures", "milestones", "risks")
    problems = checks.bid_problems(bid)
    return render(request, "applications/bid_check.html", {
        "bid": bid, "form": form, "problems": problems,
        "ineligible": [p for p in problems if p.ineligible], "incomplete": [p for p in problems if not p.ineligible],
        "editable": True, "crumbs": _crumbs(bid),
        "not_signed_off": services.partners_not_signed_off(bid),
        "can_manage_team": request.user.has_perm("applications.manage_team", bid),
        **selectors.bid_content(bid),
    })


@require_GET
def bid_submitted(request, pk: int):
    bid = _writable_bid(request, pk)
    if bid.submitted_at is None:
        return redirect(bid)
    return render(request, "applications/bid_submitted.html", {"bid": bid, "crumbs": _crumbs(bid)})


@require_http_methods(["GET", "POST"])
def bid_withdraw(request, pk: int):
    bid = _writable_bid(request, pk)
    if request.method == "POST":
        try:
            services.bid_withdraw(actor=request.user, bid=bid)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Bid {bid.reference} withdrawn.")
        return redirect(bid)
    if bid.status != BidStatus.SUBMITTED or timezone.now() >= bid.call.closes_at:
        messages.error(request, services.WITHDRAW_ONLY_SUBMITTED if bid.status != BidStatus.SUBMITTED
                       else services.WITHDRAW_AFTER_CLOSE.format(closed=checks.uk_datetime(bid.call.closes_at)))
        return redirect(bid)
    return render(request, "applications/bid_withdraw.html", {"bid": bid, "crumbs": _crumbs(bid)})


# Fund managers -------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def bid_ineligible(request, pk: int):
    bid = _visible_bid(request, pk)
    require(request.user.has_perm("applications.manage_bid", bid))
    form = forms.IneligibleForm(request.POST or None)
    if submit_form(request, form, lambda: services.bid_mark_ineligible(actor=request.user, bid=bid,
                                                                      reason=form.cleaned_data["reason"])):
        messages.success(request, f"Bid {bid.reference} marked ineligible. The applicant has been told why.")
        return redirect(bid)
    return render(request, "applications/bid_ineligible.html", {"bid": bid, "form": form, "crumbs": _crumbs(bid)})


def _call_for_bid_list(request, slug: str) -> Call:
    call = get_object_or_404(Call.objects.select_related("fund", "host_network"), slug=slug)
    require(request.user.has_perm("applications.view_call_bids", call))
    return call


def _filtered_call_bids(request, call: Call):
    bids = selectors.with_totals(visibility.bids_visible_to(request.user).filter(call=call)).select_related("call").order_by("reference")
    form = forms.CallBidFilterForm(request.GET or None)
    if form.is_valid():
        if q := form.cleaned_data["q"].strip():
            bids = bids.filter(Q(reference__icontains=q) | Q(title__icontains=q) | Q(lead_organisation__name__icontains=q)
                               | Q(lead_organisation__ods_code__iexact=q))
        if status := form.cleaned_data["status"]:
            bids = bids.filter(status=status)
        if endorsement := form.cleaned_data["endorsement"]:
            bids = bids.filter(endorsement_status=endorsement)
    return form, bids


@require_GET
def call_bids(request, slug: str):
    call = _call_for_bid_list(request, slug)
    form, bids = _filtered_call_bids(request, call)
    counts = selectors.bid_status_counts(visibility.bids_visible_to(request.user).filter(call=call))
    page = Paginator(bids, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "applications/call_bids.html", {
        "call": call, "form": form, "page": page, "counts": [
            (NOT_SUBMITTED_LABEL if s == BidStatus.DRAFT and call.closes_at <= timezone.now() else BidStatus(s).label, s, n)
            for s, n in counts.items()],
        "total": sum(counts.values()), "query": query.urlencode(), "now": timezone.now(),
        "crumbs": [("Home", reverse("dashboard")), ("Bids", reverse("applications:bids"))],
    })


@require_GET
def call_bids_export(request, slug: str):
    call = _call_for_bid_list(request, slug)
    _, bids = _filtered_call_bids(request, call)
    header = ["Reference", "Title", "Lead organisation", "ODS code", "State", "Endorsement", "Pot",
              "Amount asked for (£)", "Projected savings (£)", "Projected return", "Submitted at", "Ineligible reason"]
    rows = (
        [bid.reference, bid.title, bid.lead_organisation.name, bid.lead_organisation.ods_code or "",
         bid.status_label(), bid.get_endorsement_status_display(), bid.pot.name if bid.pot else "",
         f"{bid.total_requested:.2f}", f"{bid.total_savings:.2f}",
         checks.projected_return(bid.total_savings, bid.total_requested) or "",
         timezone.localtime(bid.submitted_at).strftime("%Y-%m-%d %H:%M:%S") if bid.submitted_at else "",
         bid.ineligible_reason]
        for bid in bids.iterator()
    )
    response = HttpResponse(csv_text(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="bids-{call.slug}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


# Two-stage calls: expressions of interest -----------------------------------------------------------


@require_http_methods(["GET", "POST"])
def eoi_start(request, slug: str):
    """Send an expression of interest while the call's first stage is open."""
    call = get_object_or_404(calls_public(), slug=slug)
    if not call.eoi_stage:
        raise Http404("This call has no expression of interest stage")
    organisations = organisations_of(request.user).exclude(kind=OrganisationKind.HEALTH_INNOVATION_NETWORK).order_by("name")
    form = forms.EoiForm(request.POST if request.method == "POST" else None, organisations=organisations,
                         initial={"organisation": organisations.first()} if organisations.count() == 1 else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            eoi = services.eoi_submit(
                actor=request.user, call=call, organisation=data["organisation"], title=data["title"],
                summary=data["summary"], problem=data["problem"], estimated_cost=data["estimated_cost"],
                partners=data["partners"], now=request_started_at(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Your expression of interest has been sent. We will tell you whether you are invited to bid.")
            return redirect(eoi)
    phase = call.eoi_phase()
    return render(request, "applications/eoi_start.html", {
        "call": call, "form": form, "phase": phase, "has_organisation": organisations.exists(),
        "closed_message": (services.EOI_CLOSED.format(closed=checks.uk_datetime(call.eoi_closes_at)) if phase == "closed" and call.eoi_closes_at
                           else services.EOI_NOT_OPEN.format(opens=checks.uk_datetime(call.eoi_opens_at)) if call.eoi_opens_at
                           else services.EOI_NO_STAGE),
        "crumbs": [("Home", reverse("home")), ("Funding calls", reverse("governance:calls")),
                   (call.title, call.get_absolute_url())],
    }, status=400 if form.errors else 200)


@require_GET
def eoi_detail(request, pk: int):
    eoi = selectors.eoi_visible_to(request.user, pk)
    if eoi is None:
        raise Http404("No such expression of interest")
    is_member = request.user.has_perm("applications.send_eoi_for", eoi)
    return render(request, "applications/eoi_detail.html", {
        "eoi": eoi, "call": eoi.call, "is_member": is_member,
        "can_start_bid": is_member and eoi.status == "invited" and eoi.bid_id is None and eoi.call.is_accepting_bids(),
        "can_shortlist": request.user.has_perm("applications.shortlist_eois", eoi.call),
        "crumbs": _crumbs(),
    })


def _shortlisting_call(request, slug: str) -> Call:
    call = get_object_or_404(Call.objects.select_related("fund", "host_network"), slug=slug, eoi_stage=True)
    require(request.user.has_perm("applications.view_call_bids", call))
    return call


@require_GET
def call_eois(request, slug: str):
    """The fund manager's shortlist of a two-stage call (read-only for auditors)."""
    call = _shortlisting_call(request, slug)
    return render(request, "applications/call_eois.html", {
        "call": call, "eois": selectors.eois_of_call(call), "counts": selectors.eoi_counts(call),
        "phase": call.eoi_phase(), "can_shortlist": request.user.has_perm("applications.shortlist_eois", call),
        "crumbs": [("Home", reverse("dashboard")), ("Bids", reverse("applications:bids"))],
    })


@require_http_methods(["GET", "POST"])
def eoi_decide(request, slug: str, pk: int):
    call = _shortlisting_call(request, slug)
    require(request.user.has_perm("applications.shortlist_eois", call))
    eoi = get_object_or_404(selectors.eois_of_call(call), pk=pk)
    form = forms.EoiDecisionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        service = services.eoi_invite if form.cleaned_data["decision"] == "invite" else services.eoi_decline
        try:
            service(actor=request.user, eoi=eoi, reason=form.cleaned_data["reason"], now=request_started_at(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            eoi.refresh_from_db()
            messages.success(request, f"{eoi.lead_organisation.name}: {eoi.get_status_display().lower()}. They have been told.")
            return redirect("applications:call_eois", slug=call.slug)
    return render(request, "applications/eoi_decide.html", {
        "call": call, "eoi": eoi, "form": form,
        "crumbs": [("Home", reverse("dashboard")), ("Expressions of interest", reverse("applications:call_eois", args=[call.slug]))],
    }, status=400 if form.errors else 200)


# A copy of the bid as a PDF -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def bid_pdf(request, pk: int):
    """POST asks a worker for a copy of the bid as it stands; GET downloads it once ready. Anyone
    who may read the bid (its page's rule, conflicts included) may ask and download."""
    bid = _visible_bid(request, pk)
    require(request.user.has_perm("applications.view_bid", bid))
    if request.method == "POST":
        requested = services.bid_pdf_request(actor=request.user, bid=bid)
        requested.refresh_from_db()
        if requested.status == "ready":
            messages.success(request, "The PDF of the bid is ready to download.")
        else:
            messages.success(request, "The PDF of the bid is being prepared. Refresh the page in a minute to download it.")
        return redirect(request.POST.get("next") if url_has_allowed_host_and_scheme(
            request.POST.get("next"), allowed_hosts={request.get_host()}) else bid.get_absolute_url())
    pdf = services.bid_pdf_current(bid)
    if pdf is None or pdf.status != "ready":
        raise Http404("The PDF is not ready")
    return uploads.private_file_response(pdf.file, content_type="application/pdf", filename=f"{bid.reference}.pdf")


# The bid team ------------------------------------------------------------------------------------


def _team_crumbs(bid: Bid) -> list[tuple[str, str]]:
    return _crumbs(bid)


@require_http_methods(["GET", "POST"])
def bid_team(request, pk: int):
    bid = _visible_bid(request, pk)
    require(request.user.has_perm("applications.manage_team", bid))
    organisations = list(services._bid_organisations(bid).values())
    sections = [(s.value, s.label) for s in BidSection if s not in (BidSection.DECLARATIONS,)]
    form = forms.TeamInviteForm(request.POST if request.method == "POST" else None,
                                organisations=organisations, sections=sections)
    if request.method == "POST":
        member = submit_form(request, form, lambda: services.bid_team_invite(actor=request.user, bid=bid, **form.service_fields()))
        if member:
            messages.success(request, f"{member.email} is invited. The invitation expires on "
                                      f"{checks.uk_datetime(member.expires_at)}.")
            return redirect("applications:bid_team", pk=bid.pk)
    from .models import BidCollaborator, InvitationState

    team = list(BidCollaborator.objects.filter(bid=bid).exclude(state=InvitationState.REVOKED)
                .select_related("organisation", "user"))
    return render(request, "applications/team/team.html", {
        "bid": bid, "form": form, "team": team, "now": timezone.now(),
        "sign_offs": _sign_off_rows(bid), "crumbs": _team_crumbs(bid),
    }, status=400 if form.errors else 200)


@require_POST
def bid_team_remove(request, pk: int, member_pk: int):
    from .models import BidCollaborator

    bid = _visible_bid(request, pk)
    require(request.user.has_perm("applications.manage_team", bid))
    member = get_object_or_404(BidCollaborator, bid=bid, pk=member_pk)
    services.bid_team_remove(actor=request.user, member=member)
    messages.success(request, f"{member.email} is no longer on the bid team.")
    return redirect("applications:bid_team", pk=bid.pk)


@require_http_methods(["GET", "POST"])
def team_join(request, token):
    from .models import BidCollaborator

    member = BidCollaborator.objects.select_related("bid", "organisation", "invited_by").filter(token=token).first()
    if member is None:
        raise Http404("No such invitation")
    refused = ""
    if member.state == "accepted" and member.user_id == request.user.pk:
        return redirect(member.bid)
    if request.method == "POST" or member.state != "pending" or member.is_expired() \
            or request.user.email.lower() != member.email.lower():
        try:
            services.bid_team_join(actor=request.user, token=member.token)
        except ValidationError as error:
            refused = " ".join(error.messages)
        else:
            messages.success(request, f"You have joined the team for {member.bid.reference}.")
            return redirect(member.bid)
    return render(request, "applications/team/join.html", {
        "member": member, "refused": refused, "has_errors": bool(refused), "crumbs": _crumbs(),
        "bid_title": member.bid.title if not refused else "",
    }, status=403 if refused else 200)


def _sign_off_rows(bid: Bid) -> list[dict]:
    from .models import PartnerSignOff

    signed = {s.organisation_id: s for s in PartnerSignOff.objects.filter(bid=bid).select_related("signed_by")}
    return [{"organisation": p.organisation, "sign_off": signed.get(p.organisation_id)}
            for p in bid.partners.select_related("organisation") if p.organisation_id != bid.lead_organisation_id]


@require_http_methods(["GET", "POST"])
def bid_sign_off(request, pk: int):
    bid = _visible_bid(request, pk)
    require(request.user.has_perm("applications.sign_off_bid", bid))
    mine = list(services.sign_off_organisations(request.user, bid))
    signed = {row["organisation"].pk for row in _sign_off_rows(bid) if row["sign_off"]}
    open_to_me = [o for o in mine if o.pk not in signed]
    form = forms.SignOffForm(request.POST if request.method == "POST" else None, organisations=open_to_me)
    if request.method == "POST":
        if len(open_to_me) == 1 and not request.POST.get("organisation"):
            data = request.POST.copy()
            data["organisation"] = str(open_to_me[0].pk)
            form = forms.SignOffForm(data, organisations=open_to_me)
        done = submit_form(request, form, lambda: services.bid_partner_sign_off(
            actor=request.user, bid=bid, organisation=form.organisations.get(form.cleaned_data.get("organisation"))
            or Organisation(pk=0, name="")))
        if done:
            messages.success(request, f"{done.organisation.name} has signed off its part of {bid.reference}.")
            return redirect("applications:bid_sign_off", pk=bid.pk)
    return render(request, "applications/team/sign_off.html", {
        "bid": bid, "form": form, "rows": _sign_off_rows(bid), "open_to_me": open_to_me, "crumbs": _crumbs(bid),
    }, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def bid_comments(request, pk: int, section: str):
    bid = _visible_bid(request, pk)
    if section not in BidSection.values:
        raise Http404("No such section")
    require(request.user.has_perm("applications.view_comments", bid))
    can_comment = request.user.has_perm("applications.comment_bid", bid)
    form = forms.CommentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        require(can_comment)
        if submit_form(request, form, lambda: services.bid_comment_add(actor=request.user, bid=bid, section=section,
                                                        body=form.cleaned_data.get("body") or "")):
            messages.success(request, "Your comment is saved with the bid.")
            return redirect("applications:bid_comments", pk=bid.pk, section=section)
    comments = visibility.comments_visible_to(request.user, bid).filter(section=section)
    return render(request, "applications/team/comments.html", {
        "bid": bid, "section": BidSection(section), "comments": comments, "form": form, "can_comment": can_comment,
        "crumbs": _crumbs(bid),
    }, status=400 if form.errors else 200)
