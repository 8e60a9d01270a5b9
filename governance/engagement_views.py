"""Pages for keeping people told: email preference, a fund's notification wording, questions on
an open call, and public alerts of new calls. Thin: rules in ``rules.py``, reads in
``selectors.py``, writes in ``services.py``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from . import notifications, services
from .access import public, require
from .forms import (
    CallAlertForm,
    CallAnswerForm,
    CallQuestionForm,
    NotificationDeliveryForm,
    NotificationWordingForm,
    add_service_errors,
)
from .models import CallQuestion
from .selectors import (
    call_by_slug,
    call_public_by_slug,
    call_questions_all,
    call_questions_asked_by,
    fund_by_slug,
    networks,
)

# Your email preference ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def email_preference(request):
    form = NotificationDeliveryForm(request.POST if request.method == "POST" else None,
                                    initial={"delivery": request.user.notification_delivery})
    if request.method == "POST" and form.is_valid():
        services.notification_delivery_set(actor=request.user, delivery=form.cleaned_data["delivery"])
        messages.success(request, "Your email preference has been saved.")
        return redirect("governance:account")
    return render(request, "governance/form_page.html", {
        "form": form, "title": "How you get emails", "submit": "Save",
        "crumbs": [("Your account", reverse("governance:account"))],
    })


# A fund's wording of each message --------------------------------------------------------------------


def _managed_fund(request, slug: str):
    fund = fund_by_slug(slug)
    if fund is None:
        raise Http404("No such fund")
    require(request.user.has_perm("governance.manage_fund", fund))
    return fund


@require_GET
def notification_wordings(request, slug: str):
    fund = _managed_fund(request, slug)
    own = {w.kind: w for w in fund.notification_wordings.all()}
    rows = [{"message": m, "own": own.get(m.key)} for m in notifications.EDITABLE]
    return render(request, "governance/notifications/wordings.html", {
        "fund": fund, "rows": rows,
        "crumbs": [("Funds", reverse("governance:funds")), (fund.name, fund.get_absolute_url())],
    })


@require_http_methods(["GET", "POST"])
def notification_wording_edit(request, slug: str, kind: str):
    fund = _managed_fund(request, slug)
    message = notifications.CATALOGUE.get(kind)
    if message is None or not message.fund_wording:
        raise Http404("No such message")
    subject, body = notifications.wording_for(kind, fund)
    form = NotificationWordingForm(request.POST if request.method == "POST" else None,
                                   initial={"subject": subject, "body": body})
    action = request.POST.get("action", "preview")
    if request.method == "POST" and action == "reset":
        services.notification_wording_reset(actor=request.user, fund=fund, kind=kind)
        messages.success(request, f"\u201c{message.label}\u201d is back to the portal's wording.")
        return redirect("governance:notification_wordings", slug=fund.slug)
    preview = None
    if request.method == "POST" and form.is_valid():
        subject, body = form.cleaned_data["subject"], form.cleaned_data["body"]
        errors = notifications.wording_errors(kind, subject=subject.strip(), body=body.strip())
        if errors:
            add_service_errors(form, ValidationError(errors))
        elif action == "save":
            try:
                services.notification_wording_save(actor=request.user, fund=fund, kind=kind, subject=subject, body=body)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"The wording of \u201c{message.label}\u201d has been saved.")
                return redirect("governance:notification_wordings", slug=fund.slug)
    if not form.errors:
        preview = notifications.preview(kind, subject=subject, body=body)
    return render(request, "governance/notifications/wording_edit.html", {
        "fund": fund, "message": message, "form": form, "preview": preview,
        "placeholders": message.placeholders, "required": message.required,
        "crumbs": [(fund.name, fund.get_absolute_url()),
                   ("Notification wording", reverse("governance:notification_wordings", args=[fund.slug]))],
    })


# Questions on an open call -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def call_question_ask(request, slug: str):
    call = call_public_by_slug(slug)
    if call is None:
        raise Http404("No such call")
    require(request.user.has_perm("governance.ask_call_question", call))
    form = CallQuestionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.call_question_ask(actor=request.user, call=call, question=form.cleaned_data["question"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your question has been sent. The answer will be published on this page.")
            return redirect(f"{call.get_absolute_url()}#questions")
    return render(request, "governance/calls/question_ask.html", {
        "call": call, "form": form, "open": services.call_takes_questions(call),
        "mine": call_questions_asked_by(call, request.user),
        "crumbs": [("Funding calls", reverse("governance:calls")), (call.title, call.get_absolute_url())],
    })


def _questions_call(request, slug: str):
    call = call_by_slug(slug)
    if call is None:
        raise Http404("No such call")
    require(request.user.has_perm("governance.view_call_questions", call))
    return call


@require_GET
def call_questions(request, slug: str):
    call = _questions_call(request, slug)
    return render(request, "governance/calls/questions.html", {
        "call": call, "questions": call_questions_all(call),
        "can_answer": request.user.has_perm("governance.answer_call_question", call),
        "crumbs": [(call.fund.name, call.fund.get_absolute_url()),
                   (call.title, reverse("governance:call_manage", args=[call.slug]))],
    })


@require_http_methods(["GET", "POST"])
def call_question_answer(request, slug: str, pk: int):
    call = _questions_call(request, slug)
    require(request.user.has_perm("governance.answer_call_question", call))
    question = get_object_or_404(CallQuestion, pk=pk, call=call)
    form = CallAnswerForm(request.POST if request.method == "POST" else None, initial={"answer": question.answer})
    if request.method == "POST" and form.is_valid():
        try:
            services.call_question_answer(actor=request.user, question=question, answer=form.cleaned_data["answer"])
            if request.POST.get("action") == "publish":
                services.call_question_publish(actor=request.user, question=question)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            published = request.POST.get("action") == "publish"
            messages.success(request, "The answer has been published on the call page." if published
                             else "The answer has been saved. It is not public until you publish it.")
            return redirect("governance:call_questions", slug=call.slug)
    return render(request, "governance/calls/question_answer.html", {
        "call": call, "question": question, "form": form,
        "crumbs": [(call.title, reverse("governance:call_manage", args=[call.slug])),
                   ("Questions", reverse("governance:call_questions", args=[call.slug]))],
    })


# Alerts for the public ------------------------------------------------------------------------------


def _client(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


@public
@require_http_methods(["GET", "POST"])
def call_alert_subscribe(request):
    form = CallAlertForm(request.POST if request.method == "POST" else None, networks=networks())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.call_alert_subscribe(email=data["email"], networks=list(data["networks"]),
                                          purposes=data["purposes"], regions=data["regions"], client=_client(request))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return render(request, "governance/alerts/check_email.html", {"email": data["email"]})
    return render(request, "governance/alerts/subscribe.html", {
        "form": form, "crumbs": [("Home", reverse("home")), ("Funding calls", reverse("governance:calls"))],
    })


@public
@require_GET
def call_alert_confirm(request, token: str):
    try:
        services.call_alert_confirm(token=token)
    except ValidationError as exc:
        return render(request, "governance/alerts/link_problem.html", {"problem": exc.messages[0]}, status=400)
    return render(request, "governance/alerts/confirmed.html")


@public
@csrf_exempt  # RFC 8058 one-click unsubscribe: the mail client POSTs without a form token
@require_http_methods(["GET", "POST"])
def call_alert_unsubscribe(request, token: str):
    if request.method == "GET":
        return render(request, "governance/alerts/unsubscribe.html", {"token": token})
    try:
        services.call_alert_unsubscribe(token=token)
    except ValidationError as exc:
        return render(request, "governance/alerts/link_problem.html", {"problem": exc.messages[0]}, status=400)
    if request.POST.get("List-Unsubscribe") == "One-Click":
        return HttpResponse("Unsubscribed", content_type="text/plain")
    return render(request, "governance/alerts/unsubscribed.html")

