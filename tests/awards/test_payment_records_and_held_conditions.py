"""Recording payments (date, amount, finance reference, who) with a remittance for the grantee;
conditions with their own due dates that hold back one payment and those after it; the next step
and the actions a fund manager is offered only when they can work."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from awards import services
from awards.models import InstalmentStatus, LedgerEntryKind, PotLedgerEntry
from awards.selectors import awards_waiting_to_start, conditions_holding_back, manager_to_do
from awards.visibility import remittance
from governance.models import AuditEvent, Notification
from tests.awards.conftest import accept, accept_and_start, first_award_year, issue

pytestmark = pytest.mark.django_db


def _instalments(award):
    return list(award.instalments.order_by("financial_year", "quarter"))


def _released_first(world, award=None):
    award = award or accept_and_start(world, issue(world))
    first = services.instalment_release(actor=world.manager, instalment=_instalments(award)[0])
    return award, first


# Recording a payment ---------------------------------------------------------------------------


def test_a_payment_records_its_day_amount_reference_and_who_and_the_grantee_is_sent_the_remittance(world):
    award, first = _released_first(world)
    today = timezone.localdate()
    paid = services.instalment_mark_paid(actor=world.manager, instalment=first, paid_on=today,
                                         amount=first.amount, reference=" AP-2026-004512 ")
    assert (paid.status, paid.paid_on, paid.paid_amount, paid.payment_reference, paid.paid_by) == (
        InstalmentStatus.PAID, today, first.amount, "AP-2026-004512", world.manager)
    entry = PotLedgerEntry.objects.get(award=award, kind=LedgerEntryKind.PAYMENT)
    assert entry.amount == first.amount
    assert "AP-2026-004512" in entry.note
    event = AuditEvent.objects.get(action="instalment.paid")
    assert event.actor == world.manager
    assert event.after["payment_reference"] == "AP-2026-004512"
    assert event.award_ref == award.reference
    notice = Notification.objects.get(user=world.signatory, subject=f"Payment made: {award.reference}")
    assert "AP-2026-004512" in notice.body
    assert today.strftime("%-d %B %Y") in notice.body
    assert not Notification.objects.filter(user=world.outsider, subject__startswith="Payment made").exists()


def test_a_different_amount_needs_its_reason_and_the_ledger_holds_what_was_paid(world):
    award, first = _released_first(world)
    less = first.amount - Decimal("100.00")
    with pytest.raises(ValidationError) as exc:
        services.instalment_mark_paid(actor=world.manager, instalment=first, amount=less, reference="AP-1")
    assert exc.value.message_dict == {"note": [services.PAID_AMOUNT_DIFFERS % {"amount": f"£{first.amount:,.2f}"}]}
    paid = services.instalment_mark_paid(actor=world.manager, instalment=first, amount=less, reference="AP-1",
                                         note="£100 withheld against an invoice query")
    assert paid.paid_amount == less
    assert paid.payment_note == "£100 withheld against an invoice query"
    assert PotLedgerEntry.objects.get(award=award, kind=LedgerEntryKind.PAYMENT).amount == less


@pytest.mark.parametrize(("kwargs", "field", "message"), [
    ({"paid_on": "tomorrow"}, "paid_on", services.PAID_ON_FUTURE),
    ({"paid_on": "before release"}, "paid_on", None),
    ({"amount": Decimal("-5.00")}, "amount", services.PAID_AMOUNT_NOT_POSITIVE),
    ({"amount": Decimal("0")}, "amount", services.PAID_AMOUNT_NOT_POSITIVE),
    ({"amount": Decimal("999999999.00"), "note": "typo"}, "amount", None),
    ({"reference": ""}, "reference", services.PAYMENT_REFERENCE_MISSING),
    ({"reference": "=HYPERLINK(\"http://x\")"}, "reference", services.PAYMENT_REFERENCE_INVALID),
    ({"reference": "x" * 41}, "reference", services.PAYMENT_REFERENCE_INVALID),
])
def test_bad_payment_details_are_refused_next_to_their_field_and_nothing_changes(world, kwargs, field, message):
    award, first = _released_first(world)
    kwargs = {"reference": "AP-1", **kwargs}
    today = timezone.localdate()
    if kwargs.get("paid_on") == "tomorrow":
        kwargs["paid_on"] = today + dt.timedelta(days=1)
    elif kwargs.get("paid_on") == "before release":
        kwargs["paid_on"] = today - dt.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        services.instalment_mark_paid(actor=world.manager, instalment=first, **kwargs)
    assert list(exc.value.message_dict) == [field]
    if message:
        assert exc.value.message_dict[field] == [message]
    first.refresh_from_db()
    assert first.status == InstalmentStatus.RELEASED
    assert first.payment_reference == ""
    assert not PotLedgerEntry.objects.filter(award=award, kind=LedgerEntryKind.PAYMENT).exists()


def test_the_remittance_is_seen_by_the_awards_private_audience_only(world):
    award, first = _released_first(world)
    paid = services.instalment_mark_paid(actor=world.manager, instalment=first, reference="AP-77")
    grantee_view = remittance(world.member, paid)
    assert grantee_view["payment_reference"] == "AP-77"
    assert grantee_view["recorded_by"] == ""
    assert remittance(world.manager, paid)["recorded_by"] == world.manager.full_name
    assert remittance(world.outsider, paid) is None
    assert remittance(world.member, _instalments(award)[1]) is None  # not paid yet


# Conditions: due dates and the payment they hold back ------------------------------------------------


def test_a_condition_holds_back_only_its_payment_and_later_ones(world):
    y = first_award_year()
    award = issue(world, conditions=[
        services.ConditionSpec("Evaluation plan agreed", "", (y, 3), timezone.localdate() + dt.timedelta(days=90)),
        services.ConditionSpec("Named clinical lead", "", services.NO_PAYMENT),
    ])
    plan, lead = award.conditions.order_by("pk")
    assert (plan.holds_back.financial_year, plan.holds_back.quarter) == (y, 3)
    assert plan.due_date == timezone.localdate() + dt.timedelta(days=90)
    assert lead.holds_back is None
    # Nothing holds back the first payment, so the award starts with both conditions open.
    award = services.award_activate(actor=world.manager, award=accept(world, award))
    first, second, third, fourth = _instalments(award)[:4]
    services.instalment_release(actor=world.manager, instalment=first)
    assert not conditions_holding_back(second).exists()
    assert list(conditions_holding_back(third)) == [plan] == list(conditions_holding_back(fourth))
    third_blocker = services.release_blocker(third)
    assert third_blocker.messages == [services.CONDITIONS_HOLD_BACK % {
        "count": 1, "plural": "", "titles": "\u201cEvaluation plan agreed\u201d"}]
    services.condition_waive(actor=world.manager, condition=plan, note="Plan agreed at the kick-off meeting")
    assert not conditions_holding_back(fourth).exists()


def test_the_issue_refuses_a_payment_the_award_does_not_have_and_a_past_due_date(world):
    with pytest.raises(ValidationError) as exc:
        issue(world, conditions=[
            services.ConditionSpec("DPIA", "", (2040, 1)),
            services.ConditionSpec("DTAC", "", services.FIRST_PAYMENT, timezone.localdate() - dt.timedelta(days=1)),
        ])
    assert exc.value.message_dict["conditions"] == [
        services.CONDITION_PAYMENT_UNKNOWN % {"title": "DPIA"}, services.CONDITION_DUE_PAST % {"title": "DTAC"}]


def test_a_manager_changes_a_conditions_due_date_and_payment_and_it_is_audited(world):
    y = first_award_year()
    award = issue(world, conditions=[services.ConditionSpec("DPIA completed")])
    condition = award.conditions.get()
    assert condition.holds_back == _instalments(award)[0]
    due = timezone.localdate() + dt.timedelta(days=60)
    condition = services.condition_schedule_set(actor=world.manager, condition=condition, due_date=due,
                                                holds_back=f"{y}-2")
    assert (condition.due_date, condition.holds_back.quarter) == (due, 2)
    event = AuditEvent.objects.get(action="condition.schedule_changed")
    assert event.after["holds_back"] == f"the {condition.holds_back.label} payment"
    assert event.award_ref == award.reference
    condition = services.condition_schedule_set(actor=world.manager, condition=condition, due_date=None,
                                                holds_back=services.NO_PAYMENT)
    assert condition.holds_back is None
    with pytest.raises(ValidationError) as exc:
        services.condition_schedule_set(actor=world.manager, condition=condition,
                                        due_date=timezone.localdate() - dt.timedelta(days=1), holds_back="none")
    assert list(exc.value.message_dict) == ["due_date"]
    with pytest.raises(PermissionDenied):
        services.condition_schedule_set(actor=world.member, condition=condition, due_date=None, holds_back="none")


def test_a_paid_instalment_cannot_be_held_back(world):
    award, first = _released_first(world)
    condition = award.conditions.create(title="Late condition")
    with pytest.raises(ValidationError) as exc:
        services.condition_schedule_set(actor=world.manager, condition=condition, due_date=None,
                                        holds_back=f"{first.financial_year}-{first.quarter}")
    assert exc.value.message_dict["holds_back"] == [services.CONDITION_PAYMENT_PAID % {"label": first.label}]


# The next step and the to-do list ------------------------------------------------------------------


def test_accepted_awards_wait_to_be_started_on_the_managers_to_do_list(world):
    world.decision.conditions = ["DPIA completed"]
    world.decision.save()
    award = accept(world, issue(world))
    assert list(awards_waiting_to_start(world.manager)) == [award]
    assert manager_to_do(world.manager).awards_to_start == 1
    assert manager_to_do(world.other_manager).awards_to_start == 0
    for condition in award.conditions.all():
        services.condition_waive(actor=world.manager, condition=condition, note="Not needed")
    services.award_activate(actor=world.manager, award=award)
    assert manager_to_do(world.manager).awards_to_start == 0


def test_the_award_page_shows_the_next_step_and_the_dashboard_the_awards_to_start(client, world):
    world.decision.conditions = ["DPIA completed"]
    world.decision.save()
    award = accept(world, issue(world))
    client.force_login(world.manager)
    page = client.get(award.get_absolute_url()).content.decode()
    assert "Next step" in page
    assert "holding back the first payment" in page
    for condition in award.conditions.all():
        services.condition_waive(actor=world.manager, condition=condition, note="Not needed")
    page = client.get(award.get_absolute_url()).content.decode()
    assert reverse("awards:award_status", args=[award.reference, "activate"]) in page
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Accepted awards waiting to be started</a>: 1" in dashboard
    client.force_login(world.member)
    assert "Next step" not in client.get(award.get_absolute_url()).content.decode()


def test_the_award_page_offers_release_only_when_possible_and_says_what_the_rest_wait_for(client, world):
    award, first = _released_first(world)
    client.force_login(world.manager)
    page = client.get(award.get_absolute_url()).content.decode()
    second = _instalments(award)[1]
    assert reverse("awards:instalment_release", args=[award.reference, second.pk]) not in page
    assert "waits for a monitoring return" in page
    assert reverse("awards:instalment_pay", args=[award.reference, first.pk]) in page
    # The server still refuses.
    client.post(reverse("awards:instalment_release", args=[award.reference, second.pk]))
    second.refresh_from_db()
    assert second.status == InstalmentStatus.SCHEDULED


def test_recording_a_payment_through_the_page_shows_the_remittance_to_the_grantee(client, world):
    award, first = _released_first(world)
    client.force_login(world.manager)
    url = reverse("awards:instalment_pay", args=[award.reference, first.pk])
    form = client.get(url)
    assert form.status_code == 200
    assert b"Finance system payment reference" in form.content
    bad = client.post(url, {"paid_on_day": "1", "paid_on_month": "1", "paid_on_year": "2090", "amount": "-3",
                            "reference": "", "note": ""})
    assert bad.status_code == 200
    assert bad.content.decode().count("nhsuk-error-message") >= 2
    first.refresh_from_db()
    assert first.status == InstalmentStatus.RELEASED
    today = timezone.localdate()
    done = client.post(url, {"paid_on_day": today.day, "paid_on_month": today.month, "paid_on_year": today.year,
                             "amount": str(first.amount), "reference": "AP-2026-0099", "note": ""})
    assert done.status_code == 302
    client.force_login(world.member)
    page = client.get(award.get_absolute_url()).content.decode()
    assert "AP-2026-0099" in page
    rows = list(csv.reader(io.StringIO(client.get(reverse("awards:payments_csv", args=[award.reference]))
                                       .content.decode())))
    assert rows[1][7] == "AP-2026-0099"
    assert rows[1][6] == str(first.amount)


def test_the_payments_csv_never_lets_a_cell_run_as_a_formula(client, world):
    award, first = _released_first(world)
    services.instalment_mark_paid(actor=world.manager, instalment=first, amount=first.amount - 1, reference="AP-3",
                                  note="=cmd|' /C calc'!A0")
    client.force_login(world.manager)
    rows = list(csv.reader(io.StringIO(client.get(reverse("awards:payments_csv", args=[award.reference]))
                                       .content.decode())))
    assert rows[1][8].startswith("'=")


def test_the_condition_page_sets_its_payment_and_due_date(client, world):
    award = issue(world, conditions=[services.ConditionSpec("DPIA completed")])
    condition = award.conditions.get()
    client.force_login(world.manager)
    url = reverse("awards:condition_schedule", args=[award.reference, condition.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"due_date_day": "1", "due_date_month": "1", "due_date_year": "2020", "holds_back": "none"})
    assert response.status_code == 200
    assert b"nhsuk-error-message" in response.content
    due = timezone.localdate() + dt.timedelta(days=30)
    response = client.post(url, {"due_date_day": due.day, "due_date_month": due.month, "due_date_year": due.year,
                                 "holds_back": "none"})
    assert response.status_code == 302
    condition.refresh_from_db()
    assert (condition.due_date, condition.holds_back) == (due, None)
    page = client.get(award.get_absolute_url()).content.decode()
    assert f"Holds back no payment; due by {due:%-d %B %Y}" in page


def test_conditions_hold_back_the_first_payment_or_none_from_the_issue_form(world):
    from awards.forms import AwardIssueForm

    form = AwardIssueForm(decision=world.decision)
    assert "conditions_hold_back" in form.fields
    assert "conditions_due_date" in form.fields
    world.decision.conditions = ["DPIA completed"]
    world.decision.save()
    award = accept_and_start(world, issue(world))  # the decision's condition holds back the first payment
    assert [c.holds_back for c in award.conditions.all()] == [_instalments(award)[0]]


# The audit trail files an award's events under it ------------------------------------------------


def test_filtering_the_trail_by_an_awards_reference_finds_its_condition_and_payment_events(world):
    from governance.selectors import fund_audit_events

    world.decision.conditions = ["DPIA completed"]
    world.decision.save()
    award, first = _released_first(world)
    actions = set(fund_audit_events(world.manager, world.fund, reference=award.reference.lower())
                  .values_list("action", flat=True))
    assert {"award.issued", "condition.evidence_submitted", "condition.met", "instalment.released"} <= actions
    assert not fund_audit_events(world.manager, world.fund, reference="NO-SUCH-REF").exists()


def test_events_written_before_the_references_were_kept_are_filed_by_the_migration(world):
    import importlib

    from django.apps import apps

    from governance.audit import SYSTEM_ACTOR_LABEL

    award = issue(world, conditions=[services.ConditionSpec("DPIA completed")])
    condition = award.conditions.get()
    old = AuditEvent.objects.create(actor_label=SYSTEM_ACTOR_LABEL, action="condition.met",
                                    target_type="awards.awardcondition", target_id=str(condition.pk),
                                    target_label=condition.title, fund=world.fund)
    assert old.award_ref is None
    migration = importlib.import_module(
        "governance.migrations.0013_audit_events_filed_by_call_bid_and_award_and_call_areas")
    migration.backfill(apps, None)
    old.refresh_from_db()
    assert (old.award_ref, old.bid_ref, old.call_ref) == (award.reference, award.bid.reference, award.bid.call.slug)
