"""Award pages. Views find objects through the selectors (404 outside what the person may
see), check a rule (403), call one service and show its messages next to the fields."""

from __future__ import annotations

import csv
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessment.visibility import decision_view
from governance import uploads
from governance.access import reauthentication_redirect, require
from governance.forms import add_service_errors, submit_form
from governance.models import Fund
from governance.money import ZERO
from governance.selectors import funds_visible_to, request_roles

from . import services
from .exports import csv_safe
from .extensions import sections_for_award
from .forms import (
    AwardFilterForm,
    AwardIssueForm,
    ConditionReviewForm,
    ConditionScheduleForm,
    ConditionTemplateForm,
    EvidenceForm,
    OfferAcceptForm,
    OfferDeclineForm,
    PaymentForm,
    ReasonForm,
    ReturnFrequencyForm,
    VariationDecisionForm,
    VariationRequestForm,
)
from .models import (
    Award,
    AwardStatus,
    ConditionStatus,
    DocumentStatus,
    InstalmentStatus,
    VariationStatus,
)
from .selectors import (
    award_filter,
    award_letters,
    award_money_by_year,
    award_paid_to_date,
    award_profile,
    award_variations,
    condition_templates_for,
    conditions_of,
    decisions_managed_by,
    decisions_ready_for_award,
    instalments_of,
    open_variation,
    pot_ledger,
    pot_years,
    prestart_conditions_met,
)
from .steps import annotate_instalments, manager_next_step
from .visibility import (
    award_visible_to,
    awards_visible_to,
    remittance,
    sees_condition_evidence,
    sees_offer_letters,
    sees_payments,
    sees_pot_ledger,
)


def _award(request, reference: str):
    award = award_visible_to(request.user, reference)
    if award is None:
        raise Http404("No such award")
    require(request.user.has_perm("awards.view_award", award))
    return award


