"""The audit trail in plain words: a catalogue of action labels, plain names for kinds of object,
before and after as a readable change list, every event filed by its call, bid and award, and
the filtered trail as CSV (only what the reader may see, no cell run as a formula)."""

import csv
import io

import pytest
from django.urls import reverse

from governance import audit
from governance.audit import action_label, audit_record, change_list, object_kind_label
from governance.forms import AuditFilterForm
from governance.models import AuditEvent
from governance.selectors import fund_audit_events, fund_audit_filter_options

pytestmark = pytest.mark.django_db


def test_actions_have_plain_words_and_unknown_ones_read_as_words():
    assert action_label("condition.evidence_submitted") == "Evidence submitted for a condition"
    assert action_label("instalment.paid") == "Payment recorded"
    assert action_label("widget.frobbed_twice") == "Widget frobbed twice"
    # Every action the services write has its words in the one catalogue.
    assert {"bid.submitted", "decision.recorded", "conflict.declared", "award.activated",
            "condition.schedule_changed", "return.approved"} <= set(audit.ACTION_LABELS)


def test_kinds_of_object_have_their_plain_names():
    assert object_kind_label("assessment.conflictdeclaration") == "Conflict declaration"
    assert object_kind_label("assessment.paneldecision") == "Panel decision"
    assert object_kind_label("awards.awardcondition") == "Award condition"
    assert object_kind_label("gone.thing") == "Thing"


def test_before_and_after_read_as_a_change_list_not_python():
    rows = change_list({"status": "offered", "amount": "100.00", "kept": 1},
                       {"status": "accepted", "amount": "100.00", "kept": 1, "profile": {"2027": "50.00"},
                        "accepted_at": "2026-12-04T10:00:00+00:00", "due_date": "2027-06-30"})
    assert [(r["field"], r["before"], r["after"]) for r in rows] == [
        ("Status", "offered", "accepted"),
        ("Profile", "(none)", "2027/28: 50.00"),
        ("Accepted at", "(none)", "4 December 2026, 10:00"),
        ("Due date", "(none)", "30 June 2027"),
    ]
    assert audit.change_text({"status": "open"}, {"status": "met"}) == "Status: open → met"


def test_the_filters_are_named_in_plain_english(world):
    audit_record(actor=world.people.manager, action="call.updated", target=world.call)
    options = fund_audit_filter_options(world.fund)
    assert ("call.updated", "Call details changed") in options["actions"]
    labels = dict(options["target_types"])
    assert labels["governance.call"] == "Call"
    form = AuditFilterForm(options=options)
    assert "reference" in form.fields


def test_every_event_is_filed_by_its_call_and_found_by_it(world, client):
    audit_record(actor=world.people.manager, action="call.updated", target=world.call, message="Call edited")
    criterion = world.call.criteria.first()
    audit_record(actor=world.people.manager, action="criterion.changed", target=criterion, message="Weight")
    audit_record(actor=world.people.manager, action="fund.updated", target=world.fund, message="Fund renamed")
    event = AuditEvent.objects.get(action="criterion.changed")
    assert (event.call_ref, event.bid_ref, event.award_ref) == (world.call.slug, None, None)
    found = fund_audit_events(world.people.manager, world.fund, reference=world.call.slug.upper())
    assert set(found.values_list("message", flat=True)) == {"Call edited", "Weight"}
    client.force_login(world.people.manager)
    page = client.get(reverse("governance:fund_audit", args=[world.fund.slug]), {"reference": world.call.slug})
    text = page.content.decode()
    assert "Criterion changed" in text
    assert "Fund renamed" not in text
    assert "<code>criterion.changed" not in text
    assert "· governance.criterion" not in text


def test_the_page_shows_words_and_a_change_list(world, client):
    audit_record(actor=world.people.manager, action="call.updated", target=world.call,
                 before={"title": "Old title"}, after={"title": "New title"})
    client.force_login(world.people.auditor)
    text = client.get(reverse("governance:fund_audit", args=[world.fund.slug])).content.decode()
    assert "Call details changed" in text
    assert "Old title → New title" in text
    assert "{&#x27;title&#x27;" not in text
    assert "{'title'" not in text


def test_the_csv_holds_the_filtered_trail_in_words_with_no_formula(world, client):
    audit_record(actor=world.people.manager, action="call.updated", target=world.call,
                 message="=HYPERLINK(\"http://example.com\")", before={"title": "A"}, after={"title": "=B"})
    audit_record(actor=world.people.manager, action="fund.updated", target=world.fund, message="Fund renamed")
    client.force_login(world.people.auditor)
    response = client.get(reverse("governance:fund_audit_csv", args=[world.fund.slug]),
                          {"action": "call.updated"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["When (UK time)", "Who", "What happened", "Action code"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["What happened"] == "Call details changed"
    assert row["Call"] == world.call.slug
    assert row["Message"].startswith("'=")
    assert row["Changes"] == "Title: A → =B"


@pytest.mark.parametrize("role", ["partner_manager", "other_manager", "applicant", "assessor", "chair"])
def test_the_csv_is_refused_to_anyone_who_may_not_read_the_trail(world, client, role):
    audit_record(actor=world.people.manager, action="fund.updated", target=world.fund, message="Fund renamed")
    client.force_login(getattr(world.people, role))
    response = client.get(reverse("governance:fund_audit_csv", args=[world.fund.slug]))
    assert response.status_code in (403, 404)
    assert b"Fund renamed" not in response.content


def test_a_draft_call_s_area_is_set_by_its_manager_and_made_up_values_refused(world):
    from django.core.exceptions import ValidationError

    from governance import services
    from governance.models import Region

    call = services.call_update(actor=world.people.manager, call=world.call, eligible_regions=[Region.SOUTH_WEST],
                                eligible_networks=[world.host.pk])
    call.refresh_from_db()
    assert call.eligible_area_labels == ["the South West region", f"the area of {world.host.name}"]
    with pytest.raises(ValidationError) as exc:
        services.call_update(actor=world.people.manager, call=world.call, eligible_regions=["Atlantis"],
                             eligible_networks=[world.trust.pk])
    assert exc.value.message_dict["eligible_regions"] == [services.NOT_A_CHOICE]
    assert exc.value.message_dict["eligible_networks"] == [services.NOT_A_CHOICE]
