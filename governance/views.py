"""Governance pages: notifications, public calls, and funds, pots, panels and calls for their
fund managers and auditors.

Views stay thin: they check permissions with the rules in ``rules.py``, read through
``selectors.py``, write through ``services.py`` and show a service's ValidationError next to
the field it is about.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import fy, services
from .access import public, require
from .audit import change_text
from .exports import safe_cell
from .extensions import facts_for_public_call, sections_for_call, sections_for_fund
from .filters import PublicCallFilter
from .forms import (
    AuditFilterForm,
    CallCloseForm,
    CallCopyForm,
    CallExtendForm,
    CallForm,
    CallUnpublishForm,
    CriteriaWeightsForm,
    CriterionForm,
    FundAuditorForm,
    FundForm,
    OrganisationSearchForm,
    PanelForm,
    PanelMemberForm,
    PanelMemberRoleForm,
    PotBudgetForm,
    PotForm,
    submit_form,
)
from .models import AllocationModel, CallStatus
from .selectors import (
    audit_event_view,
    budget_chart,
    call_by_slug,
    call_host_choices,
    call_public_by_slug,
    call_questions_public,
    calls_of_fund,
    calls_public_listing,
    fund_audit_events,
    fund_audit_filter_options,
    fund_auditors,
    fund_by_slug,
    funds_visible_to,
    money_available_to_call,
    networks,
    networks_managed_by,
    notifications_for,
    organisation_search,
    organisations,
    panel_composition,
    panel_members,
    panels_of_fund,
    pot_budget_table,
    pots_of_fund,
)
from .services import notification_mark_read


def _posted_id(request, name: str) -> int:
    """A posted record id, or 0 (which matches nothing, so the lookup answers 404) when it is
    missing or not a whole number."""
    value = request.POST.get(name, "")
    return int(value) if value.isdigit() else 0


def _posted(request):
    """The submitted data on a POST (even if empty), else None: an unbound form."""
    return request.POST if request.method == "POST" else None


# Notifications ---------------------------------------------------------------------------------


@require_GET
def notifications(request):
    page = Paginator(notifications_for(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "governance/notifications.html", {"page": page})


@require_POST
def notifications_mark_read(request):
    notification_mark_read(user=request.user)
    return redirect("governance:notifications")


# Public calls ----------------------------------------------------------------------------------


@public
@require_GET
def call_list(request):
    calls = PublicCallFilter(request.GET or None, queryset=calls_public_listing())
    page = Paginator(calls.qs.select_related("fund", "host_network"), 20).get_page(request.GET.get("page"))
    return render(request, "governance/calls/list.html", {
        "filter": calls, "page": page, "filtered": any(request.GET.get(k) for k in ("network", "purpose", "status")),
    })


@public
@require_GET
def call_public(request, slug: str):
    call = call_public_by_slug(slug)
    if call is None:
        raise Http404("No such call")
    return render(request, "governance/calls/detail.html", {
        "call": call,
        "budget": money_available_to_call(call),
        "composition": panel_composition(call.panel) if call.panel is not None else [],
        "now_phase": call.phase(),
        "takes_questions": services.call_takes_questions(call),
        "can_ask": request.user.has_perm("governance.ask_call_question", call),
        "answered": call_questions_public(call),
        "eoi_phase": call.eoi_phase(),
        "public_facts": facts_for_public_call(call) if call.eoi_stage else [],
        "crumbs": [("Home", reverse("home")), ("Funding calls", reverse("governance:calls"))],
    })


# Funds -----------------------------------------------------------------------------------------


def _fund_or_404(slug: str):
    fund = fund_by_slug(slug)
    if fund is None:
        raise Http404("No such fund")
    return fund


def _fund_crumbs(fund=None) -> list[tuple[str, str]]:
    crumbs = [("Funds", reverse("governance:funds"))]
    if fund is not None:
        crumbs.append((fund.name, fund.get_absolute_url()))
    return crumbs


@require_GET
def fund_list(request):
    can_create = networks_managed_by(request.user).exists()
    return render(request, "governance/funds/list.html", {
        "funds": funds_visible_to(request.user).select_related("host_network"), "can_create": can_create,
    })


@require_http_methods(["GET", "POST"])
def fund_create(request):
    hosts = networks_managed_by(request.user)
    require(hosts.exists())
    form = FundForm(_posted(request), networks=hosts)
    fund = submit_form(request, form, lambda: services.fund_create(actor=request.user, **form.cleaned_data))
    if fund:
        messages.success(request, f"{fund.name} has been created. Add its pots and their budgets next.")
        return redirect(fund.get_absolute_url())
    return render(request, "governance/form_page.html", {
        "form": form, "title": "Create a fund", "crumbs": _fund_crumbs(), "submit": "Create the fund",
        "caption": "Funds",
    })


@require_GET
def fund_detail(request, slug: str):
    fund = _fund_or_404(slug)
    require(request.user.has_perm("governance.view_fund", fund))
    budget = pot_budget_table(fund)
    return render(request, "governance/funds/detail.html", {
        "fund": fund,
        "can_manage": request.user.has_perm("governance.manage_fund", fund),
        "can_audit": request.user.has_perm("governance.view_fund_audit", fund),
        "can_add_pot": fund.allocation_model == AllocationModel.RING_FENCED or budget.is_empty,
        "budget": budget,
        "chart": budget_chart(budget),
        "calls": calls_of_fund(fund),
        "panels": panels_of_fund(fund),
        "sections": sections_for_fund(request, fund),
        "crumbs": _fund_crumbs(),
    })


@require_http_methods(["GET", "POST"])
def fund_edit(request, slug: str):
    fund = _fund_or_404(slug)
    require(request.user.has_perm("governance.manage_fund", fund))
    hosts = networks_managed_by(request.user) | networks().filter(pk=fund.host_network_id)
    initial = {name: getattr(fund, name) for name in services.FUND_FIELDS}
    form = FundForm(_posted(request), initial=initial, networks=hosts)
    saved = submit_form(request, form, lambda: services.fund_update(actor=request.user, fund=fund, **form.cleaned_data))
    if saved:
        messages.success(request, "The fund's details have been saved.")
        return redirect(saved.get_absolute_url())
    return render(request, "governance/form_page.html", {
        "form": form, "caption": fund.host_network.name, "title": f"Change {fund.name}",
        "crumbs": _fund_crumbs(fund), "submit": "Save changes",
    })


@require_GET
def fund_audit(request, slug: str):
    fund = _fund_or_404(slug)
    require(request.user.has_perm("governance.view_fund_audit", fund))
    form = AuditFilterForm(request.GET or None, options=fund_audit_filter_options(fund))
    filters = {}
    if form.is_bound and form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
    events = fund_audit_events(request.user, fund, **filters)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "governance/funds/audit.html", {
        "fund": fund, "form": form, "filter_form": form, "page": page, "filtered": bool(filters),
        "events": [audit_event_view(event) for event in page.object_list],
        "csv_query": request.GET.urlencode() if form.is_bound and form.is_valid() else "",
        "crumbs": _fund_crumbs(fund),
    })


AUDIT_CSV_COLUMNS = ["When (UK time)", "Who", "What happened", "Action code", "Kind of object", "Object",
                     "Call", "Bid", "Award", "Message", "Changes"]


@require_GET
def fund_audit_csv(request, slug: str):
    """The trail as filtered on the page, as CSV: only the events the person may read
    (``visibility``), every text cell safe from being run as a formula."""
    fund = _fund_or_404(slug)
    require(request.user.has_perm("governance.view_fund_audit", fund))
    form = AuditFilterForm(request.GET or None, options=fund_audit_filter_options(fund))
    filters = {k: v for k, v in form.cleaned_data.items() if v} if form.is_bound and form.is_valid() else {}
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{fund.slug}-audit-trail.csv"'
    writer = csv.writer(response)
    writer.writerow(AUDIT_CSV_COLUMNS)
    for event in fund_audit_events(request.user, fund, **filters).iterator(chunk_size=500):
        view = audit_event_view(event)
        writer.writerow([safe_cell(cell) for cell in (
            timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M:%S"), event.actor_label, view.action_label,
            event.action, view.kind_label, event.target_label, event.call_ref or "", event.bid_ref or "",
            event.award_ref or "", event.message, change_text(event.before, event.after),
        )])
    return response


@require_http_methods(["GET", "POST"])
def fund_auditors_page(request, slug: str):
    """Who audits the fund. Its managers add auditors by email and remove them."""
    fund = _fund_or_404(slug)
    require(request.user.has_perm("governance.view_fund_audit", fund))
    can_manage = request.user.has_perm("governance.manage_fund", fund)
    require(can_manage or request.method != "POST")
    here = reverse("governance:fund_auditors", args=[fund.slug])
    form = FundAuditorForm(request.POST if request.POST.get("action") == "add" else None) if can_manage else None
    if request.POST.get("action") == "remove":
        role = get_object_or_404(fund_auditors(fund), pk=_posted_id(request, "auditor"))
        services.fund_auditor_remove(actor=request.user, role=role)
        messages.success(request, f"{role.user} is no longer an auditor of this fund.")
        return redirect(here)
    if form is not None and submit_form(request, form, lambda: services.fund_auditor_add(
            actor=request.user, fund=fund, user=form.user)):
        messages.success(request, f"{form.user} is now an auditor of this fund.")
        return redirect(here)
    return render(request, "governance/funds/auditors.html", {
        "fund": fund, "auditors": fund_auditors(fund), "form": form, "can_manage": can_manage,
        "crumbs": _fund_crumbs(fund),
    })


# Pots and budgets ------------------------------------------------------------------------------


def _pot_or_404(fund, pk: int):
    return get_object_or_404(pots_of_fund(fund), pk=pk)


@require_http_methods(["GET", "POST"])
def pot_create(request, slug: str):
    fund = _fund_or_404(slug)
    require(request.user.has_perm("governance.manage_fund", fund))
    form = PotForm(_posted(request), fund=fund, networks=networks())
    pot = submit_form(request, form, lambda: services.pot_create(actor=request.user, fund=fund, **form.cleaned_data))
    if pot:
        messages.success(request, f"{pot.name} has been added. Set its budget for each financial year.")
        return redirect("governance:pot_budget", slug=fund.slug, pk=pot.pk)
    initial_name = "National pot" if fund.allocation_model == AllocationModel.NATIONAL else ""
    if not form.is_bound:
        form.initial.setdefault("name", initial_name)
    return render(request, "governance/form_page.html", {
        "form": form, "caption": fund.name, "title": "Add a pot", "crumbs": _fund_crumbs(fund), "submit": "Add the pot",
    })


@require_http_methods(["GET", "POST"])
def pot_edit(request, slug: str, pk: int):
    fund = _fund_or_404(slug)
    require(request.user.has_perm("governance.manage_fund", fund))
    pot = _pot_or_404(fund, pk)
    form = PotForm(_posted(request), fund=fund, networks=networks(),
                   initial={"name": pot.name, "network": pot.network})
    saved = submit_form(request, form, lambda: services.pot_update(actor=request.user, pot=pot, **form.cleaned_data))
    if saved:
        messages.success(request, "The pot has been saved.")
        return redirect("governance:pot_budget", slug=fund.slug, pk=pot.pk)
    return render(request, "governance/form_page.html", {
        "form": form, "caption": fund.name, "title": f"Change {pot.name}", "crumbs": _fund_crumbs(fund),
        "submit": "Save changes",
    })


@require_http_methods(["GET", "POST"])
def pot_budget(request, slug: str, pk: int):
    """A pot's budget by year, and (for its managers) a form to set one year's budget."""
    fund = _fund_or_404(slug)
    require(request.user.has_perm("governance.view_fund", fund))
    pot = _pot_or_404(fund, pk)
    can_manage = request.user.has_perm("governance.manage_fund", fund)
    if request.method == "POST":
        require(can_manage)
    table = pot_budget_table(fund, [pot])
    set_years = {cell.financial_year for cell in table.rows[0].cells if cell.budget}
    initial = {}
    year = request.GET.get("year", "")
    if year.isdigit() and int(year) in fund.years:
        initial = {"financial_year": int(year), "amount": next(
            (c.budget for c in table.rows[0].cells if c.financial_year == int(year)), None)}
    else:
        missing = [y for y in fund.years if y not in set_years]
        if missing:
            initial = {"financial_year": missing[0]}
    form = PotBudgetForm(_posted(request), fund=fund, initial=initial)
    saved = submit_form(request, form, lambda: services.pot_budget_set(actor=request.user, pot=pot, **form.cleaned_data))
    if saved:
        label = fy.label(form.cleaned_data["financial_year"])
        messages.success(request, f"The budget for {label} has been saved.")
        return redirect("governance:pot_budget", slug=fund.slug, pk=pot.pk)
    return render(request, "governance/funds/pot_budget.html", {
        "form": form if can_manage else None, "fund": fund, "pot": pot, "budget": table, "row": table.rows[0],
        "can_manage": can_manage, "crumbs": _fund_crumbs(fund),
    })


# Panels ----------------------------------------------------------------------------------------


def _panel_or_404(fund, pk: int):
    return get_object_or_404(panels_of_fund(fund), pk=pk)


@require_http_methods(["GET", "POST"])
def panel_create(request, slug: str):
    fund = _fund_or_404(slug)
    require(request.user.has_perm("governance.manage_fund", fund))
    form = PanelForm(_posted(request))
    panel = submit_form(request, form, lambda: services.panel_create(actor=request.user, fund=fund, **form.cleaned_data))
    if panel:
        messages.success(request, f"{panel.name} has been created. Add its members next.")
        return redirect("governance:panel_detail", slug=fund.slug, pk=panel.pk)
    return render(request, "governance/form_page.html", {
        "form": form, "caption": fund.name, "title": "Create a panel", "crumbs": _fund_crumbs(fund),
        "submit": "Create the panel",
    })


@require_http_methods(["GET", "POST"])
def panel_edit(request, slug: str, pk: int):
    fund = _fund_or_404(slug)
    require(request.user.has_perm("governance.manage_fund", fund))
    panel = _panel_or_404(fund, pk)
    form = PanelForm(_posted(request), initial={"name": panel.name, "terms_of_reference": panel.terms_of_reference})
    saved = submit_form(request, form, lambda: services.panel_update(actor=request.user, panel=panel, **form.cleaned_data))
    if saved:
        messages.success(request, "The panel has been saved.")
        return redirect("governance:panel_detail", slug=fund.slug, pk=panel.pk)
    return render(request, "governance/form_page.html", {
        "form": form, "caption": fund.name, "title": f"Change {panel.name}",
        "crumbs": [*_fund_crumbs(fund), (panel.name, reverse("governance:panel_detail", args=[fund.slug, panel.pk]))],
        "submit": "Save changes",
    })


@require_http_methods(["GET", "POST"])
def panel_detail(request, slug: str, pk: int):
    """A panel's members and, for its fund's managers, a form to add one."""
    fund = _fund_or_404(slug)
    require(request.user.has_perm("governance.view_fund", fund))
    panel = _panel_or_404(fund, pk)
    can_manage = request.user.has_perm("governance.manage_fund", fund)
    form = None
    if can_manage:
        form = PanelMemberForm(_posted(request))
        member = submit_form(request, form, lambda: services.panel_member_add(
            actor=request.user, panel=panel, user=form.user, role=form.cleaned_data["role"]
        ))
        if member:
            messages.success(request, f"{member.user} has been added. Declare their affiliations next.")
            return redirect("governance:panel_member", slug=fund.slug, pk=panel.pk, member_pk=member.pk)
    elif request.method == "POST":
        require(False)
    return render(request, "governance/panels/detail.html", {
        "fund": fund, "panel": panel, "members": panel_members(panel), "form": form, "can_manage": can_manage,
        "calls": panel.calls.order_by("-opens_at"), "crumbs": _fund_crumbs(fund),
    })


@require_http_methods(["GET", "POST"])
def panel_member(request, slug: str, pk: int, member_pk: int):
    """One member: their role, and their declared affiliations (found by search, added one by one)."""
    fund = _fund_or_404(slug)
    require(request.user.has_perm("governance.view_fund", fund))
    panel = _panel_or_404(fund, pk)
    member = get_object_or_404(panel_members(panel), pk=member_pk)
    can_manage = request.user.has_perm("governance.manage_fund", fund)
    here = reverse("governance:panel_member", args=[fund.slug, panel.pk, member.pk])
    role_form = PanelMemberRoleForm(initial={"role": member.role})
    if request.method == "POST":
        require(can_manage)
        action = request.POST.get("action")
        if action == "role":
            role_form = PanelMemberRoleForm(request.POST)
            if role_form.is_valid():
                services.panel_member_update(actor=request.user, member=member, role=role_form.cleaned_data["role"])
                messages.success(request, "The member's role has been saved.")
                return redirect(here)
        elif action in ("add_affiliation", "remove_affiliation"):
            organisation = get_object_or_404(organisations(), pk=_posted_id(request, "organisation"))
            if action == "add_affiliation":
                services.panel_member_affiliation_add(actor=request.user, member=member, organisation=organisation)
                messages.success(request, f"Affiliation with {organisation.name} declared.")
            else:
                services.panel_member_affiliation_remove(actor=request.user, member=member, organisation=organisation)
                messages.success(request, f"Affiliation with {organisation.name} removed.")
            return redirect(here)
        elif action == "remove":
            name = str(member.user)
            services.panel_member_remove(actor=request.user, member=member)
            messages.success(request, f"{name} has been removed from the panel.")
            return redirect("governance:panel_detail", slug=fund.slug, pk=panel.pk)
        else:
            return redirect(here)
    search = OrganisationSearchForm(request.GET or None)
    results = []
    if can_manage and search.is_bound and search.is_valid() and search.cleaned_data["q"]:
        declared = {org.pk for org in member.affiliations.all()}
        results = [org for org in organisation_search(search.cleaned_data["q"]) if org.pk not in declared]
    return render(request, "governance/panels/member.html", {
        "fund": fund, "panel": panel, "member": member, "role_form": role_form, "search": search,
        "results": results, "can_manage": can_manage,
        "crumbs": [*_fund_crumbs(fund), (panel.name, reverse("governance:panel_detail", args=[fund.slug, panel.pk]))],
    })


# Calls: management -----------------------------------------------------------------------------


def _call_or_404(slug: str):
    call = call_by_slug(slug)
    if call is None:
        raise Http404("No such call")
    return call


def _call_crumbs(call) -> list[tuple[str, str]]:
    return [*_fund_crumbs(call.fund), (call.title, reverse("governance:call_manage", args=[call.slug]))]


def _call_form(request, fund, *, data=None, initial=None, only=None):
    return CallForm(
        data, initial=initial, fund=fund, hosts=call_host_choices(fund), pots=pots_of_fund(fund),
        panels=panels_of_fund(fund), only=only,
    )


@require_http_methods(["GET", "POST"])
def call_create(request, slug: str):
    fund = _fund_or_404(slug)
    require(request.user.has_perm("governance.manage_fund", fund))
    initial = {"host_network": fund.host_network, "assessors_per_bid": 3, "moderation_threshold": 2,
               "endorsement_required": True, "max_duration_years": 3}
    if fund.allocation_model == AllocationModel.NATIONAL:
        initial["pots"] = list(pots_of_fund(fund))
    panels = list(panels_of_fund(fund))
    if len(panels) == 1:
        initial["panel"] = panels[0]
    form = _call_form(request, fund, data=_posted(request), initial=initial)
    call = submit_form(request, form, lambda: services.call_create(
        actor=request.user, fund=fund, pots=list(form.cleaned_data["pots"]), **form.service_fields()
    ))
    if call:
        messages.success(request, "The draft call has been created. Add its criteria and rubric next.")
        return redirect("governance:call_manage", slug=call.slug)
    return render(request, "governance/calls/form.html", {
        "form": form, "fund": fund, "title": "Create a call", "crumbs": _fund_crumbs(fund), "submit": "Create the draft call",
    })


@require_GET
def call_manage(request, slug: str):
    call = _call_or_404(slug)
    require(request.user.has_perm("governance.view_call_internal", call))
    now = timezone.now()
    problems = services.call_publish_problems(call, now=now) if call.status == CallStatus.DRAFT else {}
    checklist = [
        ("About the call", "governance:call_edit", ["title", "summary", "purpose", "innovation_types", "host_network", "slug"]),
        ("Money: pots and their budgets", "governance:call_edit", ["pots"]),
        ("Timetable", "governance:call_edit", ["opens_at", "closes_at", "assessment_due_date", "panel_meeting_date",
                                               "decisions_expected_date"]),
        ("Eligibility", "governance:call_edit", ["eligible_org_kinds", "eligible_regions", "eligible_networks",
                                                 "min_amount", "max_amount", "max_duration_years",
                                                 "required_partner_kinds"]),
        ("Criteria, weights and rubric", "governance:call_criterion_add", ["criteria"]),
        ("Assessment panel", "governance:call_edit", ["panel", "assessors_per_bid", "moderation_threshold"]),
    ]
    tasks = [
        {"label": label, "url": reverse(url, args=[call.slug]),
         "problems": [p for key in keys for p in problems.get(key, [])]}
        for label, url, keys in checklist
    ]
    return render(request, "governance/calls/manage.html", {
        "call": call, "fund": call.fund, "phase": call.phase(now), "tasks": tasks, "ready": not problems,
        "can_manage": request.user.has_perm("governance.manage_call", call),
        "can_audit": request.user.has_perm("governance.view_fund_audit", call.fund),
        "can_see_questions": request.user.has_perm("governance.view_call_questions", call),
        "budget": money_available_to_call(call),
        "sections": sections_for_call(request, call),
        "crumbs": _fund_crumbs(call.fund),
    })


@require_http_methods(["GET", "POST"])
def call_edit(request, slug: str):
    call = _call_or_404(slug)
    require(request.user.has_perm("governance.manage_call", call))
    only = services.CALL_FIELDS_EDITABLE_WHEN_PUBLISHED if call.is_published else None
    form = _call_form(request, call.fund, data=_posted(request), initial=CallForm.initial_from(call), only=only)
    def save():
        pots = list(form.cleaned_data["pots"]) if "pots" in form.cleaned_data else None
        return services.call_update(actor=request.user, call=call, pots=pots, **form.service_fields())

    if submit_form(request, form, save):
        messages.success(request, "The call has been saved.")
        return redirect("governance:call_manage", slug=call.slug)
    return render(request, "governance/calls/form.html", {
        "form": form, "fund": call.fund, "call": call, "title": f"Change {call.title}", "crumbs": _call_crumbs(call),
        "submit": "Save changes",
    })


@require_http_methods(["GET", "POST"])
def call_copy(request, slug: str):
    source = _call_or_404(slug)
    require(request.user.has_perm("governance.manage_fund", source.fund))
    form = CallCopyForm(_posted(request), initial={"title": f"{source.title} (copy)"})
    call = submit_form(request, form, lambda: services.call_copy(actor=request.user, source=source, **form.cleaned_data))
    if call:
        messages.success(request, f"A draft copy of {source.title}, with its criteria and rubric, has been created.")
        return redirect("governance:call_manage", slug=call.slug)
    return render(request, "governance/calls/copy.html", {
        "form": form, "source": source, "crumbs": _call_crumbs(source),
    })


@require_http_methods(["GET", "POST"])
def call_publish(request, slug: str):
    call = _call_or_404(slug)
    require(request.user.has_perm("governance.manage_call", call))
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.call_publish(actor=request.user, call=call)
        except ValidationError as exc:
            errors = exc.messages
        else:
            if call.status == CallStatus.OPEN:
                messages.success(request, "The call is published and open for bids.")
            else:
                messages.success(request, "The call is published. It opens for bids at its opening time.")
            return redirect("governance:call_manage", slug=call.slug)
    problems = services.call_publish_problems(call) if call.status == CallStatus.DRAFT else {}
    return render(request, "governance/calls/publish.html", {
        "call": call, "errors": errors, "problems": problems, "has_errors": bool(errors),
        "opens_now": call.opens_at <= timezone.now(), "crumbs": _call_crumbs(call),
    })


@require_http_methods(["GET", "POST"])
def call_close(request, slug: str):
    call = _call_or_404(slug)
    require(request.user.has_perm("governance.manage_call", call))
    form = CallCloseForm(_posted(request))
    early = timezone.now() < call.closes_at
    saved = submit_form(request, form, lambda: services.call_close(
        actor=request.user, call=call, reason=form.cleaned_data["reason"]
    ))
    if saved:
        messages.success(request, "The call is closed: no more bids can be submitted.")
        return redirect("governance:call_manage", slug=call.slug)
    return render(request, "governance/calls/close.html", {
        "call": call, "form": form, "early": early, "crumbs": _call_crumbs(call),
    })


@require_http_methods(["GET", "POST"])
def call_extend(request, slug: str):
    call = _call_or_404(slug)
    require(request.user.has_perm("governance.manage_call", call))
    form = CallExtendForm(_posted(request), initial={"closes_at": call.closes_at})
    saved = submit_form(request, form, lambda: services.call_extend_closing(
        actor=request.user, call=call, closes_at=form.cleaned_data["closes_at"], reason=form.cleaned_data["reason"],
    ))
    if saved:
        messages.success(request, "The closing time has moved. The public page shows the change and the reason, "
                                  "and everyone writing a draft bid has been told.")
        return redirect("governance:call_manage", slug=call.slug)
    return render(request, "governance/calls/extend.html", {"call": call, "form": form, "crumbs": _call_crumbs(call)})


@require_http_methods(["GET", "POST"])
def call_unpublish(request, slug: str):
    call = _call_or_404(slug)
    require(request.user.has_perm("governance.manage_call", call))
    form = CallUnpublishForm(_posted(request))
    saved = submit_form(request, form, lambda: services.call_unpublish(
        actor=request.user, call=call, reason=form.cleaned_data["reason"],
    ))
    if saved:
        messages.success(request, "The call is a draft again and no longer public. Correct it, then publish it again.")
        return redirect("governance:call_manage", slug=call.slug)
    return render(request, "governance/calls/unpublish.html", {
        "call": call, "form": form, "scheduled": call.status == CallStatus.SCHEDULED and call.phase() == CallStatus.SCHEDULED,
        "crumbs": _call_crumbs(call),
    })


STATUS_ACTIONS = {
    "start_assessment": (services.call_start_assessment, "Assessment has started: assign the assessors next."),
    "close_out": (services.call_close_out, "The call is closed out."),
}


@require_POST
def call_status(request, slug: str):
    """Move a call on: start assessment (closed → assessment) or close it out (decided → closed out)."""
    call = _call_or_404(slug)
    require(request.user.has_perm("governance.manage_call", call))
    action = STATUS_ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        return redirect("governance:call_manage", slug=call.slug)
    service, done = action
    try:
        service(actor=request.user, call=call)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
        if request.POST["action"] == "start_assessment":
            # Next: assign the assessors (the assessment stage's page for the call, by URL name).
            return redirect(reverse("assessment:call", args=[call.slug]) + "#assign")
    return redirect("governance:call_manage", slug=call.slug)


# Criteria --------------------------------------------------------------------------------------


def _criterion_or_404(call, pk: int):
    return get_object_or_404(call.criteria.prefetch_related("descriptors"), pk=pk)


def _frozen_response(request, call, template: str, context: dict):
    """The page for a frozen call's criteria: shown with the reason, and a POST changes nothing."""
    refused = request.method == "POST"
    context.update({"call": call, "frozen_reason": services.CRITERIA_FROZEN, "crumbs": _call_crumbs(call),
                    "refused": [services.CRITERIA_FROZEN] if refused else [], "has_errors": refused})
    return render(request, template, context, status=400 if refused else 200)