def _crumbs(*extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Home", reverse("dashboard")), ("Awards", reverse("awards:list")), *extra]


def _award_crumbs(award) -> list[tuple[str, str]]:
    return _crumbs((award.reference, award.get_absolute_url()))


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@require_GET
def award_list(request):
    form = AwardFilterForm(request.GET or None)
    awards = awards_visible_to(request.user).select_related("recipient", "pot__fund")
    if form.is_valid():
        awards = award_filter(awards, status=form.cleaned_data["status"], query=form.cleaned_data["q"],
                              fund=request.GET.get("fund", ""), needs=form.cleaned_data["needs"])
    page = Paginator(awards.order_by("-issued_at", "reference"), 25).get_page(request.GET.get("page"))
    return render(request, "awards/list.html", {
        "page": page, "filter_form": form, "roles": request_roles(request),
        "crumbs": [("Home", reverse("dashboard"))],
    })


@require_GET
def decisions_ready(request):
    roles = request_roles(request)
    require(roles.is_fund_manager or roles.is_site_admin)
    return render(request, "awards/decisions.html", {
        "decisions": decisions_ready_for_award(request.user).select_related("bid__call", "bid__lead_organisation"),
        "crumbs": _crumbs(),
    })


@require_http_methods(["GET", "POST"])
def award_issue(request, pk: int):
    decision = get_object_or_404(decisions_managed_by(request.user), pk=pk)
    require(request.user.has_perm("awards.issue_award", decision))
    if (reauth := reauthentication_redirect(request)) is not None:
        return reauth
    existing = getattr(decision, "award", None)
    if existing is not None:
        messages.info(request, f"An award has already been issued for this decision: {existing.reference}")
        return redirect(existing)
    bid = decision.bid
    form = AwardIssueForm(request.POST or None, decision=decision)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            award = services.award_issue(
                actor=request.user, decision=decision, amount=data["amount"], start_date=data["start_date"],
                end_date=data["end_date"], profile=form.cleaned_profile(), offer_deadline=data["offer_deadline"],
                conditions=form.condition_specs(), return_frequency_months=data["return_frequency_months"],
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) == "already_issued":  # another manager issued it a moment ago
                messages.info(request, _error_text(exc))
                return redirect(Award.objects.get(decision=decision))
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Award {award.reference} offered to {award.recipient.name}. The offer letter is being made.")
            return redirect(award)
    return render(request, "awards/issue.html", {
        "form": form, "decision": decision_view(request.user, decision), "bid": bid, "grant_id": f"360G-{settings.GRANTNAV_PREFIX}-{bid.reference}",
        "partners": bid.partners.select_related("organisation"),
        "pot_years": pot_years(bid.pot_id, bid.call.fund.years) if bid.pot_id else [],
        "crumbs": _crumbs(("Decisions ready for an award", reverse("awards:decisions_ready"))),
    })


@require_GET
def award_detail(request, reference: str):
    award = _award(request, reference)
    user = request.user
    money = award_money_by_year(award)
    paid = award_paid_to_date(award)
    can_manage = user.has_perm("awards.manage_award", award)
    instalments = instalments_of(award)
    conditions = conditions_of(award)
    if can_manage:  # why each scheduled instalment cannot be released yet: only managers are shown it
        annotate_instalments(instalments)
    for instalment in instalments:
        instalment.remittance = remittance(user, instalment)
    return render(request, "awards/detail.html", {
        "award": award,
        "bid": award.bid,
        "partners": award.bid.partners.select_related("organisation"),
        "money": money,
        "paid": paid,
        "committed": sum((row.committed for row in money), ZERO),
        "outstanding": sum((row.outstanding for row in money), ZERO),
        "conditions": conditions,
        "instalments": instalments,
        "next_step": manager_next_step(award, instalments, conditions) if can_manage else None,
        "sees_payments": sees_payments(user, award),
        "letters": award_letters(award),
        "variations": award_variations(award),
        "open_variation": open_variation(award),
        "prestart_met": prestart_conditions_met(award),
        "can_manage": can_manage,
        "is_grantee": user.has_perm("awards.act_for_recipient", award),
        "is_signatory": user.has_perm("awards.respond_to_offer", award),
        "is_live": award.status in (AwardStatus.OFFERED, AwardStatus.ACCEPTED, AwardStatus.ACTIVE, AwardStatus.SUSPENDED),
        "can_vary": award.status in services.VARIABLE_STATUSES,
        "sections": sections_for_award(request, award),
        "crumbs": _crumbs(),
    })


@require_http_methods(["GET", "POST"])
def offer_respond(request, reference: str):
    award = _award(request, reference)
    require(request.user.has_perm("awards.respond_to_offer", award))
    if award.status != AwardStatus.OFFERED:
        messages.info(request, f"This offer is no longer open: the award is {award.get_status_display().lower()}.")
        return redirect(award)
    response = request.POST.get("response") if request.method == "POST" else None
    accept_form = OfferAcceptForm(request.POST if response == "accept" else None, award=award, prefix="accept")
    decline_form = OfferDeclineForm(request.POST if response == "decline" else None, prefix="decline")
    form = accept_form if response == "accept" else decline_form if response == "decline" else None
    if form is not None and form.is_valid():
        try:
            if response == "accept":
                services.award_accept(actor=request.user, award=award)
                messages.success(request, f"You accepted the offer for {award.reference}.")
            else:
                services.award_decline(actor=request.user, award=award, reason=form.cleaned_data["reason"])
                messages.success(request, f"You declined the offer for {award.reference}.")
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect(award)
    return render(request, "awards/respond.html", {
        "award": award, "accept_form": accept_form, "decline_form": decline_form,
        "has_errors": bool(form is not None and form.errors),
        # The latest letter only: an older one may carry terms that have since changed.
        "letter": award_letters(award).first(),
        "money": award_money_by_year(award), "conditions": award.conditions.all(),
        "crumbs": _award_crumbs(award),
    })


@require_GET
def letter_download(request, reference: str, version: int):
    award = _award(request, reference)
    require(sees_offer_letters(request.user, award))
    letter = get_object_or_404(award.letters, version=version, status=DocumentStatus.READY)
    if not letter.file:
        raise Http404
    return uploads.private_file_response(letter.file, content_type="application/pdf",
                                         filename=f"{award.reference}-offer-letter-v{letter.version}.pdf")


@require_POST
def letter_request(request, reference: str):
    award = _award(request, reference)
    require(request.user.has_perm("awards.manage_award", award))
    try:
        letter = services.offer_letter_request(actor=request.user, award=award)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"Offer letter version {letter.version} is being made.")
    return redirect(award.get_absolute_url() + "#letters")


