"""Monitoring return pages. Views find returns through the selectors (404 outside what the
person may see), check a rule (403), call one service and show its messages next to the fields."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from awards.models import InstalmentStatus
from awards.visibility import award_visible_to
from governance.access import require
from governance.forms import add_service_errors
from governance.sections import edit_section
from governance.selectors import request_roles

from ..models import ReturnSection, ReturnStatus
from ..visibility import returns_visible_to
from . import services
from .charts import bar_chart
from .forms import (
    SECTION_PAGES,
    PortfolioFilterForm,
    ReturnStatusFilterForm,
    ReviewForm,
    SubmitForm,
)
from .selectors import (
    PortfolioFilters,
    can_submit_from,
    instalments_waiting_on,
    is_overdue,
    portfolio,
    portfolio_filter_choices,
    portfolio_rows,
    return_figures,
    return_sections,
    returns_next_due_first,
    returns_of_award,
    section_states,
)

RAG_COLOURS = {"red": "#d5281b", "amber": "#ffb81c", "green": "#007f3b", "": "#aeb7bd"}


def _return(request, pk: int):
    return get_object_or_404(returns_visible_to(request.user), pk=pk)


def _award(request, reference: str):
    award = award_visible_to(request.user, reference)
    if award is None:
        raise Http404("No such award")
    require(request.user.has_perm("awards.view_award", award))
    return award


def _crumbs(*extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Home", reverse("dashboard")), ("Monitoring returns", reverse("reporting:return_list")), *extra]


def _return_crumbs(ret) -> list[tuple[str, str]]:
    return _crumbs((f"{ret.award.reference} returns", reverse("reporting:award_returns", args=[ret.award.reference])),
                   (ret.period_label, ret.get_absolute_url()))


def _permissions(user, ret) -> dict:
    return {
        "can_edit": user.has_perm("reporting.edit_return", ret) and ret.is_editable,
        "is_grantee": user.has_perm("reporting.edit_return", ret),
        "can_review": user.has_perm("reporting.review_return", ret),
    }


# Lists ------------------------------------------------------------------------------------------------


@require_GET
def return_list(request):
    """Returns the person may see, the next due first (overdue on top, approved ones last),
    filtered by status; paged."""
    today = timezone.localdate()
    status = request.GET.get("status", "")
    returns = returns_visible_to(request.user)
    if status == "overdue":
        returns = returns.filter(status__in=[ReturnStatus.OPEN, ReturnStatus.RETURNED], due_date__lt=today)
    elif status in ReturnStatus.values:
        returns = returns.filter(status=status)
    else:
        status = ""
    page = Paginator(returns_next_due_first(returns), 25).get_page(request.GET.get("page"))
    for ret in page.object_list:
        ret.overdue = is_overdue(ret, today)
    roles = request_roles(request)
    return render(request, "reporting/monitoring/return_list.html", {
        "page": page, "status": status, "status_form": ReturnStatusFilterForm({"status": status}), "roles": roles,
        "crumbs": [("Home", reverse("dashboard"))],
    })


@require_GET
def award_returns(request, reference: str):
    """An award's monitoring schedule: every return, its dates, status and the payment it releases."""
    award = _award(request, reference)
    today = timezone.localdate()
    returns = list(returns_of_award(award))
    for ret in returns:
        ret.overdue = is_overdue(ret, today)
    return render(request, "reporting/monitoring/award_returns.html", {
        "award": award, "returns": returns,
        "can_manage": request.user.has_perm("awards.manage_award", award),
        "is_grantee": request.user.has_perm("awards.act_for_recipient", award),
        "crumbs": _crumbs(),
    })


@require_POST
def schedule_sync(request, reference: str):
    award = _award(request, reference)
    require(request.user.has_perm("awards.manage_award", award))
    changes = services.return_schedule_sync(award=award, actor=request.user)
    if award.status not in ("active", "suspended"):
        messages.info(request, "Returns are scheduled only for active and suspended awards.")
    elif any(changes.values()):
        messages.success(request, f"Schedule updated: {changes['created']} returns added, {changes['moved']} moved, "
                                  f"{changes['removed']} removed.")
    else:
        messages.success(request, "The schedule already matches the award's dates.")
    return redirect("reporting:award_returns", reference=award.reference)


# One return ----------------------------------------------------------------------------------------------


@require_GET
def return_detail(request, pk: int):
    ret = _return(request, pk)
    require(request.user.has_perm("reporting.view_return", ret))
    perms = _permissions(request.user, ret)
    ret.overdue = is_overdue(ret)
    payments = instalments_waiting_on(ret) if ret.status == ReturnStatus.APPROVED else []
    return render(request, "reporting/monitoring/return_detail.html", {
        "ret": ret, "award": ret.award, "sections": section_states(ret), "figures": return_figures(ret),
        "overdue": ret.overdue, "submit_from": can_submit_from(ret), "payments": payments,
        "payments_waiting": any(i.status == InstalmentStatus.SCHEDULED for i in payments),
        "period_ended": ret.period_end < timezone.localdate(),
        "problems": services.submission_problems(ret) if perms["can_edit"] else [],
        "crumbs": _return_crumbs(ret)[:-1], **perms,
    })


