"""Status tags: one declaration per kind of state, beside its enum; one template tag shows them."""

import pytest
from django.template import Context, Template

from applications.models import BidStatus, EndorsementStatus, EoiStatus, SectionStatus
from assessment.models import (
    AssignmentStatus,
    DecisionOutcome,
    InvitationStatus,
    PackStatus,
    SheetStatus,
)
from awards.models import AwardStatus, ConditionStatus, DocumentStatus
from governance.models import CallStatus
from governance.status_tags import status_tags, tag_kind, tag_parts
from governance.uploads import ScanStatus
from reporting.models import RAG, ReturnStatus

ENUMS = {
    "call": CallStatus, "bid": BidStatus, "assignment": AssignmentStatus, "decision": DecisionOutcome,
    "award": AwardStatus, "condition": ConditionStatus, "document": DocumentStatus, "return": ReturnStatus,
    "rag": RAG, "endorsement": EndorsementStatus, "eoi": EoiStatus, "section": SectionStatus,
    "invitation": InvitationStatus, "pack": PackStatus, "sheet": SheetStatus, "scan": ScanStatus,
}


@pytest.mark.parametrize("kind", sorted(ENUMS))
def test_every_value_of_every_status_has_a_colour_and_words(kind):
    declared = tag_kind(kind)
    for value in ENUMS[kind].values:
        colour, words = tag_parts(kind, value)
        assert colour == declared.colours[value]
        assert words  # never colour alone
    assert declared.values == frozenset(ENUMS[kind].values)


def test_a_status_without_a_colour_cannot_be_declared():
    with pytest.raises(ValueError, match="no colour for"):
        status_tags("test-missing", AwardStatus, colours={AwardStatus.ACTIVE: "green"})
    with pytest.raises(ValueError, match="colours NHS.UK does not have"):
        status_tags("test-colour", RAG, colours={RAG.RED: "crimson", RAG.AMBER: "yellow", RAG.GREEN: "green"})


def test_the_template_tag_renders_the_declared_tag_and_escapes_text():
    template = Template('{% status_tag "bid" status %}|{% status_tag "call" phase %}|{% status_tag "rag" none %}|'
                        '{% status_tag "bid" odd %}')
    html = template.render(Context({"status": BidStatus.FUNDED, "phase": "upcoming", "none": None,
                                    "odd": "<script>x</script>"}))
    assert html.split("|") == [
        '<strong class="nhsuk-tag nhsuk-tag--green">Funded</strong>',
        '<strong class="nhsuk-tag nhsuk-tag--blue">Opening soon</strong>',
        '<strong class="nhsuk-tag nhsuk-tag--white">Not reported</strong>',
        # A value nobody declared is shown plainly, grey and escaped, not as an error page.
        '<strong class="nhsuk-tag nhsuk-tag--grey">&lt;script&gt;x&lt;/script&gt;</strong>',
    ]


class _Return:
    def __init__(self, status, overdue=False):
        self.status, self.overdue = status, overdue


class _Version:
    def __init__(self, published_at=None, unpublished_at=None):
        self.published_at, self.unpublished_at = published_at, unpublished_at

    @property
    def is_public(self):
        return self.published_at is not None and self.unpublished_at is None


def test_kinds_that_work_out_their_state_from_the_object():
    assert tag_parts("return", _Return(ReturnStatus.OPEN, overdue=True)) == ("red", "Overdue")
    assert tag_parts("return", _Return(ReturnStatus.APPROVED)) == ("green", "Approved")
    assert tag_parts("publication", _Version(published_at=1)) == ("aqua-green", "Published")
    assert tag_parts("publication", _Version(published_at=1, unpublished_at=2)) == ("orange", "Withdrawn")
    assert tag_parts("publication", _Version()) == ("white", "Not published")


@pytest.mark.django_db
def test_an_assignment_tag_follows_its_score_sheet():
    from tests.factories.assessment import AssignmentFactory

    assignment = AssignmentFactory(status=AssignmentStatus.AWAITING_DECLARATION)
    assert tag_parts("assignment", assignment) == ("blue", "Declaration needed")
    assignment.status = AssignmentStatus.ACTIVE
    assert tag_parts("assignment", assignment) == ("white", "Not started")
    from tests.factories.assessment import ScoreSheetFactory

    ScoreSheetFactory(assignment=assignment)
    assignment.refresh_from_db()
    assignment.status = AssignmentStatus.ACTIVE
    assert tag_parts("assignment", assignment) == ("yellow", "Scoring")
    assignment.sheet.status = "submitted"
    assert tag_parts("assignment", assignment) == ("green", "Submitted")
    assignment.status = AssignmentStatus.CONFLICTED
    assert tag_parts("assignment", assignment) == ("red", "Conflict declared")


def test_a_state_that_needs_no_colour_is_shown_as_plain_text():
    html = Template('{% status_tag "section" "completed" %}').render(Context())
    assert html == ('<strong class="nhsuk-tag nhsuk-tag--no-colour nhsuk-tag--no-border nhsuk-u-font-weight-normal">'
                    "Completed</strong>")


@pytest.mark.parametrize(("published", "answered", "expected"), [
    (True, True, ("green", "Published")), (False, True, ("blue", "Answered, not published")),
    (False, False, ("grey", "Waiting")),
])
def test_a_call_question_is_tagged_by_where_its_answer_is(published, answered, expected):
    class _Question:
        published_at = 1 if published else None
        answered_at = 1 if answered else None

    assert tag_parts("question", _Question()) == expected


@pytest.mark.parametrize(("kind", "values"), [
    ("funding_line", ["gateway_not_met", "above", "below"]), ("declaration", ["current", "lapsed", "not_made"]),
    ("clarification", ["waiting", "no_reply"]), ("sign_off", ["signed", "not_signed"]),
    ("call_task", ["incomplete", "complete"]),
])
def test_states_worked_out_on_a_page_have_their_own_colour_and_words(kind, values):
    declared = tag_kind(kind)
    for value in values:
        colour, words = tag_parts(kind, value)
        assert colour == declared.colours[value]
        assert words == declared.labels[value]