@uploads.limit_upload_size(uploads.CONDITION_EVIDENCE)
@require_http_methods(["GET", "POST"])
def condition_evidence(request, reference: str, pk: int):
    # The size limit is in place before anything reads the upload (see limit_upload_size).
    award = _award(request, reference)
    condition = get_object_or_404(award.conditions, pk=pk)
    require(request.user.has_perm("awards.act_for_recipient", award))
    form = EvidenceForm(request.POST or None, request.FILES or None,
                        too_large="file" in uploads.too_large_fields(request))
    sent = submit_form(request, form, lambda: services.condition_evidence_submit(
        actor=request.user, condition=condition, upload=form.cleaned_data["file"], note=form.cleaned_data["note"]))
    if sent:
        condition = sent
        if condition.evidence_scan_status == uploads.ScanStatus.AWAITING:
            messages.success(request, f"Evidence sent for \"{condition.title}\". It is being checked for viruses; "
                                      "a fund manager will review it once the check is done.")
        else:
            messages.success(request, f"Evidence sent for \"{condition.title}\". A fund manager will review it.")
        return redirect(award.get_absolute_url() + "#conditions")
    return render(request, "awards/evidence.html", {
        "award": award, "condition": condition, "form": form, "crumbs": _award_crumbs(award),
    })


@require_GET
def condition_evidence_file(request, reference: str, pk: int):
    award = _award(request, reference)
    require(sees_condition_evidence(request.user, award))
    condition = get_object_or_404(award.conditions, pk=pk)
    if not condition.evidence:
        raise Http404
    if reason := uploads.unavailable_message(condition.evidence_scan_status):
        return render(request, "governance/file_unavailable.html", {
            "name": condition.evidence_name, "reason": reason, "status": condition.get_evidence_scan_status_display(),
            "back": award.get_absolute_url() + "#conditions",
        }, status=409)
    kind = uploads.by_content_type(condition.evidence_content_type)
    return uploads.private_file_response(
        condition.evidence, content_type=condition.evidence_content_type,
        filename=uploads.safe_download_name(condition.evidence_name, kind, default="evidence"))


@require_http_methods(["GET", "POST"])
def condition_review(request, reference: str, pk: int):
    award = _award(request, reference)
    condition = get_object_or_404(award.conditions, pk=pk)
    require(request.user.has_perm("awards.manage_award", award))
    form = ConditionReviewForm(request.POST or None, has_evidence=condition.status == ConditionStatus.EVIDENCE_SUBMITTED)
    services_by_action = {"met": services.condition_sign_off, "return": services.condition_return,
                          "waive": services.condition_waive}
    if submit_form(request, form, lambda: services_by_action[form.cleaned_data["action"]](
            actor=request.user, condition=condition, note=form.cleaned_data["note"])):
        messages.success(request, f"Condition \"{condition.title}\" updated.")
        return redirect(award.get_absolute_url() + "#conditions")
    return render(request, "awards/condition_review.html", {
        "award": award, "condition": condition, "form": form, "crumbs": _award_crumbs(award),
    })


def _instalment_action(request, reference: str, pk: int, service, done: str):
    award = _award(request, reference)
    instalment = get_object_or_404(award.instalments, pk=pk)
    require(request.user.has_perm("awards.manage_award", award))
    if (reauth := reauthentication_redirect(request, award.get_absolute_url() + "#schedule")) is not None:
        return reauth
    try:
        service(actor=request.user, instalment=instalment)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"{instalment.label} instalment {done}.")
    return redirect(award.get_absolute_url() + "#schedule")


@require_POST
def instalment_release(request, reference: str, pk: int):
    return _instalment_action(request, reference, pk, services.instalment_release, "released for payment")


@require_http_methods(["GET", "POST"])
def instalment_pay(request, reference: str, pk: int):
    """Record a payment: the day, the amount and the finance system's reference."""
    award = _award(request, reference)
    instalment = get_object_or_404(award.instalments, pk=pk)
    require(request.user.has_perm("awards.manage_award", award))
    if request.method == "POST" and (
            reauth := reauthentication_redirect(request, award.get_absolute_url() + "#schedule")) is not None:
        return reauth
    if instalment.status != InstalmentStatus.RELEASED:
        messages.info(request, f"The {instalment.label} instalment is {instalment.get_status_display().lower()}: "
                               "only a released instalment's payment can be recorded.")
        return redirect(award.get_absolute_url() + "#schedule")
    form = PaymentForm(request.POST or None, instalment=instalment)
    if submit_form(request, form, lambda: services.instalment_mark_paid(
            actor=request.user, instalment=instalment, paid_on=form.cleaned_data["paid_on"],
            amount=form.cleaned_data["amount"], reference=form.cleaned_data["reference"], note=form.cleaned_data["note"])):
        messages.success(request, f"Payment of the {instalment.label} instalment recorded. "
                                  f"{award.recipient.name} has been sent the remittance.")
        return redirect(award.get_absolute_url() + "#schedule")
    return render(request, "awards/payment.html", {
        "award": award, "instalment": instalment, "form": form, "crumbs": _award_crumbs(award),
    })


