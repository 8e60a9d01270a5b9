"""Assessment pages. Thin: find the object in what the person may see (404 otherwise), check
the permission (403), hand what was typed to a service and show what it says next to the field.

An assessor only ever reaches their own assignments (``selectors.assignment_of``); one who has
declared a conflict on a bid gets a 404 for it, as for a bid never assigned to them.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from applications.exports import csv_text
from applications.models import BidStatus
from applications.selectors import bid_content, bids_for_call
from applications.visibility import bid_visible_to
from governance import uploads
from governance.access import reauthentication_redirect, require
from governance.forms import submit_form  # a valid POST runs the service; its errors go on the form
from governance.models import CallStatus, Criterion
from governance.selectors import call_by_slug, fund_by_slug, request_roles

from . import forms, selectors, services, visibility
from .models import AssignmentStatus, SheetStatus


def _home() -> tuple[str, str]:
    return ("Assessment", reverse("assessment:hub"))


def _call_crumbs(call, *extra) -> list[tuple[str, str]]:
    return [("Home", reverse("dashboard")), _home(), (call.title, reverse("assessment:call", args=[call.slug])), *extra]


def _call_or_404(slug: str):
    call = call_by_slug(slug)
    if call is None:
        raise Http404("No such call")
    return call


def _viewable_call(request, slug: str):
    call = _call_or_404(slug)
    require(request.user.has_perm("assessment.view_call", call))
    return call


def _bid_of_call(call, pk: int, statuses=selectors.ASSESSED_BID_STATUSES):
    bid = bids_for_call(call).filter(pk=pk, status__in=statuses).first()
    if bid is None:
        raise Http404("No such bid in assessment on this call")
    return bid


def _criteria(call) -> list[Criterion]:
    return selectors.criteria_with_rubric(call)


def _managed_assignment(request, pk: int):
    """An assignment on a call the person runs as fund manager, else 404."""
    assignment = selectors.assignments_managed_by(request.user).filter(pk=pk).first()
    if assignment is None:
        raise Http404("No such assignment")
    return assignment


# The hub: a person's part in assessment --------------------------------------------------------------


@require_GET
def hub(request):
    require(request.user.has_perm("assessment.use_assessment"))
    roles = request_roles(request)
    queue = selectors.assessor_queue(request.user)
    return render(request, "assessment/hub.html", {
        "queue": queue, "roles": roles,
        "chaired": list(selectors.calls_chaired_by(request.user)),
        "managed": list(selectors.calls_to_assess_managed_by(request.user)) if roles.is_fund_manager or roles.is_site_admin else [],
        "audited": list(selectors.calls_audited_by(request.user)) if roles.is_auditor else [],
        "invitations": list(selectors.invitations_for(request.user)),
        "profile": getattr(request.user, "assessor_profile", None),
        "pools": list(selectors.pool_networks_managed_by(request.user)),
        "today": timezone.localdate(), "now": timezone.now(),
        "crumbs": [("Home", reverse("dashboard"))],
    })


# Assessors: declaring and scoring ----------------------------------------------------------------------


def _own_assignment(request, pk: int):
    """The person's own assignment, unless withdrawn or conflicted: else 404 (never the bid)."""
    assignment = selectors.assignment_of(request.user, pk)
    if assignment is None or assignment.status == AssignmentStatus.CONFLICTED:
        raise Http404("No such assignment")
    return assignment


@require_GET
def assignment(request, pk: int):
    own = _own_assignment(request, pk)
    if own.status == AssignmentStatus.AWAITING_DECLARATION:
        return redirect("assessment:declare", pk=own.pk)
    return redirect("assessment:sheet", pk=own.pk)


@require_http_methods(["GET", "POST"])
def declare(request, pk: int):
    own = _own_assignment(request, pk)
    if own.status != AssignmentStatus.AWAITING_DECLARATION:
        return redirect("assessment:sheet", pk=own.pk)
    bid = own.bid
    form = forms.DeclarationForm(request.POST if request.method == "POST" else None)
    declaration = submit_form(request, form, lambda: services.conflict_declare(
        actor=request.user, assignment=own, **form.service_fields()))
    if declaration:
        if declaration.has_conflict:
            messages.success(request, f"Your conflict of interest is recorded. You are no longer assessing {bid.reference}.")
            return redirect("assessment:hub")
        messages.success(request, "You have declared no conflict of interest. The bid and its score sheet are open to you.")
        return redirect("assessment:sheet", pk=own.pk)
    return render(request, "assessment/declare.html", {
        "assignment": own, "bid": bid, "form": form,
        "partners": list(bid.partners.select_related("organisation")),
        "crumbs": [("Home", reverse("dashboard")), _home()],
    })