@require_http_methods(["GET", "POST"])
def return_section(request, pk: int, section: str):
    ret = _return(request, pk)
    if section not in SECTION_PAGES or ReturnSection(section) not in return_sections(ret):
        raise Http404
    require(request.user.has_perm("reporting.edit_return", ret))
    if not ret.is_editable:
        messages.error(request, services.RETURN_APPROVED_LOCKED if ret.status == ReturnStatus.APPROVED
                       else services.RETURN_SUBMITTED_LOCKED)
        return redirect(ret)
    page_class = SECTION_PAGES[section]
    page = page_class(ret, request.POST if request.method == "POST" else None)
    # Saved by someone else meanwhile: the page reopens at the latest answers, saying why.
    page, saved = edit_section(request, page, saved_url=ret.get_absolute_url() + "#sections",
                               reopen=lambda: page_class(returns_visible_to(request.user).get(pk=ret.pk)))
    if saved:
        return saved
    return render(request, page.template, {
        "ret": ret, "award": ret.award, "page": page, "form": page.form, "has_errors": page.has_errors,
        "crumbs": _return_crumbs(ret), **page.context(),
    })


@require_http_methods(["GET", "POST"])
def return_submit(request, pk: int):
    """The check page: every answer, what still stops submission, and the declaration."""
    ret = _return(request, pk)
    require(request.user.has_perm("reporting.edit_return", ret))
    if not ret.is_editable:
        messages.info(request, f"This return is {ret.get_status_display().lower()}.")
        return redirect(ret)
    form = SubmitForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.return_submit(actor=request.user, monitoring_return=ret)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Return submitted. The fund manager will review it; we will tell you the outcome.")
            return redirect(ret)
    return render(request, "reporting/monitoring/submit.html", {
        "ret": ret, "award": ret.award, "form": form, "figures": return_figures(ret), "sections": section_states(ret),
        "problems": services.submission_problems(ret), "crumbs": _return_crumbs(ret), "can_edit": True,
        "submit_from": can_submit_from(ret) if ret.period_end >= timezone.localdate() else None,
    })


@require_http_methods(["GET", "POST"])
def return_review(request, pk: int):
    ret = _return(request, pk)
    require(request.user.has_perm("reporting.review_return", ret))
    if ret.status != ReturnStatus.SUBMITTED:
        messages.info(request, f"This return is {ret.get_status_display().lower()}, so there is nothing to review.")
        return redirect(ret)
    form = ReviewForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == "approve":
                outcome = services.return_approve(actor=request.user, monitoring_return=ret, comments=data["comments"])
            else:
                services.return_send_back(actor=request.user, monitoring_return=ret, comments=data["comments"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if data["decision"] == "send_back":
                messages.success(request, "Return sent back to the grantee with your comments.")
            elif outcome.released and not outcome.payment_note:
                messages.success(request, f"Return approved. {services.released_sentence(outcome.released)}")
            elif outcome.payment_note:
                messages.warning(request, f"Return approved, but its payment is not released yet: {outcome.payment_note}")
            else:
                messages.success(request, "Return approved.")
            return redirect(ret)
    return render(request, "reporting/monitoring/review.html", {
        "ret": ret, "award": ret.award, "form": form, "figures": return_figures(ret), "sections": section_states(ret),
        "crumbs": _return_crumbs(ret),
    })


@require_POST
def return_release_payment(request, pk: int):
    ret = _return(request, pk)
    require(request.user.has_perm("reporting.review_return", ret))
    try:
        released = services.return_payment_release(actor=request.user, monitoring_return=ret)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, services.released_sentence(released))
    return redirect(ret.get_absolute_url() + "#payment")


# The portfolio -----------------------------------------------------------------------------------------------


@require_GET
def portfolio_dashboard(request):
    roles = request_roles(request)
    require(roles.is_fund_manager or roles.is_auditor or roles.is_site_admin)
    choices = portfolio_filter_choices(request.user)
    form = PortfolioFilterForm(request.GET or None, choices=choices)
    filters = PortfolioFilters(**{k: v for k, v in form.cleaned_data.items() if v not in (None, "")}) \
        if form.is_valid() else PortfolioFilters()
    today = timezone.localdate()
    data = portfolio(request.user, filters, today=today)
    page = Paginator(portfolio_rows(data.awards, filters, today), 25).get_page(request.GET.get("page"))
    return render(request, "reporting/monitoring/portfolio.html", {
        "form": form, "data": data, "page": page, "today": today, "filtered": any(vars(filters).values()),
        "charts": {
            "rag": bar_chart([(label, [count]) for _, label, count in data.rag_counts], colours=[
                [RAG_COLOURS[value]] for value, _, _ in data.rag_counts], money=False),
            "spend": bar_chart([(row.year_label, [row.planned, row.actual]) for row in data.spend],
                               series=["Profile", "Spend reported"]),
            "savings": bar_chart([(row.year_label, [row.planned, row.actual]) for row in data.savings],
                                 series=["Projected", "Realised"]),
            "benefits": bar_chart([(label, [count]) for _, label, count in data.benefit_bands], money=False),
        },
        "crumbs": [("Home", reverse("dashboard"))],
    })