@require_http_methods(["GET", "POST"])
def condition_schedule(request, reference: str, pk: int):
    """A condition's due date and the payment it holds back."""
    award = _award(request, reference)
    condition = get_object_or_404(award.conditions, pk=pk)
    require(request.user.has_perm("awards.manage_award", award))
    instalments = list(award.instalments.exclude(status=InstalmentStatus.CANCELLED).order_by("financial_year", "quarter"))
    form = ConditionScheduleForm(request.POST or None, condition=condition, instalments=instalments)
    if submit_form(request, form, lambda: services.condition_schedule_set(
            actor=request.user, condition=condition, due_date=form.cleaned_data["due_date"],
            holds_back=form.cleaned_data["holds_back"])):
        messages.success(request, f"Condition \"{condition.title}\" updated.")
        return redirect(award.get_absolute_url() + "#conditions")
    return render(request, "awards/condition_schedule.html", {
        "award": award, "condition": condition, "form": form, "crumbs": _award_crumbs(award),
    })


PAYMENT_COLUMNS = ["award_reference", "instalment", "instalment_amount", "status", "released_on", "paid_on",
                   "amount_paid", "payment_reference", "reason_amount_differs"]


@require_GET
def payments_csv(request, reference: str):
    """The award's instalments with their remittances, as the person may see them."""
    award = _award(request, reference)
    require(sees_payments(request.user, award))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{award.reference}-payments.csv"'
    writer = csv.writer(response)
    writer.writerow(PAYMENT_COLUMNS)
    for instalment in instalments_of(award):
        paid = remittance(request.user, instalment) or {}
        writer.writerow([
            csv_safe(award.reference), instalment.label, instalment.amount, instalment.get_status_display(),
            instalment.released_at.date().isoformat() if instalment.released_at else "",
            paid["paid_on"].isoformat() if paid.get("paid_on") else "", paid.get("paid_amount") or "",
            csv_safe(paid.get("payment_reference", "")), csv_safe(paid.get("payment_note", "")),
        ])
    return response


# action -> (service, page title, button, reason required, hint, done)
STATUS_ACTIONS: dict[str, tuple[Callable[..., Award], str, str, bool, str, str]] = {
    "activate": (services.award_activate, "Start the award", "Start the award", False,
                 "The pre-start conditions must be met or waived.", "started"),
    "suspend": (services.award_suspend, "Suspend the award", "Suspend the award", True,
                "Payments stop while the award is suspended. The grantee sees the reason.", "suspended"),
    "resume": (services.award_resume, "Resume the award", "Resume the award", False, "", "resumed"),
    "close": (services.award_close, "Close the award", "Close the award", False,
              "Any money committed but not paid is released back to the pot.", "closed"),
    "withdraw": (services.award_withdraw, "Withdraw the award", "Withdraw the award", True,
                 "All unpaid money is released back to the pot. The grantee sees the reason.", "withdrawn"),
}


@require_http_methods(["GET", "POST"])
def award_status(request, reference: str, action: str):
    if action not in STATUS_ACTIONS:
        raise Http404
    award = _award(request, reference)
    require(request.user.has_perm("awards.manage_award", award))
    service, title, button, reason_required, hint, done = STATUS_ACTIONS[action]
    form = ReasonForm(request.POST or None, reason_required=reason_required, hint=hint)
    if submit_form(request, form, lambda: service(actor=request.user, award=award, reason=form.cleaned_data["reason"])):
        messages.success(request, f"Award {award.reference} {done}.")
        return redirect(award)
    return render(request, "awards/status.html", {
        "award": award, "form": form, "title": title, "button": button, "action": action,
        "money": award_money_by_year(award), "crumbs": _award_crumbs(award),
    })


@require_http_methods(["GET", "POST"])
def award_return_frequency(request, reference: str):
    award = _award(request, reference)
    require(request.user.has_perm("awards.manage_award", award))
    form = ReturnFrequencyForm(request.POST or None, initial={"return_frequency_months": award.return_frequency_months})
    if submit_form(request, form, lambda: services.award_return_frequency_set(
            actor=request.user, award=award, months=form.cleaned_data["return_frequency_months"])):
        messages.success(request, "Saved. A new offer letter is being made, and the recipient has been told.")
        return redirect(award)
    return render(request, "awards/return_frequency.html", {
        "award": award, "form": form, "offered": award.status == AwardStatus.OFFERED, "crumbs": _award_crumbs(award),
    })