@require_http_methods(["GET", "POST"])
def sheet(request, pk: int):
    own = _own_assignment(request, pk)
    if own.status == AssignmentStatus.AWAITING_DECLARATION:
        return redirect("assessment:declare", pk=own.pk)
    bid, call = own.bid, own.bid.call
    criteria = _criteria(call)
    saved = selectors.sheet_scores(own)
    score_sheet = getattr(own, "sheet", None)
    submitted = score_sheet is not None and score_sheet.status == SheetStatus.SUBMITTED
    decided = selectors.decision_of(bid) is not None
    closed = call.status != CallStatus.ASSESSMENT or bid.status != BidStatus.IN_ASSESSMENT or decided
    editable = not submitted and not closed
    form = forms.ScoreSheetForm(request.POST if request.method == "POST" else None, criteria=criteria, scores=saved)
    refused = []
    if request.method == "POST":
        if not editable:
            refused = [services.SHEET_SUBMITTED if submitted else services.SCORING_CLOSED]
        else:
            submitting = request.POST.get("action") == "submit"
            service = services.score_sheet_submit if submitting else services.score_sheet_save
            if submit_form(request, form, lambda: service(actor=request.user, assignment=own, scores=form.scores())):
                if submitting:
                    messages.success(request, f"Your scores on {bid.reference} are submitted. Thank you.")
                    return redirect("assessment:hub")
                messages.success(request, "Your draft scores are saved. Submit them when every criterion is scored.")
                return redirect("assessment:sheet", pk=own.pk)
    content = bid_content(bid)
    rows = [
        {"criterion": c, "descriptors": {d.score: d.descriptor for d in c.descriptors.all()},
         "fields": form.row(c), "saved": saved.get(c.pk), **selectors.criterion_answers(c, bid, content)}
        for c in criteria
    ]
    return render(request, "assessment/sheet.html", {
        "assignment": own, "bid": bid, "call": call, "form": form, "rows": rows, "editable": editable,
        "submitted": submitted, "closed": closed, "score_sheet": score_sheet, "refused": refused,
        "waiting": selectors.clarification_waiting(bid), "today": timezone.localdate(),
        "clarifications": visibility.clarifications_visible_to(request.user, bid),
        "can_ask": not closed and request.user.has_perm("assessment.ask_clarification", bid),
        "has_errors": bool(refused), **content,
        "crumbs": [("Home", reverse("dashboard")), _home()],
    }, status=400 if refused else 200)


# Fund managers: starting assessment, assigning and re-assigning ---------------------------------------


@require_GET
def call_overview(request, slug: str):
    call = _viewable_call(request, slug)
    rows, loads = selectors.call_assignments(call)
    waiting = [row for row in rows if row.bid.status == BidStatus.SUBMITTED]
    in_assessment = [row for row in rows if row.bid.status != BidStatus.SUBMITTED]
    return render(request, "assessment/call.html", {
        "call": call, "rows": in_assessment, "waiting": waiting, "loads": loads,
        "phase": call.phase(), "can_manage": request.user.has_perm("assessment.manage_call", call),
        "can_chair": request.user.has_perm("assessment.chair_call", call),
        "can_conflicts": request.user.has_perm("assessment.view_conflicts", call.fund),
        "short": sum(row.shortfall for row in in_assessment if row.bid.status == BidStatus.IN_ASSESSMENT),
        "crumbs": [("Home", reverse("dashboard")), _home()],
    })


@require_POST
def call_start(request, slug: str):
    call = _call_or_404(slug)
    require(request.user.has_perm("assessment.manage_call", call))
    try:
        services.call_assessment_start(actor=request.user, call=call)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Assessment has started: the submitted bids are in assessment. Assign the assessors next.")
        return redirect(reverse("assessment:call", args=[call.slug]) + "#assign")
    return redirect("assessment:call", slug=call.slug)


@require_POST
def call_auto_assign(request, slug: str):
    call = _call_or_404(slug)
    require(request.user.has_perm("assessment.manage_call", call))
    try:
        result = services.assignments_auto(actor=request.user, call=call)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        made = len(result.created)
        text = f"{made} assignment{'s' if made != 1 else ''} made."
        if result.short:
            text += (f" Not enough free panel members for {', '.join(result.short)}: add members to the panel, "
                     "or assign by hand.")
        messages.success(request, text)
    return redirect("assessment:call", slug=call.slug)


