"""Governance pages: notifications, public calls, and funds for their managers and auditors."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from .access import public, require
from .extensions import sections_for_fund
from .models import Fund
from .selectors import calls_public, funds_visible_to, notifications_for
from .services import notification_mark_read


@require_GET
def notifications(request):
    page = Paginator(notifications_for(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "governance/notifications.html", {"page": page})


@require_POST
def notifications_mark_read(request):
    notification_mark_read(user=request.user)
    return redirect("governance:notifications")


@public
@require_GET
def call_list(request):
    return render(request, "governance/calls/list.html", {"calls": calls_public().order_by("-closes_at")})


@public
@require_GET
def call_public(request, slug: str):
    call = get_object_or_404(calls_public().prefetch_related("criteria__descriptors", "pots"), slug=slug)
    return render(request, "governance/calls/detail.html", {"call": call})


@require_GET
def fund_list(request):
    return render(request, "governance/funds/list.html", {"funds": funds_visible_to(request.user)})


@require_GET
def fund_detail(request, slug: str):
    fund = get_object_or_404(Fund, slug=slug)
    require(request.user.has_perm("governance.view_fund", fund))
    return render(request, "governance/funds/detail.html", {"fund": fund, "sections": sections_for_fund(request, fund)})
