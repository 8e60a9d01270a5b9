"""Reporting pages. The register and reports lists are public."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from governance.access import public


@public
@require_GET
def register(request):
    return render(request, "reporting/register.html", {"awards": []})


@public
@require_GET
def reports(request):
    return render(request, "reporting/reports.html", {"reports": []})
