"""Calls, criteria and the call lifecycle: every rule and every transition, allowed and refused."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from governance import services
from governance.models import (
    AuditEvent,
    Call,
    CallStatus,
    Criterion,
    CriterionKind,
    RubricDescriptor,
)
from tests.factories.governance import (
    CallFactory,
    DraftCallFactory,
    PanelFactory,
    PotFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _call_fields(**overrides):
    fields = {
        "title": "Remote monitoring", "summary": "Spread remote monitoring.", "purpose": "diffusion",
        "innovation_types": ["digital"], "opens_at": NOW + dt.timedelta(days=2), "closes_at": NOW + dt.timedelta(days=40),
        "eligible_org_kinds": ["nhs_trust"], "min_amount": Decimal("0"), "max_amount": Decimal("250000"),
        "max_duration_years": 2,
    }
    return {**fields, **overrides}


def _events(call, action):
    return AuditEvent.objects.filter(target_type="governance.call", target_id=str(call.pk), action=action)


# Creating and changing a call -------------------------------------------------------------------


def test_a_call_is_created_as_a_draft_with_a_slug_from_its_title(world):
    call = services.call_create(actor=world.people.manager, fund=world.fund, pots=[world.host_pot], **_call_fields())
    assert call.status == CallStatus.DRAFT
    assert call.slug == "remote-monitoring"
    assert call.host_network == world.host
    assert list(call.pots.all()) == [world.host_pot]
    assert _events(call, "call.created").get().after["pots"] == [world.host_pot.pk]


def test_a_duplicate_call_slug_is_refused_on_the_slug(world):
    with pytest.raises(ValidationError) as caught:
        services.call_create(actor=world.people.manager, fund=world.fund, **_call_fields(slug="draft-call"))
    assert caught.value.message_dict["slug"] == [services.CALL_SLUG_TAKEN]
    assert Call.objects.filter(slug="draft-call").count() == 1


def test_a_call_names_the_innovations_and_organisations_it_accepts(world):
    with pytest.raises(ValidationError) as caught:
        services.call_create(actor=world.people.manager, fund=world.fund, **_call_fields(innovation_types=[], eligible_org_kinds=[]))
    assert caught.value.message_dict["innovation_types"] == [services.NO_INNOVATION_TYPES]
    assert caught.value.message_dict["eligible_org_kinds"] == [services.NO_ELIGIBLE_KINDS]


def test_a_closing_time_before_the_opening_time_is_refused(world):
    with pytest.raises(ValidationError) as caught:
        services.call_create(actor=world.people.manager, fund=world.fund, **_call_fields(closes_at=NOW + dt.timedelta(days=1)))
    assert caught.value.message_dict["closes_at"] == [services.CLOSES_BEFORE_OPENS]
    assert not Call.objects.filter(title="Remote monitoring").exists()


def test_the_maximum_amount_is_at_least_the_minimum(world):
    with pytest.raises(ValidationError) as caught:
        services.call_create(actor=world.people.manager, fund=world.fund, **_call_fields(min_amount=Decimal("10"), max_amount=Decimal("5")))
    assert caught.value.message_dict["max_amount"] == [services.AMOUNTS_OUT_OF_ORDER]


def test_a_call_uses_only_its_own_funds_pots_and_panels(world):
    stranger_pot = PotFactory()
    stranger_panel = PanelFactory()
    with pytest.raises(ValidationError) as caught:
        services.call_create(actor=world.people.manager, fund=world.fund, pots=[stranger_pot], panel=stranger_panel, **_call_fields())
    assert caught.value.message_dict["pots"] == [services.POT_NOT_IN_FUND]
    assert caught.value.message_dict["panel"] == [services.PANEL_NOT_IN_FUND]


def test_a_partner_network_may_host_a_call_on_its_own_pot_only(world):
    call = services.call_create(actor=world.people.manager, fund=world.fund, host_network=world.partner, pots=[world.partner_pot],
                                **_call_fields())
    assert call.host_network == world.partner
    with pytest.raises(ValidationError) as caught:
        services.call_create(actor=world.people.manager, fund=world.fund, host_network=world.partner, pots=[world.host_pot],
                             **_call_fields(slug="other"))
    assert caught.value.message_dict["pots"] == [services.POT_OF_OTHER_NETWORK]
    with pytest.raises(ValidationError) as caught:
        services.call_create(actor=world.people.manager, fund=world.fund, host_network=world.other, **_call_fields(slug="third"))
    assert caught.value.message_dict["host_network"] == [services.HOST_NOT_IN_FUND]


def test_the_later_timetable_follows_the_closing_date(world):
    closes = NOW + dt.timedelta(days=40)
    with pytest.raises(ValidationError) as caught:
        services.call_create(actor=world.people.manager, fund=world.fund, **_call_fields(
            assessment_due_date=timezone.localdate(closes) - dt.timedelta(days=1),
            panel_meeting_date=timezone.localdate(closes) + dt.timedelta(days=10),
            decisions_expected_date=timezone.localdate(closes) + dt.timedelta(days=5),
        ))
    errors = caught.value.message_dict
    assert errors["assessment_due_date"] == [services.ASSESSMENT_DUE_TOO_EARLY]
    assert errors["decisions_expected_date"] == [services.DECISIONS_TOO_EARLY]


def test_changing_a_draft_call_is_audited_with_what_changed(world):
    services.call_update(actor=world.people.manager, call=world.call, title="Renamed call", moderation_threshold=Decimal("1.5"))
    event = _events(world.call, "call.changed").get()
    assert event.before == {"title": "Draft call", "moderation_threshold": "2.0"}
    assert event.after == {"title": "Renamed call", "moderation_threshold": "1.5"}
    world.call.refresh_from_db()
    assert world.call.title == "Renamed call"


def test_saving_a_call_unchanged_writes_nothing(world):
    services.call_update(actor=world.people.manager, call=world.call, moderation_threshold=Decimal("2"),
                         innovation_types=list(reversed(world.call.innovation_types)), pots=[world.host_pot])
    assert not _events(world.call, "call.changed").exists()


def test_a_published_call_refuses_changes_to_what_applicants_rely_on(world):
    services.call_publish(actor=world.people.manager, call=world.call)
    for field, value in [("max_amount", Decimal("1")), ("eligible_org_kinds", ["icb"]), ("closes_at", NOW + dt.timedelta(days=90)),
                         ("normalise_scores", True)]:
        with pytest.raises(ValidationError) as caught:
            services.call_update(actor=world.people.manager, call=world.call, **{field: value})
        assert caught.value.message_dict[field] == [services.CALL_FROZEN]
    with pytest.raises(ValidationError) as caught:
        services.call_update(actor=world.people.manager, call=world.call, pots=[world.host_pot, world.partner_pot])
    assert caught.value.message_dict["pots"] == [services.CALL_FROZEN]
    world.call.refresh_from_db()
    assert world.call.max_amount == Decimal("500000.00")
    assert world.call.pots.count() == 1


def test_a_published_call_may_move_its_later_timetable(world):
    services.call_publish(actor=world.people.manager, call=world.call)
    later = timezone.localdate(world.call.closes_at) + dt.timedelta(days=30)
    services.call_update(actor=world.people.manager, call=world.call, panel_meeting_date=later)
    world.call.refresh_from_db()
    assert world.call.panel_meeting_date == later


# Copying ----------------------------------------------------------------------------------


def test_a_call_is_copied_with_its_criteria_rubric_pots_and_panel(world):
    source = world.call
    source.panel_meeting_date = timezone.localdate(source.closes_at) + dt.timedelta(days=10)
    source.save()
    opens, closes = source.opens_at + dt.timedelta(days=365), source.closes_at + dt.timedelta(days=365)
    copy = services.call_copy(actor=world.people.manager, source=source, title="Next year's call", opens_at=opens,
                              closes_at=closes)
    assert copy.status == CallStatus.DRAFT
    assert copy.slug == "next-years-call"
    assert copy.copied_from == source
    assert copy.panel == source.panel
    assert list(copy.pots.all()) == list(source.pots.all())
    assert copy.panel_meeting_date == source.panel_meeting_date + dt.timedelta(days=365)
    assert [(c.kind, c.title, c.weight) for c in copy.criteria.all()] == [(c.kind, c.title, c.weight) for c in source.criteria.all()]
    assert RubricDescriptor.objects.filter(criterion__call=copy).count() == RubricDescriptor.objects.filter(criterion__call=source).count()
    assert _events(copy, "call.copied").exists()


def test_a_copy_needs_its_own_slug(world):
    with pytest.raises(ValidationError) as caught:
        services.call_copy(actor=world.people.manager, source=world.call, title="Copy", slug="draft-call", opens_at=world.call.opens_at,
                           closes_at=world.call.closes_at)
    assert caught.value.message_dict["slug"] == [services.CALL_SLUG_TAKEN]


# Criteria ---------------------------------------------------------------------------------


def test_a_criterion_is_added_with_its_rubric_and_audited(world):
    world.call.criteria.update(weight=40)
    criterion = services.criterion_add(
        actor=world.people.manager, call=world.call, kind=CriterionKind.DELIVERABILITY, title="Deliverability",
        guidance_for_applicants="Show the plan.", guidance_for_assessors="Score the plan.", weight=20,
        gateway_min_score=1, descriptors={0: "None", 1: "Weak", 2: "Fair", 3: "Good", 4: "Excellent"},
    )
    assert [d.descriptor for d in criterion.descriptors.all()] == ["None", "Weak", "Fair", "Good", "Excellent"]
    event = AuditEvent.objects.get(action="criterion.added")
    assert event.after["descriptors"]["4"] == "Excellent"
    assert event.fund == world.fund


def test_a_criterion_that_would_take_the_weights_over_100_is_refused(world):
    with pytest.raises(ValidationError) as caught:
        services.criterion_add(actor=world.people.manager, call=world.call, kind=CriterionKind.OTHER, title="Extra",
                               guidance_for_applicants="x", guidance_for_assessors="x", weight=5)
    assert caught.value.message_dict["weight"][0].startswith(services.WEIGHTS_OVER_100)
    assert world.call.criteria.count() == 2


def test_a_gateway_must_be_on_the_scale_and_the_scale_in_order(world):
    criterion = world.call.criteria.first()
    with pytest.raises(ValidationError) as caught:
        services.criterion_update(actor=world.people.manager, criterion=criterion, gateway_min_score=7)
    assert caught.value.message_dict["gateway_min_score"] == [services.GATEWAY_OUTSIDE_SCALE]
    with pytest.raises(ValidationError) as caught:
        services.criterion_update(actor=world.people.manager, criterion=criterion, scale_min=3, scale_max=3)
    assert caught.value.message_dict["scale_max"] == [services.SCALE_OUT_OF_ORDER]


def test_changing_a_scale_drops_descriptors_off_the_new_scale(world):
    criterion = world.call.criteria.first()
    services.criterion_update(actor=world.people.manager, criterion=criterion, scale_min=1, scale_max=3)
    assert sorted(criterion.descriptors.values_list("score", flat=True)) == [1, 2, 3]


def test_weights_are_set_together_and_must_total_100(world):
    first, second = world.call.criteria.all()
    with pytest.raises(ValidationError) as caught:
        services.criteria_weights_set(actor=world.people.manager, call=world.call, weights={first.pk: 60, second.pk: 30})
    assert caught.value.message_dict["weights"] == [f"{services.WEIGHTS_NOT_100}: they add up to 90"]
    assert sorted(world.call.criteria.values_list("weight", flat=True)) == [50, 50]
    services.criteria_weights_set(actor=world.people.manager, call=world.call, weights={first.pk: 70, second.pk: 30})
    assert sorted(world.call.criteria.values_list("weight", flat=True)) == [30, 70]
    assert _events(world.call, "criteria.weights_set").exists()


def test_a_criterion_can_be_removed_from_a_draft(world):
    criterion = world.call.criteria.first()
    services.criterion_remove(actor=world.people.manager, criterion=criterion)
    assert not Criterion.objects.filter(pk=criterion.pk).exists()
    assert AuditEvent.objects.get(action="criterion.removed").before["title"] == criterion.title


def test_the_criteria_of_a_published_call_are_frozen_with_the_reason(world):
    services.call_publish(actor=world.people.manager, call=world.call)
    criterion = world.call.criteria.first()
    attempts = [
        lambda: services.criterion_add(actor=world.people.manager, call=world.call, kind=CriterionKind.OTHER, title="Late",
                                       guidance_for_applicants="x", guidance_for_assessors="x", weight=1),
        lambda: services.criterion_update(actor=world.people.manager, criterion=criterion, title="Changed"),
        lambda: services.criterion_remove(actor=world.people.manager, criterion=criterion),
        lambda: services.criteria_weights_set(actor=world.people.manager, call=world.call, weights={}),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError) as caught:
            attempt()
        assert caught.value.messages == [services.CRITERIA_FROZEN]
    criterion.refresh_from_db()
    assert criterion.title != "Changed"
    assert world.call.criteria.count() == 2


# Publishing ---------------------------------------------------------------------------------


def test_publishing_a_complete_call_before_it_opens_schedules_it(world):
    call = services.call_publish(actor=world.people.manager, call=world.call, now=NOW)
    assert call.status == world.call.status == CallStatus.SCHEDULED
    assert world.call.published_at == NOW
    event = _events(world.call, "call.published").get()
    assert [c["title"] for c in event.after["criteria"]] == list(world.call.criteria.values_list("title", flat=True))
    assert not _events(world.call, "call.opened").exists()


def test_publishing_after_the_opening_time_opens_it_at_once(world):
    world.call.opens_at = NOW - dt.timedelta(hours=1)
    world.call.save()
    services.call_publish(actor=world.people.manager, call=world.call, now=NOW)
    assert world.call.status == CallStatus.OPEN
    assert _events(world.call, "call.opened").get().actor == world.people.manager


def _publish_problems(call, **kwargs):
    manager = call.fund.host_network.memberships.get(role="fund_manager").user
    with pytest.raises(ValidationError) as caught:
        services.call_publish(actor=manager, call=call, **kwargs)
    call.refresh_from_db()
    assert call.status == CallStatus.DRAFT
    assert not _events(call, "call.published").exists()
    return caught.value.message_dict


def test_publishing_refuses_weights_that_do_not_total_100(world):
    world.call.criteria.filter(kind=CriterionKind.COST_SAVING).update(weight=40)
    assert _publish_problems(world.call)["criteria"] == [f"{services.WEIGHTS_NOT_100}: they add up to 90"]


def test_publishing_refuses_a_call_without_a_cost_saving_criterion(world):
    world.call.criteria.filter(kind=CriterionKind.COST_SAVING).update(kind=CriterionKind.DELIVERABILITY)
    assert _publish_problems(world.call)["criteria"] == [services.NO_COST_SAVING]


def test_publishing_refuses_a_call_without_a_patient_benefit_criterion(world):
    world.call.criteria.filter(kind=CriterionKind.PATIENT_BENEFIT).update(kind=CriterionKind.SCALABILITY)
    assert _publish_problems(world.call)["criteria"] == [services.NO_PATIENT_BENEFIT]


def test_publishing_refuses_a_call_without_criteria(world):
    world.call.criteria.all().delete()
    assert _publish_problems(world.call)["criteria"] == [services.NO_CRITERIA]


def test_publishing_refuses_a_rubric_with_a_score_undescribed(world):
    criterion = world.call.criteria.first()
    criterion.descriptors.filter(score=3).delete()
    problem = _publish_problems(world.call)["criteria"][0]
    assert problem.startswith(services.DESCRIPTORS_MISSING)
    assert criterion.title in problem
    assert problem.endswith("for 3")


def test_publishing_refuses_a_closing_time_in_the_past(world):
    later = world.call.closes_at + dt.timedelta(minutes=1)
    assert _publish_problems(world.call, now=later)["closes_at"] == [services.CLOSES_IN_PAST]


def test_publishing_refuses_a_call_without_eligibility_pots_or_panel(world):
    Call.objects.filter(pk=world.call.pk).update(eligible_org_kinds=[], innovation_types=[], max_amount=0, min_amount=0,
                                                  panel=None)
    world.call.pots.clear()
    world.call.refresh_from_db()
    problems = _publish_problems(world.call)  # a draft saved before these rules, or edited in the admin
    assert problems["eligible_org_kinds"] == [services.NO_ELIGIBLE_KINDS]
    assert problems["innovation_types"] == [services.NO_INNOVATION_TYPES]
    assert problems["max_amount"] == [services.MAX_AMOUNT_ZERO]
    assert problems["pots"] == [services.NO_POTS]
    assert problems["panel"] == [services.NO_PANEL]


def test_publishing_refuses_a_pot_without_budget(world):
    empty = PotFactory(fund=world.fund, network=world.other, name="Empty pot")
    world.call.pots.add(empty)
    assert _publish_problems(world.call)["pots"] == [f"{services.POT_WITHOUT_BUDGET}: Empty pot"]


def test_only_a_draft_can_be_published(world):
    services.call_publish(actor=world.people.manager, call=world.call)
    with pytest.raises(ValidationError) as caught:
        services.call_publish(actor=world.people.manager, call=world.call)
    assert caught.value.messages == [services.CALL_NOT_DRAFT]
    assert _events(world.call, "call.published").count() == 1


# Opening and closing ------------------------------------------------------------------------


def test_a_scheduled_call_opens_at_its_opening_time_not_before(world):
    services.call_publish(actor=world.people.manager, call=world.call, now=NOW)
    with pytest.raises(ValidationError) as caught:
        services.call_open(actor=None, call=world.call, now=world.call.opens_at - dt.timedelta(seconds=1))
    assert caught.value.messages == [services.CALL_NOT_YET_OPENING]
    services.call_open(actor=None, call=world.call, now=world.call.opens_at)
    assert world.call.status == CallStatus.OPEN
    assert _events(world.call, "call.opened").get().actor is None
    with pytest.raises(ValidationError) as caught:
        services.call_open(actor=None, call=world.call, now=world.call.opens_at)
    assert caught.value.messages == [services.CALL_NOT_SCHEDULED]


def test_an_open_call_closes_at_its_closing_time(world):
    call = CallFactory(fund=world.fund, panel=world.panel)
    services.call_close(actor=None, call=call, now=call.closes_at)
    assert call.status == CallStatus.CLOSED
    assert call.phase(call.closes_at) == CallStatus.CLOSED
    event = _events(call, "call.closed").get()
    assert event.before == {"status": CallStatus.OPEN}


def test_closing_an_open_call_early_needs_a_reason_and_moves_the_closing_time(world):
    call = CallFactory(fund=world.fund, panel=world.panel)
    with pytest.raises(ValidationError) as caught:
        services.call_close(actor=world.people.manager, call=call, now=NOW, reason="  ")
    assert caught.value.message_dict["reason"] == [services.CLOSE_EARLY_REASON]
    call.refresh_from_db()
    assert call.status == CallStatus.OPEN
    services.call_close(actor=world.people.manager, call=call, now=NOW, reason="The fund was withdrawn")
    call.refresh_from_db()
    assert call.status == CallStatus.CLOSED
    assert call.closes_at == NOW
    assert "The fund was withdrawn" in _events(call, "call.closed").get().message


def test_a_call_that_has_not_opened_cannot_be_closed_early(world):
    services.call_publish(actor=world.people.manager, call=world.call, now=NOW)
    with pytest.raises(ValidationError) as caught:
        services.call_close(actor=None, call=world.call, now=NOW, reason="Changed our minds")
    assert caught.value.messages == [services.CALL_NOT_STARTED]
    with pytest.raises(ValidationError) as caught:
        services.call_close(actor=None, call=DraftCallFactory(fund=world.fund))
    assert caught.value.messages == [services.CALL_NOT_OPEN]


def test_an_open_call_s_closing_time_is_extended_with_a_published_reason(world):
    call = CallFactory(fund=world.fund, panel=world.panel)
    first = call.closes_at
    later = first + dt.timedelta(days=7)
    services.call_extend_closing(actor=world.people.manager, call=call, closes_at=later,
                                 reason="Trusts asked for time after the winter pressures", now=NOW)
    call.refresh_from_db()
    assert (call.closes_at, call.published_closes_at) == (later, first)
    assert call.closing_extension_reason == "Trusts asked for time after the winter pressures"
    assert call.phase(first + dt.timedelta(hours=1)) == CallStatus.OPEN  # bids still go in after the old time
    event = _events(call, "call.closing_extended").get()
    assert event.actor == world.people.manager
    assert "winter pressures" in event.message
    # The same extension sent again (a double submit) changes nothing and records nothing.
    services.call_extend_closing(actor=world.people.manager, call=call, closes_at=later,
                                 reason="Trusts asked for time after the winter pressures", now=NOW)
    assert _events(call, "call.closing_extended").count() == 1
    # A second extension keeps the first published time.
    services.call_extend_closing(actor=world.people.manager, call=call, closes_at=later + dt.timedelta(days=1), reason="Again", now=NOW)
    call.refresh_from_db()
    assert call.published_closes_at == first
    assert _events(call, "call.closing_extended").count() == 2


def test_an_extension_is_refused_without_a_reason_or_a_later_time_and_changes_nothing(world):
    call = CallFactory(fund=world.fund, panel=world.panel, assessment_due_date=None, panel_meeting_date=None,
                       decisions_expected_date=None)
    first = call.closes_at
    cases = [
        ({"closes_at": first + dt.timedelta(days=1), "reason": "  "}, "reason", services.EXTENSION_REASON),
        ({"closes_at": first, "reason": "x"}, "closes_at", services.EXTENSION_NOT_LATER),
        ({"closes_at": first - dt.timedelta(days=1), "reason": "x"}, "closes_at", services.EXTENSION_NOT_LATER),
        ({"closes_at": first + dt.timedelta(days=400), "reason": "x"}, "closes_at", services.EXTENSION_TOO_LONG),
    ]
    for kwargs, field, message in cases:
        with pytest.raises(ValidationError) as caught:
            services.call_extend_closing(actor=world.people.manager, call=call, now=NOW, **kwargs)
        assert caught.value.message_dict[field] == [message]
    call.refresh_from_db()
    assert (call.closes_at, call.published_closes_at) == (first, None)
    assert not _events(call, "call.closing_extended").exists()


def test_an_extension_past_the_later_timetable_names_the_date_to_move_first(world):
    call = CallFactory(fund=world.fund, panel=world.panel)
    due = timezone.localdate(call.closes_at) + dt.timedelta(days=3)
    call.assessment_due_date, call.panel_meeting_date, call.decisions_expected_date = (
        due, due + dt.timedelta(days=5), due + dt.timedelta(days=10))
    call.save()
    with pytest.raises(ValidationError) as caught:
        services.call_extend_closing(actor=world.people.manager, call=call, closes_at=call.closes_at + dt.timedelta(days=4),
                                     reason="More time", now=NOW)
    [message] = caught.value.message_dict["closes_at"]
    assert "date assessors' scores are due" in message
    assert f"{due:%-d %B %Y}" in message


def test_only_a_published_call_that_has_not_closed_can_be_extended(world):
    draft = DraftCallFactory(fund=world.fund)
    closed = CallFactory(fund=world.fund, panel=world.panel)
    services.call_close(actor=None, call=closed, now=closed.closes_at)
    past_closing = CallFactory(fund=world.fund, panel=world.panel)  # the beat has not closed it yet
    for call, now in ((draft, NOW), (closed, NOW), (past_closing, past_closing.closes_at + dt.timedelta(minutes=1))):
        with pytest.raises(ValidationError) as caught:
            services.call_extend_closing(actor=world.people.manager, call=call, closes_at=call.closes_at + dt.timedelta(days=2),
                                         reason="Late", now=now)
        assert caught.value.messages == [services.CALL_NOT_EXTENDABLE]
    scheduled = world.call
    services.call_publish(actor=world.people.manager, call=scheduled, now=NOW)
    assert scheduled.status == CallStatus.SCHEDULED
    services.call_extend_closing(actor=world.people.manager, call=scheduled, closes_at=scheduled.closes_at + dt.timedelta(days=2),
                                 reason="Aligned with the national call", now=NOW)


def test_a_scheduled_call_goes_back_to_draft_with_a_reason_and_can_be_corrected(world):
    call = world.call
    services.call_publish(actor=world.people.manager, call=call, now=NOW)
    assert call.status == CallStatus.SCHEDULED
    with pytest.raises(ValidationError) as caught:
        services.call_unpublish(actor=world.people.manager, call=call, reason=" ", now=NOW)
    assert caught.value.message_dict["reason"] == [services.UNPUBLISH_REASON]
    call.refresh_from_db()
    assert call.status == CallStatus.SCHEDULED
    services.call_unpublish(actor=world.people.manager, call=call, reason="The rubric had a typo", now=NOW)
    call.refresh_from_db()
    assert (call.status, call.published_at) == (CallStatus.DRAFT, None)
    event = _events(call, "call.unpublished").get()
    assert event.actor == world.people.manager
    assert "The rubric had a typo" in event.message
    # Its criteria can change again, and it can be published again.
    criterion = call.criteria.first()
    services.criterion_update(actor=world.people.manager, criterion=criterion, title="Corrected title")
    services.call_publish(actor=world.people.manager, call=call, now=NOW)
    assert call.status == CallStatus.SCHEDULED


def test_a_call_that_has_opened_cannot_go_back_to_draft(world):
    open_call = CallFactory(fund=world.fund, panel=world.panel)
    services.call_publish(actor=world.people.manager, call=world.call, now=NOW)
    due_to_open = world.call  # the beat has not opened it yet, but its opening time has passed
    for call, now in ((open_call, NOW), (due_to_open, world.call.opens_at + dt.timedelta(minutes=1))):
        with pytest.raises(ValidationError) as caught:
            services.call_unpublish(actor=world.people.manager, call=call, reason="Mistake", now=now)
        assert caught.value.messages == [services.CALL_ALREADY_OPENED]
    open_call.refresh_from_db()
    assert open_call.status == CallStatus.OPEN
    # A draft stays a draft (the form sent twice): nothing happens, nothing is recorded.
    draft = DraftCallFactory(fund=world.fund)
    services.call_unpublish(actor=world.people.manager, call=draft, reason="Mistake", now=NOW)
    assert draft.status == CallStatus.DRAFT
    assert not AuditEvent.objects.filter(action="call.unpublished").exists()


def test_the_phase_is_derived_from_the_times_even_if_the_beat_is_late(world):
    call = CallFactory(fund=world.fund, status=CallStatus.OPEN)
    assert call.phase(call.closes_at - dt.timedelta(seconds=1)) == CallStatus.OPEN
    assert call.phase(call.closes_at) == CallStatus.CLOSED
    assert not call.is_accepting_bids(call.closes_at)
    assert call.phase(call.opens_at - dt.timedelta(seconds=1)) == CallStatus.SCHEDULED


# Assessment, decisions and closing out -----------------------------------------------------------


def test_the_call_moves_through_assessment_and_decisions_to_closed_out(world):
    call = CallFactory(fund=world.fund, panel=world.panel)
    for service in (services.call_start_assessment, services.call_mark_decided, services.call_close_out):
        with pytest.raises(ValidationError):
            service(actor=world.people.manager, call=call)
    services.call_close(actor=None, call=call, now=call.closes_at)
    services.call_start_assessment(actor=world.people.manager, call=call)
    assert call.status == CallStatus.ASSESSMENT
    services.call_mark_decided(actor=world.people.manager, call=call, now=NOW)
    assert call.status == CallStatus.DECIDED
    assert call.decisions_released_at == NOW
    services.call_close_out(actor=world.people.manager, call=call)
    assert call.status == CallStatus.CLOSED_OUT
    actions = list(AuditEvent.objects.filter(target_id=str(call.pk), target_type="governance.call")
                   .order_by("pk").values_list("action", flat=True))
    assert actions == ["call.closed", "call.assessment_started", "call.decided", "call.closed_out"]


def test_assessment_can_start_once_the_closing_time_has_passed_even_if_the_beat_has_not_run(world):
    call = CallFactory(fund=world.fund, panel=world.panel)
    with pytest.raises(ValidationError) as caught:
        services.call_start_assessment(actor=world.people.manager, call=call, now=NOW)
    assert caught.value.messages == [services.CALL_NOT_CLOSED]
    services.call_start_assessment(actor=world.people.manager, call=call, now=call.closes_at)
    assert call.status == CallStatus.ASSESSMENT
    closed = _events(call, "call.closed").get()
    assert closed.actor is None
    assert _events(call, "call.assessment_started").get().actor == world.people.manager


@pytest.mark.parametrize(
    ("status", "service", "message"),
    [
        (CallStatus.OPEN, services.call_mark_decided, services.CALL_NOT_IN_ASSESSMENT),
        (CallStatus.DECIDED, services.call_mark_decided, services.CALL_NOT_IN_ASSESSMENT),
        (CallStatus.ASSESSMENT, services.call_close_out, services.CALL_NOT_DECIDED),
        (CallStatus.CLOSED_OUT, services.call_start_assessment, services.CALL_NOT_CLOSED),
    ],
)
def test_transitions_from_the_wrong_state_are_refused_and_change_nothing(world, status, service, message):
    call = CallFactory(fund=world.fund, status=status)
    with pytest.raises(ValidationError) as caught:
        service(actor=world.people.manager, call=call)
    assert caught.value.messages == [message]
    call.refresh_from_db()
    assert call.status == status
    assert not AuditEvent.objects.filter(target_type="governance.call", target_id=str(call.pk)).exists()


# The beat task's service --------------------------------------------------------------------------


def test_calls_advance_opens_and_closes_calls_at_their_times_once(world):
    scheduled = DraftCallFactory(fund=world.fund)
    services.call_publish(actor=world.people.manager, call=scheduled, now=NOW)
    ending = CallFactory(fund=world.fund)
    at = scheduled.opens_at + dt.timedelta(minutes=1)
    ending.closes_at = at - dt.timedelta(minutes=1)
    ending.save()
    assert sorted(services.calls_advance(now=at)) == sorted([(scheduled.pk, CallStatus.OPEN), (ending.pk, CallStatus.CLOSED)])
    assert services.calls_advance(now=at) == []
    scheduled.refresh_from_db()
    ending.refresh_from_db()
    assert (scheduled.status, ending.status) == (CallStatus.OPEN, CallStatus.CLOSED)
    assert _events(scheduled, "call.opened").count() == 1
    assert _events(ending, "call.closed").count() == 1


def test_calls_advance_catches_up_a_call_whose_whole_window_passed(world):
    services.call_publish(actor=world.people.manager, call=world.call, now=NOW)
    after = world.call.closes_at + dt.timedelta(hours=1)
    assert services.calls_advance(now=after) == [(world.call.pk, CallStatus.OPEN), (world.call.pk, CallStatus.CLOSED)]
    world.call.refresh_from_db()
    assert world.call.status == CallStatus.CLOSED
    assert services.calls_advance(now=after) == []


def test_calls_advance_leaves_drafts_and_calls_not_yet_due(world):
    services.calls_advance(now=world.call.closes_at + dt.timedelta(days=1))
    world.call.refresh_from_db()
    assert world.call.status == CallStatus.DRAFT
    open_call = CallFactory(fund=world.fund)
    assert services.calls_advance(now=NOW) == []
    open_call.refresh_from_db()
    assert open_call.status == CallStatus.OPEN


def test_the_scoring_example_follows_the_criteria(world):
    call = Call.objects.get(pk=world.call.pk)
    assert call.common_scale == (0, 4)
    assert call.example_score == Decimal("75.0")  # 3 out of 4 on every criterion
    call.criteria.filter(kind=CriterionKind.PATIENT_BENEFIT).update(scale_max=2)
    call = Call.objects.get(pk=world.call.pk)
    assert call.common_scale is None
    assert call.example_score == Decimal("62.5")  # half of 50 for 1 out of 2, plus three quarters of 50