@require_http_methods(["GET", "POST"])
def variation_request(request, reference: str):
    award = _award(request, reference)
    require(request.user.has_perm("awards.act_for_recipient", award))
    waiting = open_variation(award)
    if waiting is not None:
        messages.info(request, services.VARIATION_ALREADY_OPEN)
        return redirect("awards:variation_detail", reference=award.reference, pk=waiting.pk)
    form = VariationRequestForm(request.POST or None, award=award, current_profile=award_profile(award))
    if submit_form(request, form, lambda: services.variation_request(
            actor=request.user, award=award, kind=form.cleaned_data["kind"], reasons=form.cleaned_data["reasons"],
            proposed_profile=form.cleaned_profile(), proposed_end_date=form.cleaned_data["proposed_end_date"],
            proposed_scope=form.cleaned_data["proposed_scope"])):
        messages.success(request, "Your variation request has been sent to the fund manager.")
        return redirect(award.get_absolute_url() + "#variations")
    return render(request, "awards/variation_request.html", {
        "award": award, "form": form, "money": award_money_by_year(award), "crumbs": _award_crumbs(award),
    })


@require_http_methods(["GET", "POST"])
def variation_detail(request, reference: str, pk: int):
    award = _award(request, reference)
    variation = get_object_or_404(award_variations(award), pk=pk)
    can_decide = request.user.has_perm("awards.manage_award", award) and variation.status == VariationStatus.REQUESTED
    if request.method == "POST":
        require(request.user.has_perm("awards.manage_award", award))
    if request.method == "POST" and can_decide and (
            reauth := reauthentication_redirect(request, request.path)) is not None:
        # Deciding a variation (approving it changes the profile and the payments) needs a recent sign-in.
        return reauth
    form = VariationDecisionForm(request.POST or None) if can_decide else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            if form.cleaned_data["decision"] == "approve":
                services.variation_approve(actor=request.user, variation=variation, note=form.cleaned_data["note"])
                messages.success(request, "Variation approved. The profile and payment schedule have been updated.")
            else:
                services.variation_reject(actor=request.user, variation=variation, note=form.cleaned_data["note"])
                messages.success(request, "Variation rejected.")
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect(award.get_absolute_url() + "#variations")
    elif request.method == "POST" and form is None:
        messages.error(request, f"This variation has already been {variation.get_status_display().lower()}.")
        return redirect(award.get_absolute_url() + "#variations")
    current = award_profile(award)
    proposed = {int(y): v for y, v in (variation.proposed_profile or {}).items()}
    previous = {int(y): v for y, v in (variation.previous_profile or {}).items()}
    years = sorted(set(current) | set(proposed) | set(previous))
    totals = {row.financial_year: row for row in pot_years(award.pot_id, years)}
    rows = [{"year": y, "current": current.get(y), "proposed": proposed.get(y), "previous": previous.get(y),
             "pot": totals.get(y)} for y in years]
    return render(request, "awards/variation_detail.html", {
        "award": award, "variation": variation, "form": form, "rows": rows, "crumbs": _award_crumbs(award),
    })


@require_http_methods(["GET", "POST"])
def fund_conditions(request, slug: str):
    fund = get_object_or_404(funds_visible_to(request.user), slug=slug)
    require(request.user.has_perm("awards.manage_conditions", fund))
    form = ConditionTemplateForm(request.POST or None)
    if submit_form(request, form, lambda: services.condition_template_create(actor=request.user, fund=fund,
                                                                            **form.cleaned_data)):
        messages.success(request, f"Condition \"{form.cleaned_data['title']}\" added for {fund.name}.")
        return redirect("awards:fund_conditions", slug=fund.slug)
    return render(request, "awards/fund_conditions.html", {
        "fund": fund, "form": form, "templates": condition_templates_for(fund),
        "crumbs": [("Home", reverse("dashboard")), (fund.name, fund.get_absolute_url())],
    })


LEDGER_COLUMNS = ["fund", "pot", "financial_year", "budget", "committed", "paid", "released", "remaining", "outstanding"]


@require_GET
def pot_ledger_csv(request, slug: str):
    fund = get_object_or_404(Fund, slug=slug)
    require(sees_pot_ledger(request.user, fund))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{fund.slug}-pot-ledger.csv"'
    writer = csv.writer(response)
    writer.writerow(LEDGER_COLUMNS)
    for row in pot_ledger(fund.pots.values_list("pk", flat=True)):
        writer.writerow([
            csv_safe(row.fund_name), csv_safe(row.pot_name), row.year_label, row.budget, row.committed, row.paid,
            row.released, row.remaining, row.outstanding,
        ])
    return response