@require_http_methods(["GET", "POST"])
def criterion_add(request, slug: str):
    call = _call_or_404(slug)
    require(request.user.has_perm("governance.manage_call", call))
    return _criterion_page(request, call, None)


@require_http_methods(["GET", "POST"])
def criterion_edit(request, slug: str, pk: int):
    call = _call_or_404(slug)
    require(request.user.has_perm("governance.manage_call", call))
    return _criterion_page(request, call, _criterion_or_404(call, pk))


def _criterion_page(request, call, criterion):
    """Add a criterion (``criterion`` None) or change one, with its rubric, on a draft call."""
    others = call.total_weight - (criterion.weight if criterion else 0)
    initial = {} if criterion else {"weight": max(0, 100 - others) or None}
    form = CriterionForm(_posted(request), criterion=criterion, other_weights=others, initial=initial)
    context = {
        "form": form, "criterion": criterion,
        "title": f"Change “{criterion.title}”" if criterion else "Add a criterion",
        "submit": "Save changes" if criterion else "Add the criterion",
    }
    if call.criteria_frozen:
        return _frozen_response(request, call, "governance/calls/criterion_form.html", context)
    def save():
        fields = {"actor": request.user, "descriptors": form.descriptors(), **form.service_fields()}
        if criterion is None:
            return services.criterion_add(call=call, **fields)
        return services.criterion_update(criterion=criterion, **fields)

    saved = submit_form(request, form, save)
    if saved:
        messages.success(request, f"“{saved.title}” and its rubric are saved.")
        return redirect(reverse("governance:call_manage", args=[call.slug]) + "#criteria")
    return render(request, "governance/calls/criterion_form.html", {**context, "call": call, "crumbs": _call_crumbs(call)})


