"""Pages for requests of a missing organisation (``governance.organisation_requests``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from .access import require
from .forms import add_service_errors
from .models import (
    Organisation,
    OrganisationKind,
    OrganisationRequestStatus,
)
from .organisation_requests import (
    REQUESTABLE_KINDS,
    organisation_request_approve,
    organisation_request_reject,
    organisation_request_submit,
    organisation_requests_of,
    organisation_requests_to_decide,
)


class OrganisationRequestForm(forms.Form):
    name = forms.CharField(label="Organisation name", max_length=200)
    kind = forms.ChoiceField(label="What kind of organisation is it?",
                             choices=[(k, label) for k, label in OrganisationKind.choices if k in REQUESTABLE_KINDS])
    charity_number = forms.CharField(label="Charity number", required=False, max_length=12,
                                     help_text="For a charity: its number on the Charity Commission register, like 1123456.")
    company_number = forms.CharField(label="Company number", required=False, max_length=10,
                                     help_text="For a company: its Companies House number, 8 digits or 2 letters and 6 digits.")
    ukprn = forms.CharField(label="UKPRN", required=False, max_length=8,
                            help_text="For a university or college: its UK Register of Learning Providers number, like 10007798.")
    edu_urn = forms.CharField(label="Schools and colleges URN", required=False, max_length=6,
                              help_text="Instead of a UKPRN: its Get Information about Schools number, 6 digits.")
    ods_code = forms.CharField(label="ODS code", required=False, max_length=8,
                               help_text="For an NHS organisation, GP practice or primary care network: its ODS code.")
    postcode = forms.CharField(required=False, max_length=8)
    website = forms.URLField(required=False, assume_scheme="https")
    network = forms.ModelChoiceField(label="Which Health Innovation Network's area is it in?", queryset=Organisation.objects.none(),
                                     help_text="A fund manager of this network checks and adds it.")
    reason = forms.CharField(label="Why do you need it? (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["network"].queryset = Organisation.objects.filter(kind=OrganisationKind.HEALTH_INNOVATION_NETWORK)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label="Your decision", widget=forms.RadioSelect,
                                 choices=[("approve", "Approve: add the organisation"), ("reject", "Reject")])
    note = forms.CharField(label="Note to the person who asked", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="Needed when you reject: say why and what they can do instead.")


@require_http_methods(["GET", "POST"])
def organisation_request_new(request):
    initial = {"name": request.GET.get("name", "")[:200]}
    form = OrganisationRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            organisation_request_submit(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your request has been sent to the network's fund managers. We will tell you when they decide.")
            return redirect("governance:organisation_requests_mine")
    return render(request, "governance/form_page.html", {
        "form": form, "title": "Ask for an organisation to be added", "submit": "Send the request",
        "caption": "Organisations",
    })


@require_GET
def organisation_requests_mine(request):
    return render(request, "governance/organisation_requests/list.html", {
        "requests": organisation_requests_of(request.user), "title": "Your requests for organisations", "mine": True,
    })


@require_GET
def organisation_requests_list(request):
    requests = organisation_requests_to_decide(request.user)
    require(request.user.is_superuser or requests.exists() or _manages_any_network(request.user))
    return render(request, "governance/organisation_requests/list.html", {
        "requests": requests, "title": "Requests for organisations", "mine": False,
    })


def _manages_any_network(user) -> bool:
    from .models import MembershipRole

    return user.memberships.filter(role=MembershipRole.FUND_MANAGER).exists()


@require_http_methods(["GET", "POST"])
def organisation_request_decide(request, pk: int):
    item = get_object_or_404(organisation_requests_to_decide(request.user), pk=pk)
    require(request.user.has_perm("governance.decide_organisation_request", item))
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and item.status == OrganisationRequestStatus.PENDING and form.is_valid():
        try:
            if form.cleaned_data["decision"] == "approve":
                organisation = organisation_request_approve(actor=request.user, request=item, note=form.cleaned_data["note"])
                messages.success(request, f"{organisation.name} has been added and {item.requested_by.full_name or 'the person who asked'} told.")
            else:
                organisation_request_reject(actor=request.user, request=item, note=form.cleaned_data["note"])
                messages.success(request, "The request has been rejected and the person told why.")
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("governance:organisation_requests")
    return render(request, "governance/organisation_requests/decide.html", {"item": item, "form": form})
