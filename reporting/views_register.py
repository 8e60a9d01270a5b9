"""The public award register and open data."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from governance.access import public


@public
@require_GET
def register(request):
    return render(request, "reporting/register.html", {"awards": []})