@require_http_methods(["GET", "POST"])
def bid_assign(request, slug: str, pk: int):
    call = _call_or_404(slug)
    require(request.user.has_perm("assessment.manage_call", call))
    bid = _bid_of_call(call, pk, statuses=(BidStatus.IN_ASSESSMENT,))
    candidates = selectors.assessor_candidates(call, bid)
    form = forms.AssignForm(request.POST if request.method == "POST" else None, candidates=candidates)
    made = submit_form(request, form, lambda: services.assignment_create(
        actor=request.user, bid=bid, assessor=form.chosen(), due_date=form.cleaned_data.get("due_date")))
    if made:
        messages.success(request, f"{made.assessor.full_name} is assigned to {bid.reference}.")
        return redirect(reverse("assessment:call", args=[call.slug]) + f"#bid-{bid.pk}")
    live = sum(1 for a in selectors.live_assignments_of(bid))
    return render(request, "assessment/bid_assign.html", {
        "call": call, "bid": bid, "form": form, "candidates": candidates, "full": live >= call.assessors_per_bid,
        "crumbs": _call_crumbs(call),
    })


@require_http_methods(["GET", "POST"])
def assignment_withdraw(request, pk: int):
    current = _managed_assignment(request, pk)
    call, bid = current.bid.call, current.bid
    candidates = [c for c in selectors.assessor_candidates(call, bid) if c.member.user_id != current.assessor_id]
    form = forms.ReassignForm(request.POST if request.method == "POST" else None, candidates=candidates)
    done = submit_form(request, form, lambda: services.assignment_reassign(
        actor=request.user, assignment=current, **form.service_fields()) or "none")
    if done:
        text = f"{current.assessor.full_name} has come off {bid.reference}."
        if done != "none":
            text += f" {done.assessor.full_name} takes the bid instead."
        messages.success(request, text)
        return redirect(reverse("assessment:call", args=[call.slug]) + f"#bid-{bid.pk}")
    return render(request, "assessment/reassign.html", {
        "call": call, "bid": bid, "current": current, "form": form, "crumbs": _call_crumbs(call),
    })


@require_http_methods(["GET", "POST"])
def sheet_reopen(request, pk: int):
    current = _managed_assignment(request, pk)
    call, bid = current.bid.call, current.bid
    form = forms.ReasonForm(request.POST if request.method == "POST" else None)
    if submit_form(request, form, lambda: services.score_sheet_reopen(
            actor=request.user, assignment=current, reason=form.cleaned_data.get("reason") or "")):
        messages.success(request, f"{current.assessor.full_name}'s score sheet for {bid.reference} is reopened; they have been told.")
        return redirect("assessment:bid_scores", slug=call.slug, pk=bid.pk)
    return render(request, "assessment/reopen.html", {
        "call": call, "bid": bid, "current": current, "form": form, "crumbs": _call_crumbs(call),
    })


# The panel: ranking, each bid's scores, moderation and decisions -----------------------------------------


@require_GET
def ranking(request, slug: str):
    call = _viewable_call(request, slug)
    criteria = _criteria(call)
    decided = visibility.call_is_decided(call)
    table = None if decided else visibility.ranking_for(request.user, call, criteria)
    can_chair = request.user.has_perm("assessment.chair_call", call) and call.status == CallStatus.ASSESSMENT
    can_manage = request.user.has_perm("assessment.manage_call", call)
    no_chair = []
    if table is not None and (can_manage or can_chair):
        in_assessment = [row.bid for row in table.all_rows if row.bid.status == BidStatus.IN_ASSESSMENT]
        # The viewer's own conflicts, already read for the table, are not read again.
        no_chair = selectors.bids_no_chair_can_decide(call, in_assessment, known={request.user.pk: table.excluded})
    return render(request, "assessment/ranking.html", {
        "call": call, "ranking": table, "criteria": criteria, "can_chair": can_chair, "can_manage": can_manage,
        "no_chair": no_chair,
        "decided": decided,
        "decided_pots": visibility.decided_ranking_for(request.user, call) if decided else [],
        "crumbs": _call_crumbs(call),
    })


