"""Every rule of writing, endorsing and submitting a bid, through the services."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from applications import checks, services
from applications.models import (
    Bid,
    BidCost,
    BidPartner,
    BidReferenceSequence,
    BidSection,
    BidStatus,
    EndorsementStatus,
    ProjectedSaving,
    SectionStatus,
)
from applications.selectors import bid_projected_return, bid_requested_by_year, bid_total_requested
from governance.models import AllocationModel, AuditEvent, CallStatus, Notification, PartnerKind
from governance.money import NEGATIVE, NOT_MONEY, TOO_LARGE, TOO_MANY_DECIMALS
from tests.applications.conftest import END, START, cost, fill_bid, saving, start_bid, version
from tests.factories.governance import CallFactory, NetworkFactory, PotFactory

pytestmark = pytest.mark.django_db


def messages_of(error: pytest.ExceptionInfo) -> list[str]:
    return error.value.messages


# Starting a bid ------------------------------------------------------------------------------------


def test_starting_a_bid_makes_a_draft_with_a_reference_sections_and_an_audit_event(world):
    bid = start_bid(world)
    prefix = f"{world.network.short_name}-2627"
    assert bid.reference == f"{prefix}-0001"
    assert bid.status == BidStatus.DRAFT
    assert bid.endorsement_status == EndorsementStatus.NOT_REQUESTED
    assert bid.pot == world.call.pots.get()
    assert set(bid.section_states.values_list("section", flat=True)) == set(BidSection.values)
    event = AuditEvent.objects.get(action="bid.created")
    assert event.target_id == str(bid.pk)
    assert event.actor == world.applicant
    assert event.fund == world.call.fund


def test_references_run_on_per_prefix_after_any_already_made(world):
    Bid.objects.create(call=world.call, lead_organisation=world.lead, reference=f"{world.network.short_name}-2627-0041",
                       title="Imported", created_by=world.applicant)
    first, second = start_bid(world, "One"), start_bid(world, "Two")
    assert first.reference.endswith("-0042")
    assert second.reference.endswith("-0043")
    assert BidReferenceSequence.objects.get(prefix=f"{world.network.short_name}-2627").last_number == 43


def test_the_reference_year_is_the_financial_year_the_call_opened_in(world):
    call = CallFactory(fund=world.call.fund, opens_at=timezone.make_aware(dt.datetime(2026, 3, 20, 9)),
                       closes_at=timezone.now() + dt.timedelta(days=3))
    bid = services.bid_start(actor=world.applicant, call=call, organisation=world.lead, title="Early call")
    assert bid.reference == f"{world.network.short_name}-2526-0001"


@pytest.mark.parametrize("status", [CallStatus.DRAFT, CallStatus.CLOSED, CallStatus.ASSESSMENT])
def test_no_bid_can_be_started_on_a_call_that_is_not_open(world, status):
    world.call.status = status
    world.call.save()
    with pytest.raises(ValidationError) as error:
        start_bid(world)
    assert messages_of(error) == [services.CALL_NOT_OPEN]
    assert not Bid.objects.exists()


def test_no_bid_can_be_started_once_the_closing_time_has_passed(world):
    with pytest.raises(ValidationError) as error:
        services.bid_start(actor=world.applicant, call=world.call, organisation=world.lead, title="Late",
                           now=world.call.closes_at)
    assert messages_of(error) == [services.CALL_CLOSED.format(closed=checks.uk_datetime(world.call.closes_at))]
    assert not Bid.objects.exists()


def test_the_lead_organisation_kind_is_checked_at_once_with_the_reason(world):
    with pytest.raises(ValidationError) as error:
        services.bid_start(actor=world.gp_member, call=world.call, organisation=world.gp, title="GP bid")
    assert error.value.message_dict["organisation"] == [
        "Bids for this call must be led by NHS trust, NHS foundation trust or Integrated care board (ICB): "
        "Example Surgery is a GP practice"
    ]
    assert not Bid.objects.exists()


def test_a_user_of_no_organisation_cannot_start_a_bid(world):
    with pytest.raises(ValidationError) as error:
        services.bid_start(actor=world.nobody, call=world.call, organisation=world.lead, title="Mine")
    assert messages_of(error) == [services.NO_ORGANISATION]


def test_only_an_organisation_you_belong_to_can_lead_your_bid(world):
    with pytest.raises(ValidationError) as error:
        services.bid_start(actor=world.other_applicant, call=world.call, organisation=world.lead, title="Theirs")
    assert error.value.message_dict["organisation"] == [services.NOT_YOUR_ORGANISATION]


def test_a_ring_fenced_fund_puts_the_bid_in_its_regions_pot_and_refuses_a_region_without_one(world):
    fund = world.call.fund
    fund.allocation_model = AllocationModel.RING_FENCED
    fund.save()
    own_pot = PotFactory(fund=fund, network=world.network, name="Our region")
    elsewhere = PotFactory(fund=fund, network=NetworkFactory(), name="Elsewhere")
    world.call.pots.set([own_pot, elsewhere])
    assert start_bid(world).pot == own_pot
    world.call.pots.set([elsewhere])
    with pytest.raises(ValidationError) as error:
        start_bid(world)
    assert "has no pot for" in error.value.message_dict["organisation"][0]


# Sections and optimistic concurrency ------------------------------------------------------------------


def test_a_colleague_can_save_and_a_stale_save_is_refused_without_overwriting(world, draft):
    opened = version(draft, BidSection.SUMMARY)
    services.bid_summary_save(actor=world.colleague, bid=draft, version=opened, title="Colleague's title",
                              summary="Theirs")
    with pytest.raises(ValidationError) as error:
        services.bid_summary_save(actor=world.applicant, bid=draft, version=opened, title="My title", summary="Mine")
    assert error.value.code == "conflict"
    assert messages_of(error)[0].startswith("Casey Colleague saved this section on ")
    draft.refresh_from_db()
    assert (draft.title, draft.summary) == ("Colleague's title", "Theirs")
    assert version(draft, BidSection.SUMMARY) == opened + 1


def test_saving_one_section_does_not_touch_another_sections_version(world, draft):
    services.bid_summary_save(actor=world.applicant, bid=draft, version=0, title="T")
    services.bid_innovation_save(actor=world.colleague, bid=draft, version=0, innovation_type="digital")
    assert version(draft, BidSection.SUMMARY) == 1
    assert version(draft, BidSection.INNOVATION) == 1


def test_only_members_of_the_lead_organisation_can_change_the_bid(world, draft):
    for outsider in (world.other_applicant, world.commissioner, world.manager, world.auditor):
        with pytest.raises(PermissionDenied):
            services.bid_summary_save(actor=outsider, bid=draft, version=0, title="Hijacked")
    draft.refresh_from_db()
    assert draft.title == "Remote monitoring for frailty"


def test_a_saved_section_is_in_progress_until_nothing_in_it_is_missing(world, draft):
    services.bid_summary_save(actor=world.applicant, bid=draft, version=0, title="T", summary="S")
    assert checks.section_status(draft, BidSection.SUMMARY) == SectionStatus.IN_PROGRESS
    services.bid_summary_save(actor=world.applicant, bid=draft, version=1, title="T", summary="S", problem="P",
                              start_date=START, end_date=END)
    assert checks.section_status(draft, BidSection.SUMMARY) == SectionStatus.COMPLETED
    assert draft.section_states.get(section=BidSection.SUMMARY).status == SectionStatus.COMPLETED
    assert checks.section_status(draft, BidSection.RISKS) == SectionStatus.NOT_STARTED


def test_the_project_cannot_run_longer_than_the_call_allows(world, draft):
    with pytest.raises(ValidationError) as error:
        services.bid_summary_save(actor=world.applicant, bid=draft, version=0, title="T",
                                  start_date=START, end_date=dt.date(2030, 4, 1))
    assert error.value.message_dict["end_date"] == [
        checks.DURATION_TOO_LONG.format(years=3, latest="31 March 2030")]
    draft.refresh_from_db()
    assert draft.end_date is None


def test_the_project_must_end_after_it_starts_and_within_the_funds_years(world, draft):
    with pytest.raises(ValidationError) as error:
        services.bid_summary_save(actor=world.applicant, bid=draft, version=0, title="T", start_date=END, end_date=START)
    assert error.value.message_dict["end_date"] == [checks.END_BEFORE_START]
    with pytest.raises(ValidationError) as error:
        services.bid_summary_save(actor=world.applicant, bid=draft, version=0, title="T",
                                  start_date=dt.date(2028, 4, 1), end_date=dt.date(2030, 3, 31))
    assert error.value.message_dict["end_date"] == [checks.YEARS_OUTSIDE_FUND.format(first="2026/27", last="2028/29")]


def test_only_the_calls_innovation_types_and_known_care_settings_are_accepted(world, draft):
    with pytest.raises(ValidationError) as error:
        services.bid_innovation_save(actor=world.applicant, bid=draft, version=0, innovation_type="medicine")
    assert error.value.message_dict["innovation_type"] == [services.INNOVATION_TYPE_UNKNOWN]
    with pytest.raises(ValidationError):
        services.bid_pathway_save(actor=world.applicant, bid=draft, version=0, care_settings=["space"])


# Partners and the commissioner ----------------------------------------------------------------------


def test_partners_are_added_once_each_with_a_role_and_contribution(world, draft):
    services.bid_partner_add(actor=world.applicant, bid=draft, organisation=world.icb, role=PartnerKind.COMMISSIONER,
                             contribution="Data")
    with pytest.raises(ValidationError) as error:
        services.bid_partner_add(actor=world.applicant, bid=draft, organisation=world.icb, role="academic",
                                 contribution="More")
    assert error.value.message_dict["organisation"] == [services.PARTNER_ALREADY_ADDED.format(organisation="NHS Example ICB")]
    with pytest.raises(ValidationError) as error:
        services.bid_partner_add(actor=world.applicant, bid=draft, organisation=world.lead, role="academic",
                                 contribution="x")
    assert error.value.message_dict["organisation"] == [services.PARTNER_IS_LEAD]
    with pytest.raises(ValidationError) as error:
        services.bid_partner_add(actor=world.applicant, bid=draft, organisation=world.other_org, role="", contribution="")
    assert set(error.value.message_dict) == {"role", "contribution"}
    assert BidPartner.objects.filter(bid=draft).count() == 1
    assert AuditEvent.objects.filter(action="bid.partner_added").count() == 1


def test_the_calls_required_partner_kinds_are_checked(world, draft):
    missing = checks.PARTNER_KIND_MISSING.format(role="commissioner")
    assert missing in [p.message for p in checks.bid_problems(draft) if p.ineligible]
    services.bid_partner_add(actor=world.applicant, bid=draft, organisation=world.icb, role=PartnerKind.COMMISSIONER,
                             contribution="Data")
    assert missing not in [p.message for p in checks.bid_problems(draft)]


def test_changing_a_partner_is_guarded_by_the_sections_version(world, draft):
    partner = services.bid_partner_add(actor=world.applicant, bid=draft, organisation=world.icb, role="commissioner",
                                       contribution="Data")
    opened = version(draft, BidSection.PARTNERS)
    services.bid_partner_change(actor=world.colleague, bid=draft, version=opened, partner=partner, role="academic",
                                contribution="Evaluation")
    with pytest.raises(ValidationError) as error:
        services.bid_partner_change(actor=world.applicant, bid=draft, version=opened, partner=partner,
                                    role="industry", contribution="Kit")
    assert error.value.code == "conflict"
    partner.refresh_from_db()
    assert (partner.role, partner.contribution) == ("academic", "Evaluation")


def test_the_endorsing_organisation_must_commission_and_changing_it_asks_again(world, ready):
    assert ready.endorsement_status == EndorsementStatus.ENDORSED
    with pytest.raises(ValidationError) as error:
        services.bid_partners_save(actor=world.applicant, bid=ready, version=version(ready, BidSection.PARTNERS),
                                   commissioner=world.other_org)
    assert error.value.message_dict["commissioner"] == [services.NOT_A_COMMISSIONING_ORG]
    services.bid_partners_save(actor=world.applicant, bid=ready, version=version(ready, BidSection.PARTNERS),
                               commissioner=world.other_icb)
    ready.refresh_from_db()
    assert ready.endorsement_status == EndorsementStatus.NOT_REQUESTED
    assert ready.endorsed_by is None
    assert checks.ENDORSEMENT_NEEDED in [p.message for p in checks.bid_problems(ready)]


# Costs, match funding and savings ----------------------------------------------------------------------


@pytest.fixture
def dated(world, draft):
    services.bid_summary_save(actor=world.applicant, bid=draft, version=0, title="T", start_date=START, end_date=END)
    return draft


def test_costs_are_replaced_and_summed_by_year_with_match_funding_apart(world, dated):
    services.bid_costs_save(actor=world.applicant, bid=dated, version=0,
                            costs=[cost(2027, "30000"), cost(2027, "12500.50", category="equipment", nature="capital"),
                                   cost(2028, "20000")],
                            match_funding=[{"organisation": world.lead, "financial_year": 2027, "amount": Decimal("5000"),
                                            "description": "Staff time"}])
    assert bid_requested_by_year(dated) == {2027: Decimal("42500.50"), 2028: Decimal("20000.00")}
    assert bid_total_requested(dated) == Decimal("62500.50")
    services.bid_costs_save(actor=world.applicant, bid=dated, version=1, costs=[cost(2028, "25000")])
    assert bid_requested_by_year(dated) == {2027: Decimal("0.00"), 2028: Decimal("25000.00")}
    assert not dated.match_funding.exists()
    event = AuditEvent.objects.filter(action="bid.section_saved", message__startswith="Costs").first()
    assert event.after["total"] == "25000.00"
    assert event.before["total"] == "62500.50"


@pytest.mark.parametrize(("rows", "message"), [
    ([cost(2027, "400000"), cost(2028, "0.01")], checks.TOTAL_ABOVE_MAXIMUM.format(total="£400,000.01", maximum="£500,000")),
    ([cost(2027, "9999.99")], checks.TOTAL_BELOW_MINIMUM.format(total="£9,999.99", minimum="£10,000")),
    ([cost(2029, "20000")], checks.COST_YEAR_OUTSIDE_PROJECT.format(year="2029/30", first="2027/28", last="2028/29")),
    ([cost(2026, "20000")], checks.COST_YEAR_OUTSIDE_PROJECT.format(year="2026/27", first="2027/28", last="2028/29")),
])
def test_costs_outside_the_calls_limits_or_the_projects_years_are_refused(world, dated, rows, message):
    world.call.max_amount = Decimal("400000")
    world.call.save()
    with pytest.raises(ValidationError) as error:
        services.bid_costs_save(actor=world.applicant, bid=dated, version=0, costs=rows)
    assert messages_of(error) == [message.replace("£500,000", "£400,000")]
    assert not BidCost.objects.exists()
    assert version(dated, BidSection.COSTS) == 0


@pytest.mark.parametrize(("amount", "message"), [
    ("-100", NEGATIVE), ("twelve thousand", NOT_MONEY), ("1000000000", TOO_LARGE), ("12.345", TOO_MANY_DECIMALS),
])
def test_negative_non_numeric_and_absurd_amounts_are_refused(world, dated, amount, message):
    with pytest.raises(ValidationError) as error:
        services.bid_costs_save(actor=world.applicant, bid=dated, version=0,
                                costs=[{**cost(2027, "0"), "amount": amount}, cost(2028, "20000")])
    assert message in messages_of(error)
    assert not BidCost.objects.exists()


def test_costs_and_savings_need_the_projects_dates_first(world, draft):
    with pytest.raises(ValidationError) as error:
        services.bid_costs_save(actor=world.applicant, bid=draft, version=0, costs=[cost(2027, "20000")])
    assert messages_of(error) == [checks.COSTS_NEED_DATES]


def test_match_funding_comes_only_from_organisations_on_the_bid(world, dated):
    with pytest.raises(ValidationError) as error:
        services.bid_costs_save(actor=world.applicant, bid=dated, version=0, costs=[cost(2027, "20000")],
                                match_funding=[{"organisation": world.other_org, "financial_year": 2027,
                                                "amount": Decimal("1000")}])
    assert messages_of(error) == [services.MATCH_FUNDER_NOT_ON_BID]


def test_savings_outside_the_projects_years_or_in_a_stranger_budget_are_refused(world, dated):
    with pytest.raises(ValidationError) as error:
        services.bid_savings_save(actor=world.applicant, bid=dated, version=0,
                                  savings=[saving(world, 2030, "1000"), saving(world, 2027, "10", organisation=world.other_org)])
    assert messages_of(error) == [
        checks.SAVING_YEAR_OUTSIDE_PROJECT.format(year="2030/31", first="2027/28", last="2028/29"),
        services.SAVER_NOT_ON_BID,
    ]
    assert not ProjectedSaving.objects.exists()


@pytest.mark.parametrize(("savings", "costs", "expected"), [
    ("185000", "100000", Decimal("1.85")),
    ("1", "3", Decimal("0.33")),
    ("2", "3", Decimal("0.67")),
    ("1.25", "100", Decimal("0.01")),  # 0.0125 rounds half up to 0.01
    ("12.5", "1000", Decimal("0.01")),  # exactly 0.0125
    ("15", "1000", Decimal("0.02")),  # exactly 0.015: half up
])
def test_the_projected_return_is_savings_over_cost_rounded_half_up(savings, costs, expected):
    assert checks.projected_return(Decimal(savings), Decimal(costs)) == expected


def test_the_projected_return_of_a_bid_is_worked_out_from_its_rows(world, ready):
    assert bid_projected_return(ready) == Decimal("1.85")
    assert checks.projected_return(Decimal("5"), Decimal("0")) is None


# Benefits, delivery, risks -----------------------------------------------------------------------------


def test_at_least_one_patient_benefit_measure_is_required(world, dated):
    with pytest.raises(ValidationError) as error:
        services.bid_benefits_save(actor=world.applicant, bid=dated, version=0, measures=[])
    assert messages_of(error) == [checks.BENEFITS_MISSING]
    assert checks.BENEFITS_MISSING in [p.message for p in checks.bid_problems(dated)]


def test_a_milestone_outside_the_project_is_listed_as_a_problem(world, dated):
    services.bid_delivery_save(actor=world.applicant, bid=dated, version=0, delivery_plan="Plan",
                               milestones=[{"title": "Too late", "due_date": dt.date(2030, 1, 1)}])
    problems = checks.problems_in_section(dated, BidSection.DELIVERY)
    assert [p.message for p in problems] == [checks.MILESTONE_OUTSIDE_PROJECT.format(
        title="Too late", start="1 April 2027", end="31 March 2029")]


# Attachments are tested in test_attachments.py. Endorsement ---------------------------------------------


def test_endorsement_is_asked_of_the_named_commissioner_whose_members_are_told(world, draft):
    with pytest.raises(ValidationError) as error:
        services.bid_endorsement_request(actor=world.applicant, bid=draft)
    assert messages_of(error) == [services.ENDORSEMENT_NEEDS_COMMISSIONER]
    services.bid_partners_save(actor=world.applicant, bid=draft, version=0, commissioner=world.icb)
    services.bid_endorsement_request(actor=world.applicant, bid=draft)
    assert draft.endorsement_status == EndorsementStatus.PENDING
    assert Notification.objects.filter(user=world.commissioner, subject__contains="needs your endorsement").exists()
    assert not Notification.objects.filter(user=world.other_commissioner).exists()
    with pytest.raises(ValidationError):
        services.bid_endorsement_request(actor=world.applicant, bid=draft)


def test_only_the_named_commissioner_endorses_and_declining_needs_a_comment(world, draft):
    services.bid_partners_save(actor=world.applicant, bid=draft, version=0, commissioner=world.icb)
    services.bid_endorsement_request(actor=world.applicant, bid=draft)
    for outsider in (world.other_commissioner, world.applicant, world.manager):
        with pytest.raises(PermissionDenied):
            services.bid_endorse(actor=outsider, bid=draft)
    with pytest.raises(ValidationError) as error:
        services.bid_endorsement_decline(actor=world.commissioner, bid=draft, comment="  ")
    assert error.value.message_dict["comment"] == [services.DECLINE_NEEDS_COMMENT]
    services.bid_endorsement_decline(actor=world.commissioner, bid=draft, comment="Show the savings <b>without</b> beds.")
    assert draft.endorsement_status == EndorsementStatus.DECLINED
    assert checks.ENDORSEMENT_DECLINED in [p.message for p in checks.bid_problems(draft)]
    assert Notification.objects.filter(user=world.colleague, subject__contains="declined").exists()
    # They change the bid and ask again; this time it is endorsed.
    services.bid_endorsement_request(actor=world.applicant, bid=draft)
    services.bid_endorse(actor=world.commissioner, bid=draft, comment="")
    assert draft.endorsement_status == EndorsementStatus.ENDORSED
    assert draft.endorsed_by == world.commissioner
    actions = list(AuditEvent.objects.filter(target_id=str(draft.pk), action__startswith="bid.endorse")
                   .order_by("pk").values_list("action", flat=True))
    assert actions == ["bid.endorsement_requested", "bid.endorsement_declined", "bid.endorsement_requested", "bid.endorsed"]


# Submission ------------------------------------------------------------------------------------------------


def test_a_complete_endorsed_bid_submits_once_with_an_audit_event_and_an_email(
        world, ready, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        services.bid_submit(actor=world.applicant, bid=ready, declarations_confirmed=True)
    assert ready.status == BidStatus.SUBMITTED
    assert ready.submitted_by == world.applicant
    assert ready.declarations_accepted_at == ready.submitted_at
    assert ready.section_states.get(section=BidSection.DECLARATIONS).status == SectionStatus.COMPLETED
    assert AuditEvent.objects.filter(action="bid.submitted", target_id=str(ready.pk)).count() == 1
    receipts = [m for m in mailoutbox if m.to == [world.applicant.email]]
    assert len(receipts) == 1
    assert ready.reference in receipts[0].subject
    assert ready.reference in receipts[0].body
    # The call's fund manager hears of it too (the catalogue's "bid submitted"), once.
    assert [m.to for m in mailoutbox if m not in receipts] == [[world.manager.email]]
    with pytest.raises(ValidationError) as error:
        services.bid_submit(actor=world.applicant, bid=ready, declarations_confirmed=True)
    assert error.value.code == "already_submitted"
    assert AuditEvent.objects.filter(action="bid.submitted").count() == 1


def test_a_bid_cannot_be_submitted_until_the_commissioner_endorses_it(world):
    bid = fill_bid(world, start_bid(world), endorse=False)
    with pytest.raises(ValidationError) as error:
        services.bid_submit(actor=world.applicant, bid=bid, declarations_confirmed=True)
    assert messages_of(error) == [checks.ENDORSEMENT_NEEDED]
    assert Bid.objects.get(pk=bid.pk).status == BidStatus.DRAFT


def test_an_incomplete_bid_is_refused_with_everything_missing(world, draft):
    with pytest.raises(ValidationError) as error:
        services.bid_submit(actor=world.applicant, bid=draft, declarations_confirmed=True)
    assert checks.COSTS_MISSING in messages_of(error)
    assert checks.PARTNER_KIND_MISSING.format(role="commissioner") in messages_of(error)
    assert Bid.objects.get(pk=draft.pk).status == BidStatus.DRAFT


def test_the_declarations_must_be_confirmed(world, ready):
    with pytest.raises(ValidationError) as error:
        services.bid_submit(actor=world.applicant, bid=ready, declarations_confirmed=False)
    assert error.value.message_dict["declarations"] == [services.DECLARATIONS_NEEDED]


def test_the_closing_time_is_enforced_to_the_second(world, ready):
    closes = world.call.closes_at
    with pytest.raises(ValidationError) as error:
        services.bid_submit(actor=world.applicant, bid=ready, declarations_confirmed=True,
                            now=closes + dt.timedelta(seconds=1))
    assert messages_of(error) == [services.CALL_CLOSED_FOR_CHANGES.format(closed=checks.uk_datetime(closes))]
    assert Bid.objects.get(pk=ready.pk).status == BidStatus.DRAFT
    services.bid_submit(actor=world.applicant, bid=ready, declarations_confirmed=True, now=closes - dt.timedelta(seconds=1))
    assert ready.status == BidStatus.SUBMITTED


def test_a_submitted_bid_cannot_be_changed(world, ready):
    services.bid_submit(actor=world.applicant, bid=ready, declarations_confirmed=True)
    with pytest.raises(ValidationError) as error:
        services.bid_summary_save(actor=world.applicant, bid=ready, version=version(ready, BidSection.SUMMARY), title="New")
    assert messages_of(error) == [services.BID_LOCKED.format(status="submitted")]
    with pytest.raises(ValidationError):
        services.bid_costs_save(actor=world.applicant, bid=ready, version=version(ready, BidSection.COSTS),
                                costs=[cost(2027, "20000")])
    with pytest.raises(ValidationError):
        services.bid_partner_add(actor=world.applicant, bid=ready, organisation=world.other_org, role="academic",
                                 contribution="x")
    ready.refresh_from_db()
    assert ready.title == "Remote monitoring for frailty"
    assert bid_total_requested(ready) == Decimal("100000.00")


def test_withdrawal_is_possible_until_the_call_closes(world, ready):
    with pytest.raises(ValidationError) as error:
        services.bid_withdraw(actor=world.applicant, bid=ready)
    assert messages_of(error) == [services.WITHDRAW_ONLY_SUBMITTED]
    services.bid_submit(actor=world.applicant, bid=ready, declarations_confirmed=True)
    with pytest.raises(ValidationError) as error:
        services.bid_withdraw(actor=world.applicant, bid=ready, now=world.call.closes_at)
    assert "can no longer be withdrawn" in messages_of(error)[0]
    with pytest.raises(PermissionDenied):
        services.bid_withdraw(actor=world.other_applicant, bid=ready)
    services.bid_withdraw(actor=world.colleague, bid=ready)
    assert ready.status == BidStatus.WITHDRAWN
    assert ready.withdrawn_at is not None
    assert AuditEvent.objects.filter(action="bid.withdrawn").count() == 1


# Later transitions ----------------------------------------------------------------------------------------


def test_marking_ineligible_needs_a_reason_and_tells_the_applicants(world, ready):
    with pytest.raises(ValidationError) as error:
        services.bid_mark_ineligible(actor=world.manager, bid=ready, reason="Too early")
    assert messages_of(error) == [services.TRANSITION_NOT_ALLOWED % {"status": "draft", "action": "marked ineligible"}]
    services.bid_submit(actor=world.applicant, bid=ready, declarations_confirmed=True)
    with pytest.raises(ValidationError) as error:
        services.bid_mark_ineligible(actor=world.manager, bid=ready, reason=" ")
    assert error.value.message_dict["reason"] == [services.INELIGIBLE_REASON_NEEDED]
    services.bid_mark_ineligible(actor=world.manager, bid=ready, reason="The lead is not in the region.")
    assert ready.status == BidStatus.INELIGIBLE
    assert ready.ineligible_reason == "The lead is not in the region."
    assert Notification.objects.filter(user=world.applicant, body__contains="not in the region").exists()
    event = AuditEvent.objects.get(action="bid.marked_ineligible")
    assert event.before["status"] == "submitted"
    assert event.after["status"] == "ineligible"


def test_assessment_and_decisions_move_the_bid_on_in_order(world, ready):
    for transition in (services.bid_start_assessment, services.bid_mark_funded, services.bid_mark_not_funded):
        with pytest.raises(ValidationError):
            transition(actor=world.manager, bid=ready)
    services.bid_submit(actor=world.applicant, bid=ready, declarations_confirmed=True)
    with pytest.raises(ValidationError):
        services.bid_mark_funded(actor=world.manager, bid=ready)
    services.bid_start_assessment(actor=world.manager, bid=ready)
    assert ready.status == BidStatus.IN_ASSESSMENT
    services.bid_mark_funded(actor=world.manager, bid=ready)
    assert ready.status == BidStatus.FUNDED
    with pytest.raises(ValidationError):
        services.bid_mark_not_funded(actor=world.manager, bid=ready)
    assert list(AuditEvent.objects.filter(target_id=str(ready.pk), action__in=[
        "bid.submitted", "bid.assessment_started", "bid.funded"]).order_by("pk").values_list("action", flat=True)) == [
        "bid.submitted", "bid.assessment_started", "bid.funded"]


def test_a_bid_in_assessment_can_be_found_not_funded_or_ineligible(world, ready):
    services.bid_submit(actor=world.applicant, bid=ready, declarations_confirmed=True)
    services.bid_start_assessment(actor=world.manager, bid=ready)
    services.bid_mark_not_funded(actor=world.manager, bid=ready)
    assert ready.status == BidStatus.NOT_FUNDED
    with pytest.raises(ValidationError):
        services.bid_mark_ineligible(actor=world.manager, bid=ready, reason="Late finding")
