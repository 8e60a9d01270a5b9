"""Clarification questions in assessment: an assessor or the chair asks, the applicant replies
(with a file through the upload pipeline), the panel reads the reply with the bid, anyone
conflicted never sees either, and score sheets wait for the reply or the reply-by date."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from assessment import services, visibility
from assessment.models import Clarification, SheetStatus
from governance.models import AuditEvent, Notification
from tests.applications.conftest import EXE_BYTES, PDF_BYTES, upload
from tests.assessment.conftest import assign, declare_none, scores_for
from tests.conftest import SignedInClient as Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(world):
    """The first bid, assessed by Anna (no conflict); Cara was assigned too but declared a conflict."""
    bid = world.bids[0]
    assignment = declare_none(assign(world, bid, world.assessor))
    conflicted = assign(world, bid, world.assessor_c)
    services.conflict_declare(actor=world.assessor_c, assignment=conflicted, has_conflict=True, kind="personal",
                              description="My sister leads the project.")
    return bid, assignment


def ask(world, bid, actor=None, days=7, question="How many patients a year will the hub see?"):
    return services.clarification_ask(actor=actor or world.assessor, bid=bid, question=question,
                                      reply_by=timezone.localdate() + dt.timedelta(days=days))


def test_an_assessor_asks_and_the_applicant_is_told_and_it_is_audited(world, scene):
    bid, _ = scene
    clarification = ask(world, bid)
    assert clarification.asked_by == world.assessor
    event = AuditEvent.objects.get(action="clarification.asked")
    assert (event.actor, event.after["question"]) == (world.assessor, clarification.question)
    assert Notification.objects.filter(user=world.applicant, subject__contains=bid.reference).exists()


def test_the_chair_may_ask_too(world, scene):
    bid, _ = scene
    assert ask(world, bid, actor=world.chair).asked_by == world.chair


@pytest.mark.parametrize("who", ["insider", "assessor_b", "lay", "applicant", "manager", "auditor", "commissioner"])
def test_nobody_else_may_ask(world, scene, who):
    bid, _ = scene
    if who == "insider":  # assigned, but conflicted: works for the lead organisation
        from assessment.models import Assignment

        Assignment.objects.create(bid=bid, assessor=world.insider, assigned_by=world.manager)
    with pytest.raises(PermissionDenied):
        ask(world, bid, actor=getattr(world, who))
    assert not Clarification.objects.exists()


def test_bad_questions_are_refused_next_to_the_field(world, scene):
    bid, _ = scene
    with pytest.raises(ValidationError) as error:
        services.clarification_ask(actor=world.assessor, bid=bid, question=" ", reply_by=None)
    assert error.value.message_dict == {"question": [services.QUESTION_NEEDED], "reply_by": [services.REPLY_BY_NEEDED]}
    with pytest.raises(ValidationError) as error:
        ask(world, bid, days=-1)
    assert error.value.message_dict == {"reply_by": [services.REPLY_BY_IN_PAST]}
    with pytest.raises(ValidationError) as error:
        ask(world, bid, days=70)
    assert error.value.message_dict == {"reply_by": [services.REPLY_BY_TOO_LATE]}
    assert not Clarification.objects.exists()


def test_scores_wait_for_the_reply_then_can_be_submitted(world, scene):
    bid, assignment = scene
    clarification = ask(world, bid)
    with pytest.raises(ValidationError) as error:
        services.score_sheet_submit(actor=world.assessor, assignment=assignment, scores=scores_for(world, [3, 3]))
    assert "clarification" in error.value.messages[0]
    # A draft can be saved meanwhile.
    services.score_sheet_save(actor=world.assessor, assignment=assignment, scores=scores_for(world, [3, 3]))
    services.clarification_reply(actor=world.applicant, clarification=clarification, reply="About 400 a year.",
                                 upload=upload("figures.pdf", PDF_BYTES))
    sheet = services.score_sheet_submit(actor=world.assessor, assignment=assignment, scores=scores_for(world, [3, 3]))
    assert sheet.status == SheetStatus.SUBMITTED
    event = AuditEvent.objects.get(action="clarification.answered")
    assert (event.actor, event.after["reply"], event.after["file"]) == (world.applicant, "About 400 a year.", "figures.pdf")
    assert Notification.objects.filter(user=world.assessor, subject__startswith="The applicant has replied").exists()


def test_scores_can_be_submitted_once_the_reply_by_date_passes_and_a_late_reply_is_refused(world, scene):
    bid, assignment = scene
    clarification = ask(world, bid, days=2)
    with time_machine.travel(timezone.now() + dt.timedelta(days=3), tick=False):
        services.score_sheet_submit(actor=world.assessor, assignment=assignment, scores=scores_for(world, [2, 4]))
        with pytest.raises(ValidationError, match="has passed"):
            services.clarification_reply(actor=world.applicant, clarification=clarification, reply="Sorry, late.")


def test_only_the_applicants_organisation_replies_once_with_text_and_a_safe_file(world, scene):
    bid, _ = scene
    clarification = ask(world, bid)
    for who in (world.other_applicant, world.assessor, world.manager, world.commissioner):
        with pytest.raises(PermissionDenied):
            services.clarification_reply(actor=who, clarification=clarification, reply="Not mine to answer")
    with pytest.raises(ValidationError) as error:
        services.clarification_reply(actor=world.applicant, clarification=clarification, reply="",
                                     upload=upload("run.pdf", EXE_BYTES))
    assert set(error.value.message_dict) == {"reply", "attachment"}
    services.clarification_reply(actor=world.applicant, clarification=clarification, reply="400 a year.")
    with pytest.raises(ValidationError, match=services.ALREADY_REPLIED):
        services.clarification_reply(actor=world.applicant, clarification=clarification, reply="Again")


def test_a_conflicted_assessor_never_sees_the_question_or_the_reply(world, scene, client):
    bid, _ = scene
    clarification = ask(world, bid)
    services.clarification_reply(actor=world.applicant, clarification=clarification, reply="Secret figures.",
                                 upload=upload("figures.pdf", PDF_BYTES))
    assert not visibility.clarifications_visible_to(world.assessor_c, bid).exists()
    assert visibility.clarifications_visible_to(world.assessor, bid).count() == 1
    assert visibility.clarifications_visible_to(world.applicant, bid).count() == 1
    assert visibility.clarifications_visible_to(world.manager, bid).count() == 1
    assert not visibility.clarifications_visible_to(world.other_applicant, bid).exists()
    assert not visibility.clarifications_visible_to(world.assessor_b, bid).exists()  # not assigned
    client.force_login(world.assessor_c)
    assert client.get(f"/assessment/clarifications/{clarification.pk}/file/").status_code == 404
    assert client.get(f"/bids/{bid.pk}/").status_code == 404


ROLES = ["anonymous", "assessor", "chair", "assessor_c", "assessor_b", "applicant", "other_applicant", "manager", "auditor"]


def _statuses(world, method, path):
    got = {}
    for role in ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(getattr(world, role))
        got[role] = getattr(client, method)(path, {}).status_code
    return got


PAGES = [
    ("clarification_ask", "get", "/assessment/bids/{bid}/clarifications/new/",
     {"assessor": 200, "chair": 200, "assessor_c": 404, "assessor_b": 404, "applicant": 404, "other_applicant": 404,
      "manager": 404, "auditor": 404}),
    ("clarification_ask_post", "post", "/assessment/bids/{bid}/clarifications/new/",
     {"assessor": 400, "chair": 400, "assessor_c": 404, "assessor_b": 404, "applicant": 404, "other_applicant": 404,
      "manager": 404, "auditor": 404}),
    ("clarification_reply", "get", "/assessment/clarifications/{c}/reply/",
     {"assessor": 403, "chair": 403, "assessor_c": 404, "assessor_b": 404, "applicant": 200, "other_applicant": 404,
      "manager": 403, "auditor": 403}),
    ("clarification_reply_post", "post", "/assessment/clarifications/{c}/reply/",
     {"assessor": 403, "chair": 403, "assessor_c": 404, "assessor_b": 404, "applicant": 400, "other_applicant": 404,
      "manager": 403, "auditor": 403}),
    ("clarification_file", "get", "/assessment/clarifications/{c}/file/",
     {"assessor": 200, "chair": 200, "assessor_c": 404, "assessor_b": 404, "applicant": 200, "other_applicant": 404,
      "manager": 200, "auditor": 200}),
]


@pytest.mark.parametrize(("name", "method", "template", "expected"), PAGES, ids=[p[0] for p in PAGES])
def test_who_may_open_the_clarification_pages(world, scene, name, method, template, expected):
    bid, _ = scene
    clarification = ask(world, bid)
    if name == "clarification_file":
        services.clarification_reply(actor=world.applicant, clarification=clarification, reply="Figures attached.",
                                     upload=upload("figures.pdf", PDF_BYTES))
    got = _statuses(world, method, template.format(bid=bid.pk, c=clarification.pk))
    assert got == {"anonymous": 302, **expected}
    assert Clarification.objects.count() == 1  # an empty question adds nothing, for anyone


def test_the_score_sheet_says_it_is_waiting_and_the_applicant_replies_on_the_bid_page(world, scene, client):
    bid, assignment = scene
    clarification = ask(world, bid)
    client.force_login(world.assessor)
    page = client.get(f"/assessment/assignments/{assignment.pk}/sheet/").content.decode()
    assert "Waiting for a clarification" in page
    response = client.post(f"/assessment/assignments/{assignment.pk}/sheet/", {"action": "submit"})
    assert "clarification" in response.content.decode()
    client.force_login(world.applicant)
    page = client.get(f"/bids/{bid.pk}/").content.decode()
    assert clarification.question in page
    assert "Reply to the question" in page
    response = client.post(f"/assessment/clarifications/{clarification.pk}/reply/", {"reply": "About 400 a year."})
    assert response.status_code == 302
    client.force_login(world.assessor)
    page = client.get(f"/assessment/assignments/{assignment.pk}/sheet/").content.decode()
    assert "About 400 a year." in page
    assert "Waiting for a clarification" not in page