@require_GET
def ranking_csv(request, slug: str):
    call = _viewable_call(request, slug)
    export = visibility.ranking_export(request.user, call, _criteria(call))
    response = HttpResponse(csv_text(export.header, export.rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ranking-{call.slug}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


def _panel_bid(request, slug: str, pk: int):
    """A bid on the call for the panel's pages: 404 for anyone conflicted on it."""
    call = _viewable_call(request, slug)
    bid = _bid_of_call(call, pk)
    if bid.pk in selectors.excluded_bid_ids(request.user, call, [bid]):
        raise Http404("You are conflicted on this bid")
    return call, bid


@require_GET
def bid_scores(request, slug: str, pk: int):
    call, bid = _panel_bid(request, slug, pk)
    criteria = _criteria(call)
    row = visibility.ranking_for(request.user, call, criteria).by_bid[bid.pk]
    sheets = visibility.panel_sheets(request.user, bid)
    results = {c.criterion.id: c for c in row.result.criteria} if row.result else {}
    moderations = selectors.moderations_of(bid)
    open_call = call.status == CallStatus.ASSESSMENT and bid.status == BidStatus.IN_ASSESSMENT
    table = [
        {"criterion": c, "result": results.get(c.pk), "moderation": moderations.get(c.pk),
         "scores": [(s.assignment, s.scores.get(c.pk), s.visible) for s in sheets]}
        for c in criteria
    ]
    return render(request, "assessment/bid_scores.html", {
        "call": call, "bid": bid, "row": row, "sheets": sheets, "table": table,
        "exclusions": selectors.panel_exclusions(call, bid),
        "decision": visibility.decision_view(request.user, row.decision, excluded=False),
        "can_chair": request.user.has_perm("assessment.chair_call", call) and open_call
        and not (row.decision and row.decision.released_at) and bid.pk in selectors.bids_chaired_by(request.user, call, [bid]),
        "can_manage": request.user.has_perm("assessment.manage_call", call) and open_call and row.decision is None,
        "crumbs": _call_crumbs(call, ("Ranking", reverse("assessment:ranking", args=[call.slug]))),
    })


def _chair_bid(request, slug: str, pk: int):
    call = _call_or_404(slug)
    require(request.user.has_perm("assessment.chair_call", call))
    bid = _bid_of_call(call, pk)
    # A deputy chair chairs only the bids every chair is conflicted on; a conflicted chair is
    # shown why they are excluded.
    require(bid.pk in selectors.bids_chaired_by(request.user, call, [bid])
            or bid.pk in selectors.excluded_bid_ids(request.user, call, [bid]))
    return call, bid


@require_http_methods(["GET", "POST"])
def moderate(request, slug: str, pk: int, criterion_pk: int):
    call, bid = _chair_bid(request, slug, pk)
    criterion = next((c for c in _criteria(call) if c.pk == criterion_pk), None)
    if criterion is None:
        raise Http404("No such criterion")
    excluded = bid.pk in selectors.excluded_bid_ids(request.user, call, [bid])
    existing = selectors.moderations_of(bid).get(criterion.pk)
    form = forms.ModerationForm(request.POST if request.method == "POST" else None, criterion=criterion,
                                initial={"score": str(int(existing.score)) if existing else None,
                                         "rationale": existing.rationale if existing else ""})
    done = submit_form(request, form, lambda: services.moderation_record(
        actor=request.user, bid=bid, criterion=criterion, score=form.cleaned_data.get("score"),
        rationale=form.cleaned_data.get("rationale") or ""))
    if done:
        messages.success(request, f"The moderated score for {criterion.title} on {bid.reference} is recorded.")
        return redirect("assessment:bid_scores", slug=call.slug, pk=bid.pk)
    given = [] if excluded else [
        (s.assignment, s.scores.get(criterion.pk)) for s in visibility.panel_sheets(request.user, bid) if s.submitted
    ]
    return render(request, "assessment/moderate.html", {
        "call": call, "bid": bid, "criterion": criterion, "form": form, "given": given, "excluded": excluded,
        "existing": existing,
        "crumbs": _call_crumbs(call, ("Ranking", reverse("assessment:ranking", args=[call.slug]))),
    })


@require_http_methods(["GET", "POST"])
def decision(request, slug: str, pk: int):
    call, bid = _chair_bid(request, slug, pk)
    excluded_ids = selectors.excluded_bid_ids(request.user, call, [bid])
    excluded = bid.pk in excluded_ids
    row = None if excluded else visibility.ranking_for(request.user, call).by_bid[bid.pk]
    # A conflicted chair is shown why they are excluded, and nothing of the decision.
    existing = None if excluded else selectors.decision_of(bid)
    initial = {}
    if existing:
        initial = {"outcome": existing.outcome, "amount_approved": existing.amount_approved,
                   "conditions": "\n".join(existing.conditions), "public_reason": existing.public_reason,
                   "internal_rationale": existing.internal_rationale,
                   "departure_rationale": existing.departure_rationale}
    form = forms.DecisionForm(request.POST if request.method == "POST" else None, initial=initial,
                              requested=row.total_requested if row else None)
    done = submit_form(request, form, lambda: services.decision_record(actor=request.user, bid=bid, **form.service_fields()))
    if done:
        messages.success(request, f"The panel's decision on {bid.reference} is recorded: {done.get_outcome_display().lower()}.")
        return redirect(reverse("assessment:ranking", args=[call.slug]) + f"#bid-{bid.pk}")
    return render(request, "assessment/decision.html", {
        "call": call, "bid": bid, "row": row, "form": form, "existing": existing,
        "excluded": excluded, "exclusions": selectors.panel_exclusions(call, bid),
        "crumbs": _call_crumbs(call, ("Ranking", reverse("assessment:ranking", args=[call.slug]))),
    })


@require_http_methods(["GET", "POST"])
def release(request, slug: str):
    call = _call_or_404(slug)
    require(request.user.has_perm("assessment.manage_call", call))
    if (reauth := reauthentication_redirect(request)) is not None:
        return reauth
    errors: list[str] = []
    if request.method == "POST":
        try:
            released = services.decisions_release(actor=request.user, call=call)
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(request, f"{len(released)} decision{'s' if len(released) != 1 else ''} released. "
                                      "The applicants have been told and can read their feedback.")
            return redirect("assessment:call", slug=call.slug)
    bids = list(bids_for_call(call).filter(status__in=(BidStatus.SUBMITTED, BidStatus.IN_ASSESSMENT)))
    decisions = {d.bid_id: d for d in selectors.decisions_of_call(call)}
    return render(request, "assessment/release.html", {
        "call": call, "rows": [(bid, decisions.get(bid.pk)) for bid in bids], "errors": errors,
        "has_errors": bool(errors), "missing": [bid for bid in bids if bid.pk not in decisions],
        "crumbs": _call_crumbs(call),
    }, status=400 if errors else 200)


# The conflicts register and feedback ---------------------------------------------------------------------


@require_GET
def conflicts(request, slug: str):
    fund = fund_by_slug(slug)
    if fund is None:
        raise Http404("No such fund")
    require(request.user.has_perm("assessment.view_conflicts", fund))
    return render(request, "assessment/conflicts.html", {
        "fund": fund, "declarations": list(selectors.conflicts_register(fund)),
        "members": selectors.panel_affiliations(fund),
        "crumbs": [("Funds", reverse("governance:funds")), (fund.name, fund.get_absolute_url())],
    })


@require_GET
def feedback(request, pk: int):
    # Feedback is the applicant's (and, to check it, the fund's managers' and auditors'); anyone
    # else who may read the bid, like its assessors, gets no feedback page.
    bid = bid_visible_to(request.user, pk)
    if bid is None or not request.user.has_perm("assessment.view_feedback", bid):
        raise Http404("No such bid")
    released = visibility.released_decision(request.user, bid)
    if released is None:
        raise Http404("No feedback yet")
    call = call_by_slug(bid.call.slug)
    return render(request, "assessment/feedback.html", {
        "bid": bid, "call": call, "decision": visibility.public_decision_view(released),
        "rows": selectors.bid_feedback(bid, released),
        "moderated": visibility.feedback_moderated_criteria(bid, released),
        "now": timezone.now(),
        "crumbs": [("Home", reverse("dashboard")), ("Bids", reverse("applications:bids")), (bid.reference, bid.get_absolute_url())],
    })


# Clarification questions ------------------------------------------------------------------------------


def _bid_to_question(request, pk: int):
    """A bid the person reads on the panel (assessor with no conflict, or its chair), else 404."""
    bid = bid_visible_to(request.user, pk)
    if bid is None or not request.user.has_perm("assessment.ask_clarification", bid):
        raise Http404("No such bid")
    return bid


@require_http_methods(["GET", "POST"])
def clarification_ask(request, pk: int):
    bid = _bid_to_question(request, pk)
    form = forms.ClarificationAskForm(request.POST if request.method == "POST" else None)
    if submit_form(request, form, lambda: services.clarification_ask(
            actor=request.user, bid=bid, question=form.cleaned_data.get("question") or "",
            reply_by=form.cleaned_data.get("reply_by"))):
        messages.success(request, f"Your question has been sent to {bid.lead_organisation.name}. Scores on {bid.reference} wait for the reply.")
        own = selectors.live_assignments_of(bid).filter(assessor=request.user).first()
        return redirect("assessment:sheet", pk=own.pk) if own else redirect(bid)
    return render(request, "assessment/clarification_ask.html", {
        "bid": bid, "call": bid.call, "form": form,
        "clarifications": visibility.clarifications_visible_to(request.user, bid), "today": timezone.localdate(),
        "crumbs": [("Home", reverse("dashboard")), _home()],
    }, status=400 if form.errors else 200)


@uploads.limit_upload_size(uploads.BID_ATTACHMENT)
@require_http_methods(["GET", "POST"])
def clarification_reply(request, pk: int):
    clarification = visibility.clarification_visible_to(request.user, pk)
    if clarification is None:
        raise Http404("No such question")
    require(request.user.has_perm("assessment.reply_clarification", clarification))
    bid = clarification.bid
    form = forms.ClarificationReplyForm(request.POST if request.method == "POST" else None,
                                        request.FILES if request.method == "POST" else None)
    if uploads.too_large_fields(request):
        form.is_valid()
        form.add_error("attachment", uploads.FILE_TOO_LARGE)
    elif submit_form(request, form, lambda: services.clarification_reply(
            actor=request.user, clarification=clarification, reply=form.cleaned_data.get("reply") or "",
            upload=form.cleaned_data.get("attachment"))):
        messages.success(request, "Your reply has been sent to the panel.")
        return redirect(bid)
    return render(request, "assessment/clarification_reply.html", {
        "bid": bid, "clarification": clarification, "form": form,
        "crumbs": [("Home", reverse("dashboard")), ("Bids", reverse("applications:bids")), (bid.reference, bid.get_absolute_url())],
    }, status=400 if form.errors else 200)


@require_GET
def clarification_file(request, pk: int):
    clarification = visibility.clarification_visible_to(request.user, pk)
    if clarification is None or not clarification.attachment:
        raise Http404("No such file")
    if reason := uploads.unavailable_message(clarification.attachment_scan_status):
        return render(request, "governance/file_unavailable.html", {
            "name": clarification.attachment_name, "reason": reason, "back": clarification.bid.get_absolute_url(),
            "status": clarification.get_attachment_scan_status_display(),
        }, status=409)
    file_type = uploads.by_content_type(clarification.attachment_type)
    return uploads.private_file_response(clarification.attachment, content_type=clarification.attachment_type,
                                         filename=uploads.safe_download_name(clarification.attachment_name, file_type))



# The assessor pool --------------------------------------------------------------------------------------


def _pool_network(request, pk: int):
    from governance.models import Organisation, OrganisationKind

    network = Organisation.objects.filter(pk=pk, kind=OrganisationKind.HEALTH_INNOVATION_NETWORK).first()
    if network is None:
        raise Http404("No such network")
    require(request.user.has_perm("assessment.manage_pool", network))
    return network


@require_GET
def pools(request):
    """The pools the person keeps: straight to it if there is one."""
    networks = list(selectors.pool_networks_managed_by(request.user))
    require(bool(networks) or request.user.is_superuser)
    if len(networks) == 1:
        return redirect("assessment:pool", pk=networks[0].pk)
    return render(request, "assessment/pools.html", {
        "networks": networks, "crumbs": [("Home", reverse("dashboard")), _home()]})


@require_http_methods(["GET", "POST"])
def pool(request, pk: int):
    network = _pool_network(request, pk)
    adding = request.method == "POST" and request.POST.get("action") != "share"
    sharing = request.method == "POST" and request.POST.get("action") == "share"
    form = forms.PoolAddForm(request.POST if adding else None)
    share_form = forms.PoolShareForm(request.POST if sharing else None, network=network)
    if adding:
        entry = submit_form(request, form, lambda: services.pool_member_add(
            actor=request.user, network=network, email=form.cleaned_data.get("email") or "",
            organisation=form.cleaned_data.get("organisation"), expertise=form.cleaned_data.get("expertise") or []))
        if entry:
            messages.success(request, f"{entry.profile.user.full_name} is in the pool. They have been asked to make "
                                      "their yearly declaration.")
            return redirect("assessment:pool", pk=network.pk)
    if sharing and submit_form(request, share_form, lambda: services.pool_share(
            actor=request.user, network=network, shared_with=share_form.cleaned_data.get("shared_with"))):
        messages.success(request, f"{share_form.cleaned_data['shared_with'].name} can now invite people from your pool.")
        return redirect("assessment:pool", pk=network.pk)
    from .models import PoolEntry, PoolShare

    entries = list(PoolEntry.objects.filter(network=network).select_related("profile__user", "profile__organisation")
                   .prefetch_related("profile__expertise").order_by("profile__user__full_name"))
    return render(request, "assessment/pool.html", {
        "network": network, "entries": entries, "form": form, "share_form": share_form,
        "today": timezone.localdate(),
        "shared_with": PoolShare.objects.filter(network=network).select_related("shared_with"),
        "shared_from": PoolShare.objects.filter(shared_with=network).select_related("network"),
        "has_errors": bool(share_form.errors),
        "crumbs": [("Home", reverse("dashboard")), _home()],
    }, status=400 if (form.errors or share_form.errors) else 200)


@require_http_methods(["GET", "POST"])
def pool_entry(request, pk: int, entry_pk: int):
    from .models import PoolEntry

    network = _pool_network(request, pk)
    entry = PoolEntry.objects.filter(network=network, pk=entry_pk).select_related("profile__user").first()
    if entry is None:
        raise Http404("No such person in the pool")
    if request.method == "POST" and request.POST.get("action") == "remove":
        services.pool_member_remove(actor=request.user, entry=entry)
        messages.success(request, f"{entry.profile.user.full_name} is no longer in the pool.")
        return redirect("assessment:pool", pk=network.pk)
    profile = entry.profile
    form = forms.PoolEntryForm(request.POST if request.method == "POST" else None, initial={
        "organisation": profile.organisation_id, "expertise": list(profile.expertise.values_list("pk", flat=True))})
    if submit_form(request, form, lambda: services.pool_member_update(
            actor=request.user, entry=entry, organisation=form.cleaned_data.get("organisation"),
            expertise=form.cleaned_data.get("expertise") or [])):
        messages.success(request, f"{profile.user.full_name}'s details are saved.")
        return redirect("assessment:pool", pk=network.pk)
    return render(request, "assessment/pool_entry.html", {
        "network": network, "entry": entry, "profile": profile, "form": form,
        "crumbs": [("Home", reverse("dashboard")), _home(), (f"{network.name}'s pool", reverse("assessment:pool", args=[network.pk]))],
    })


@require_http_methods(["GET", "POST"])
def declaration(request):
    require(request.user.has_perm("assessment.declare_interests"))
    from .models import CONFIDENTIALITY_TERMS, AssessorProfile

    profile = AssessorProfile.objects.filter(user=request.user).first()
    if profile is None:  # a site admin who is in no pool
        raise Http404("You are in no assessor pool")
    form = forms.AssessorDeclarationForm(request.POST if request.method == "POST" else None, initial={
        "interests": profile.interests,
        "interest_organisations": list(profile.interest_organisations.values_list("pk", flat=True)),
        "expertise": list(profile.expertise.values_list("pk", flat=True)),
    })
    if submit_form(request, form, lambda: services.assessor_declaration_make(
            actor=request.user, interests=form.cleaned_data.get("interests") or "",
            interest_organisations=form.cleaned_data.get("interest_organisations") or [],
            expertise=form.cleaned_data.get("expertise"), accept_terms=bool(form.cleaned_data.get("accept_terms")))):
        profile.refresh_from_db()
        messages.success(request, f"Your declaration is made. It lapses on {profile.declaration_lapses_on:%-d %B %Y}.")
        return redirect("assessment:hub")
    return render(request, "assessment/declaration.html", {
        "profile": profile, "form": form, "terms": CONFIDENTIALITY_TERMS, "today": timezone.localdate(),
        "crumbs": [("Home", reverse("dashboard")), _home()],
    }, status=400 if form.errors else 200)


# Invitations to assess -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invitations(request, slug: str):
    call = _call_or_404(slug)
    require(request.user.has_perm("assessment.manage_call", call))
    invited = list(selectors.invitations_of_call(call))
    invited_ids = {i.invitee_id for i in invited}
    people = [p for p in selectors.pool_profiles_of(call.host_network) if p.user_id not in invited_ids]
    action = request.POST.get("action") if request.method == "POST" else None
    form = forms.InviteForm(request.POST if action == "invite" else None, people=people)
    themes_form = forms.ThemesForm(request.POST if action == "themes" else None,
                                   initial={"themes": list(call.themes.values_list("pk", flat=True))})
    if action == "invite":
        made = submit_form(request, form, lambda: services.assessors_invite(
            actor=request.user, call=call, invitees=form.chosen(), days=form.cleaned_data.get("days") or 7))
        if made:
            messages.success(request, f"{len(made)} {'person' if len(made) == 1 else 'people'} invited.")
            return redirect("assessment:invitations", slug=call.slug)
    if action == "themes" and themes_form.is_valid():
        from governance.audit import audit_record

        call.themes.set(themes_form.cleaned_data["themes"])
        audit_record(actor=request.user, action="call.themes_changed", target=call,
                     after={"themes": sorted(t.name for t in themes_form.cleaned_data["themes"])},
                     message="The call's themes changed")
        messages.success(request, "The call's themes are saved.")
        return redirect("assessment:invitations", slug=call.slug)
    return render(request, "assessment/invitations.html", {
        "call": call, "invited": invited, "form": form, "themes_form": themes_form, "people": people,
        "today": timezone.localdate(), "crumbs": _call_crumbs(call),
    }, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def invitation(request, token):
    from .models import AssessorInvitation

    found = AssessorInvitation.objects.select_related("call", "call__fund", "invitee").filter(token=token).first()
    if found is None:
        raise Http404("No such invitation")
    form = forms.InvitationResponseForm(request.POST if request.method == "POST" else None)
    refused = ""
    if found.invitee_id != request.user.pk:
        refused = services.INVITATION_OTHER_ACCOUNT.format(email=request.user.email)
    elif found.is_expired():
        refused = services.INVITATION_EXPIRED.format(when=services._uk(found.expires_at))
    elif request.method == "POST":
        done = submit_form(request, form, lambda: services.invitation_respond(
            actor=request.user, token=found.token, **form.service_fields()))
        if done:
            if done.status == "accepted":
                messages.success(request, f"Thank you: you will assess bids on {found.call.title}. "
                                          "You will be told when bids are assigned to you.")
            else:
                messages.success(request, "Thank you: your answer is recorded.")
            return redirect("assessment:hub")
    status = 403 if refused else (400 if form.errors else 200)
    profile = getattr(request.user, "assessor_profile", None)
    return render(request, "assessment/invitation.html", {
        "invitation": found if not refused or found.invitee_id == request.user.pk else None,
        "call": found.call, "form": form, "refused": refused, "has_errors": bool(refused),
        "profile": profile, "declaration_current": bool(profile and profile.ready()),
        "crumbs": [("Home", reverse("dashboard")), _home()],
    }, status=status)


# Panel packs ---------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def packs(request, slug: str):
    call = _call_or_404(slug)
    require(request.user.has_perm("assessment.request_pack", call))
    bids = selectors.pack_bids_for(request.user, call) if call.status == CallStatus.ASSESSMENT else []
    if request.method == "POST":
        one = None
        if request.POST.get("bid"):
            one = next((b for b in bids if str(b.pk) == request.POST["bid"]), None)
            if one is None:
                raise Http404("No such bid in your pack")
        try:
            pack = services.panel_pack_request(actor=request.user, call=call, bid=one)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("assessment:packs", slug=call.slug)
        return redirect("assessment:pack", pk=pack.pk)
    return render(request, "assessment/packs.html", {
        "call": call, "bids": bids, "packs": list(selectors.packs_of(request.user, call)[:10]),
        "crumbs": _call_crumbs(call),
    })


@require_GET
def pack(request, pk: int):
    found = selectors.pack_of(request.user, pk)
    if found is None:
        raise Http404("No such pack")
    return render(request, "assessment/pack.html", {
        "pack": found, "call": found.call, "crumbs": _call_crumbs(found.call, ("Panel packs", reverse("assessment:packs", args=[found.call.slug]))),
    })


@require_GET
def pack_download(request, pk: int):
    from governance.uploads import private_file_response

    from .models import PackStatus

    found = selectors.pack_of(request.user, pk)
    if found is None or found.status != PackStatus.READY:
        raise Http404("No such pack")
    # The person must still be able to ask for packs on the call (a chair taken off the panel cannot).
    require(request.user.has_perm("assessment.request_pack", found.call))
    return private_file_response(found.file, content_type="application/zip", filename=found.download_name)
