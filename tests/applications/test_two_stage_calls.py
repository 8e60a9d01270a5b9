"""Two-stage calls: expressions of interest, shortlisting, the invited full bid, and who may
see and do what (services with allowed and denied actors, bad input, the clock; and the pages)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from applications import services
from applications.models import BidSection, BidSectionState, EoiStatus, SectionStatus
from governance import services as governance_services
from governance.forms import CallForm
from governance.models import AuditEvent, CallStatus, Notification
from tests.conftest import SignedInClient as Client

pytestmark = pytest.mark.django_db


def _two_stage(call, *, eoi_open=True):
    """EOIs open now (or closed a day ago, with full bids open), full bids after them."""
    now = timezone.now()
    if eoi_open:
        call.eoi_opens_at, call.eoi_closes_at = now - dt.timedelta(days=2), now + dt.timedelta(days=3)
        call.opens_at, call.closes_at, call.status = now + dt.timedelta(days=5), now + dt.timedelta(days=40), CallStatus.SCHEDULED
    else:
        call.eoi_opens_at, call.eoi_closes_at = now - dt.timedelta(days=10), now - dt.timedelta(days=1)
        call.opens_at, call.closes_at, call.status = now - dt.timedelta(days=1), now + dt.timedelta(days=30), CallStatus.OPEN
    call.eoi_stage = True
    call.eoi_criteria = "We shortlist ideas with a clear problem and a commissioner on board."
    call.save()
    return call


def send(world, organisation=None, actor=None, **overrides):
    fields = {"title": "Virtual ward for frailty", "summary": "A virtual ward run with the ICB.",
              "problem": "Too many avoidable admissions.", "estimated_cost": "150000", "partners": "NHS Example ICB"}
    fields.update(overrides)
    return services.eoi_submit(actor=actor or world.applicant, call=world.call,
                               organisation=organisation or world.lead, **fields)


def close_eois(call):
    _two_stage(call, eoi_open=False)


@pytest.fixture
def two_stage(world):
    return _two_stage(world.call)


@pytest.fixture
def eoi(world, two_stage):
    return send(world)


# Sending -----------------------------------------------------------------------------------------


def test_an_applicant_sends_an_expression_of_interest_which_is_audited(world, eoi):
    assert (eoi.status, eoi.estimated_cost, eoi.lead_organisation) == (EoiStatus.SUBMITTED, Decimal("150000.00"), world.lead)
    assert AuditEvent.objects.filter(action="eoi.submitted", actor=world.applicant).count() == 1


def test_a_late_expression_of_interest_is_refused(world, two_stage):
    late = two_stage.eoi_closes_at + dt.timedelta(seconds=1)
    with pytest.raises(ValidationError) as error:
        services.eoi_submit(actor=world.applicant, call=world.call, organisation=world.lead, title="Late",
                            summary="S", problem="P", estimated_cost="1000", now=late)
    assert "late ones cannot be accepted" in error.value.messages[0]


def test_an_expression_of_interest_before_the_stage_opens_or_on_a_one_stage_call_is_refused(world, two_stage):
    with pytest.raises(ValidationError, match="open on"):
        services.eoi_submit(actor=world.applicant, call=world.call, organisation=world.lead, title="Early", summary="S",
                            problem="P", estimated_cost="1000", now=two_stage.eoi_opens_at - dt.timedelta(minutes=1))
    world.call.eoi_stage = False
    with pytest.raises(ValidationError, match=services.EOI_NO_STAGE):
        send(world)


def test_bad_answers_are_refused_field_by_field(world, two_stage):
    with pytest.raises(ValidationError) as error:
        send(world, title=" ", summary="", problem="", estimated_cost="")
    assert error.value.message_dict == {
        "title": [services.EOI_TITLE_NEEDED], "summary": [services.EOI_SUMMARY_NEEDED],
        "problem": [services.EOI_PROBLEM_NEEDED], "estimated_cost": [services.EOI_COST_NEEDED]}
    with pytest.raises(ValidationError) as error:
        send(world, estimated_cost="900000")
    assert "more than the £500,000" in error.value.message_dict["estimated_cost"][0]
    with pytest.raises(ValidationError) as error:
        send(world, estimated_cost="lots")
    assert "estimated_cost" in error.value.message_dict
    assert not world.call.eois.exists()


def test_only_members_of_an_eligible_organisation_send_one_each(world, two_stage):
    with pytest.raises(ValidationError, match=services.NOT_YOUR_ORGANISATION):
        send(world, actor=world.other_applicant)
    with pytest.raises(ValidationError, match=services.NO_ORGANISATION):
        send(world, actor=world.nobody)
    with pytest.raises(ValidationError) as error:
        send(world, organisation=world.gp, actor=world.gp_member)
    assert "organisation" in error.value.message_dict
    send(world)
    with pytest.raises(ValidationError, match="already sent"):
        send(world, actor=world.colleague)


# Shortlisting ------------------------------------------------------------------------------------


def test_shortlisting_waits_for_the_stage_to_close(world, eoi):
    with pytest.raises(ValidationError, match="once they close"):
        services.eoi_invite(actor=world.manager, eoi=eoi)


@pytest.mark.parametrize("who", ["applicant", "other_manager", "auditor", "assessor", "chair", "commissioner"])
def test_only_the_calls_fund_managers_shortlist(world, eoi, who):
    close_eois(world.call)
    with pytest.raises(PermissionDenied):
        services.eoi_invite(actor=getattr(world, who), eoi=eoi)
    with pytest.raises(PermissionDenied):
        services.eoi_decline(actor=getattr(world, who), eoi=eoi, reason="No")
    eoi.refresh_from_db()
    assert eoi.status == EoiStatus.SUBMITTED


def test_inviting_is_audited_and_the_organisation_is_told(world, eoi):
    close_eois(world.call)
    services.eoi_invite(actor=world.manager, eoi=eoi, reason="A strong fit with the priorities.")
    eoi.refresh_from_db()
    assert (eoi.status, eoi.decided_by) == (EoiStatus.INVITED, world.manager)
    event = AuditEvent.objects.get(action="eoi.invited")
    assert (event.actor, event.before["status"], event.after["status"]) == (world.manager, "submitted", "invited")
    told = set(Notification.objects.filter(subject__startswith="You are invited to bid").values_list("user", flat=True))
    assert told == {world.applicant.pk, world.colleague.pk}
    with pytest.raises(ValidationError, match="already been decided"):
        services.eoi_decline(actor=world.manager, eoi=eoi, reason="Changed my mind")


def test_an_unsuccessful_expression_of_interest_gets_its_reason_as_feedback(world, eoi):
    close_eois(world.call)
    with pytest.raises(ValidationError) as error:
        services.eoi_decline(actor=world.manager, eoi=eoi, reason="  ")
    assert error.value.message_dict == {"reason": [services.EOI_REASON_NEEDED]}
    services.eoi_decline(actor=world.manager, eoi=eoi, reason="No commissioner support yet.")
    eoi.refresh_from_db()
    assert (eoi.status, eoi.reason) == (EoiStatus.NOT_INVITED, "No commissioner support yet.")
    note = Notification.objects.filter(user=world.applicant).get()
    assert "Feedback: No commissioner support yet." in note.body
    with pytest.raises(ValidationError) as error:
        services.bid_start(actor=world.applicant, call=world.call, organisation=world.lead, title="Anyway")
    assert error.value.message_dict["organisation"] == [services.NOT_INVITED_TO_BID]


# The full bid ------------------------------------------------------------------------------------


def test_only_an_invited_organisation_starts_the_full_bid_with_its_answers_carried_forward(world, eoi):
    other = send(world, organisation=world.other_org, actor=world.other_applicant)
    close_eois(world.call)
    with pytest.raises(ValidationError):
        services.bid_start(actor=world.applicant, call=world.call, organisation=world.lead, title="Too soon")
    services.eoi_invite(actor=world.manager, eoi=eoi)
    bid = services.bid_start(actor=world.applicant, call=world.call, organisation=world.lead, title="Virtual ward")
    assert (bid.summary, bid.problem) == ("A virtual ward run with the ICB.", "Too many avoidable admissions.")
    eoi.refresh_from_db()
    assert eoi.bid == bid
    state = BidSectionState.objects.get(bid=bid, section=BidSection.SUMMARY)
    assert (state.status, state.version) == (SectionStatus.IN_PROGRESS, 1)
    assert AuditEvent.objects.filter(action="eoi.carried_forward").exists()
    # One full bid per invitation; the organisation that was not invited cannot start one.
    with pytest.raises(ValidationError, match="two-stage call"):
        services.bid_start(actor=world.colleague, call=world.call, organisation=world.lead, title="Second")
    with pytest.raises(ValidationError, match="two-stage call"):
        services.bid_start(actor=world.other_applicant, call=world.call, organisation=world.other_org, title="Not invited")
    assert other.status == EoiStatus.SUBMITTED


# The call's timetable --------------------------------------------------------------------------------


def test_the_eoi_timetable_is_checked_next_to_its_fields(world):
    from tests.factories.governance import DraftCallFactory

    call = DraftCallFactory(fund=world.call.fund)
    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        governance_services.call_update(actor=world.manager, call=call, eoi_stage=True)
    assert error.value.message_dict["eoi_opens_at"] == [governance_services.EOI_OPENS_NEEDED]
    assert error.value.message_dict["eoi_closes_at"] == [governance_services.EOI_CLOSES_NEEDED]
    with pytest.raises(ValidationError) as error:
        governance_services.call_update(actor=world.manager, call=call, eoi_stage=True, eoi_opens_at=now + dt.timedelta(days=3),
                                        eoi_closes_at=now + dt.timedelta(days=2))
    assert error.value.message_dict["eoi_closes_at"] == [governance_services.EOI_CLOSES_BEFORE_OPENS]
    with pytest.raises(ValidationError) as error:
        governance_services.call_update(actor=world.manager, call=call, eoi_stage=True, eoi_opens_at=now,
                                        eoi_closes_at=call.opens_at + dt.timedelta(days=1))
    assert error.value.message_dict["eoi_closes_at"] == [governance_services.EOI_CLOSES_AFTER_BIDS_OPEN]
    governance_services.call_update(actor=world.manager, call=call, eoi_stage=True, eoi_opens_at=call.opens_at - dt.timedelta(days=20),
                                    eoi_closes_at=call.opens_at - dt.timedelta(days=5))
    call.refresh_from_db()
    assert call.eoi_stage


def test_the_call_form_shows_dates_out_of_order_next_to_the_field(client, world):
    from tests.factories.governance import DraftCallFactory

    call = DraftCallFactory(fund=world.call.fund)
    client.force_login(world.manager)
    data = {}
    for name, value in CallForm.initial_from(call).items():
        if name in ("opens_at", "closes_at", "eoi_opens_at", "eoi_closes_at", "assessment_due_date",
                    "panel_meeting_date", "decisions_expected_date"):
            continue
        if isinstance(value, list):
            data[name] = [getattr(v, "pk", v) for v in value]
        elif value is not None:
            data[name] = getattr(value, "pk", value)
    opens = timezone.localtime(call.opens_at)
    for prefix, moment in (("opens_at", opens), ("closes_at", timezone.localtime(call.closes_at)),
                           ("eoi_opens_at", opens - dt.timedelta(days=10)), ("eoi_closes_at", opens + dt.timedelta(days=2))):
        data.update({f"{prefix}_day": moment.day, f"{prefix}_month": moment.month, f"{prefix}_year": moment.year,
                     f"{prefix}_time": moment.strftime("%H:%M")})
    data["eoi_stage"] = "on"
    response = client.post(reverse("governance:call_edit", args=[call.slug]), data)
    assert response.status_code in (200, 400)
    assert governance_services.EOI_CLOSES_AFTER_BIDS_OPEN in response.content.decode()
    call.refresh_from_db()
    assert not call.eoi_stage


def test_the_public_call_page_shows_both_stages_and_the_counts(client, world, eoi):
    page = client.get(world.call.get_absolute_url()).content.decode()
    assert "Stage 1: expressions of interest open" in page
    assert "Stage 2: full bids open" in page
    assert "Send an expression of interest" in page
    close_eois(world.call)
    services.eoi_invite(actor=world.manager, eoi=eoi)
    page = client.get(world.call.get_absolute_url()).content.decode()
    assert "1 expression of interest received." in page
    assert "1 organisation invited to write a full bid." in page


# Pages: who gets in -----------------------------------------------------------------------------------

ROLES = ["anonymous", "applicant", "colleague", "other_applicant", "assessor", "manager", "other_manager", "auditor"]


def _statuses(world, method, path, data=None):
    got = {}
    for role in ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(getattr(world, role))
        got[role] = getattr(client, method)(path, data or {}).status_code
    return got


PAGES = [
    ("eoi_start", "get", "/bids/interest/{call}/", dict.fromkeys(ROLES[1:], 200)),
    ("eoi_detail", "get", "/bids/expressions-of-interest/{eoi}/",
     {"applicant": 200, "colleague": 200, "other_applicant": 404, "assessor": 404, "manager": 200,
      "other_manager": 404, "auditor": 200}),
    ("call_eois", "get", "/bids/calls/{call}/expressions-of-interest/",
     {"applicant": 403, "colleague": 403, "other_applicant": 403, "assessor": 403, "manager": 200,
      "other_manager": 403, "auditor": 200}),
    ("eoi_decide", "get", "/bids/calls/{call}/expressions-of-interest/{eoi}/",
     {"applicant": 403, "colleague": 403, "other_applicant": 403, "assessor": 403, "manager": 200,
      "other_manager": 403, "auditor": 403}),
    ("eoi_decide_post", "post", "/bids/calls/{call}/expressions-of-interest/{eoi}/",
     {"applicant": 403, "colleague": 403, "other_applicant": 403, "assessor": 403, "manager": 400,
      "other_manager": 403, "auditor": 403}),
]


@pytest.mark.parametrize(("name", "method", "template", "expected"), PAGES, ids=[p[0] for p in PAGES])
def test_who_may_open_the_expression_of_interest_pages(world, eoi, name, method, template, expected):
    close_eois(world.call)
    got = _statuses(world, method, template.format(call=world.call.slug, eoi=eoi.pk))
    assert got == {"anonymous": 302, **expected}
    eoi.refresh_from_db()
    assert eoi.status == EoiStatus.SUBMITTED  # an empty decision changes nothing, for anyone


def test_the_fund_manager_shortlists_through_the_page(client, world, eoi):
    close_eois(world.call)
    client.force_login(world.manager)
    path = f"/bids/calls/{world.call.slug}/expressions-of-interest/{eoi.pk}/"
    response = client.post(path, {"decision": "decline", "reason": ""})
    assert response.status_code == 400
    assert services.EOI_REASON_NEEDED in response.content.decode()
    response = client.post(path, {"decision": "invite", "reason": ""})
    assert response.status_code == 302
    eoi.refresh_from_db()
    assert eoi.status == EoiStatus.INVITED


def test_cached_public_pages_are_read_afresh_when_expressions_of_interest_close(world, two_stage):
    from reporting.register.public_version import public_version

    assert public_version().next_change == two_stage.eoi_closes_at


def test_the_calls_management_page_counts_the_expressions_of_interest(client, world, eoi):
    client.force_login(world.manager)
    page = client.get(reverse("governance:call_manage", args=[world.call.slug])).content.decode()
    assert "1 expression of interest received; 0 invited to bid, 0 not invited, 1 waiting for a decision." in page
    client.force_login(world.applicant)
    page = client.get("/bids/").content.decode()
    assert "Virtual ward for frailty" in page
    assert "waiting for shortlisting" in page


def test_a_copied_call_keeps_its_expression_of_interest_stage_before_the_new_opening(world, two_stage):
    shift = dt.timedelta(days=365)
    copy = governance_services.call_copy(actor=world.manager, source=two_stage, title="Next year", slug="next-year",
                                         opens_at=two_stage.opens_at + shift, closes_at=two_stage.closes_at + shift)
    assert copy.eoi_stage
    assert (copy.eoi_opens_at, copy.eoi_closes_at) == (two_stage.eoi_opens_at + shift, two_stage.eoi_closes_at + shift)
