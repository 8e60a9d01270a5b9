"""Impact reports: the public list, and requests, builds and publication for fund managers."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from governance.access import public


@public
@require_GET
def reports(request):
    return render(request, "reporting/reports.html", {"reports": []})