@require_http_methods(["GET", "POST"])
def criterion_remove(request, slug: str, pk: int):
    call = _call_or_404(slug)
    require(request.user.has_perm("governance.manage_call", call))
    criterion = _criterion_or_404(call, pk)
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.criterion_remove(actor=request.user, criterion=criterion)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, f"“{criterion.title}” has been removed.")
            return redirect(reverse("governance:call_manage", args=[call.slug]) + "#criteria")
    elif call.criteria_frozen:
        errors = [services.CRITERIA_FROZEN]
    return render(request, "governance/calls/criterion_remove.html", {
        "call": call, "criterion": criterion, "errors": errors, "has_errors": bool(errors),
        "crumbs": _call_crumbs(call),
    }, status=400 if errors and request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
def criteria_weights(request, slug: str):
    call = _call_or_404(slug)
    require(request.user.has_perm("governance.manage_call", call))
    form = CriteriaWeightsForm(_posted(request), criteria=call.criteria.all())
    context = {"form": form}
    if call.criteria_frozen:
        return _frozen_response(request, call, "governance/calls/weights.html", context)
    saved = submit_form(request, form, lambda: services.criteria_weights_set(
        actor=request.user, call=call, weights=form.weights()
    ))
    if saved:
        messages.success(request, "The weights have been saved.")
        return redirect(reverse("governance:call_manage", args=[call.slug]) + "#criteria")
    return render(request, "governance/calls/weights.html", {**context, "call": call, "crumbs": _call_crumbs(call)})
