"""From a closed call to the applicant reading their feedback.

Given a closed call with a submitted bid, when the fund manager starts assessment and assigns
assessors automatically, then the two free assessors are given the bid (never the one who
works for the bidding trust); when each declares no conflict and scores it, then the assessors'
disagreement is flagged; when the chair moderates it and records the decision, and the fund
manager releases the decisions, then the applicant reads their scores and the assessors'
comments, without names. Every page passes the accessibility check.
"""

import re

import pytest
from playwright.sync_api import expect

from applications.models import BidStatus
from assessment.models import Assignment, PanelDecision
from governance.models import CallStatus
from tests.assessment.conftest import make_world
from tests.e2e.conftest import check_accessibility

pytestmark = pytest.mark.django_db(transaction=True)


def _sign_in_as(page, sign_in, user):
    page.context.clear_cookies()
    sign_in(user)


def _score(page, criteria, values, comments):
    for criterion, value, comment in zip(criteria, values, comments, strict=True):
        page.locator(f"#id_score_{criterion.pk}_{value - criterion.scale_min}").check()
        page.locator(f"#id_comment_{criterion.pk}").fill(comment)


def test_a_bid_is_assigned_declared_scored_moderated_decided_released_and_fed_back(page, live_server, sign_in):
    # Given a closed call with one submitted bid, and a panel with an assessor who works for the bidder
    world = make_world(bids=0, status=CallStatus.CLOSED, assessors_per_bid=2)
    bid = world.new_bid(status=BidStatus.SUBMITTED)
    first, second = world.criteria
    base = live_server.url

    # When the fund manager starts assessment from their dashboard
    sign_in(world.manager)
    page.goto(base + "/dashboard/")
    panel = page.locator("section", has=page.get_by_role("heading", name="Calls in assessment"))
    expect(panel).to_contain_text("start assessment")
    check_accessibility(page)
    panel.get_by_role("link", name=world.call.title).click()
    expect(page.locator("h1")).to_have_text(world.call.title)
    expect(page.locator("main")).to_contain_text("The call has closed with 1 submitted bid")
    check_accessibility(page)
    page.get_by_role("button", name="Start assessment").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("Assessment has started")
    check_accessibility(page)

    # And assigns assessors automatically
    page.get_by_role("button", name="Assign assessors automatically").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("2 assignments made.")
    check_accessibility(page)
    # Then the two least-loaded free assessors have the bid; the insider is never given it
    assert set(Assignment.objects.filter(bid=bid).values_list("assessor__full_name", flat=True)) == {
        "Anna Assessor", "Ben Assessor"}
    row = page.locator(f"#bid-{bid.pk}")
    expect(row).to_contain_text("Anna Assessor")
    expect(row).not_to_contain_text("Ian Insider")

    # When the first assessor opens the bid from their dashboard, they must declare first
    _sign_in_as(page, sign_in, world.assessor)
    page.goto(base + "/dashboard/")
    expect(page.get_by_role("heading", name="Bids to assess")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name=bid.title).click()
    expect(page.locator("h1")).to_have_text("Declare any conflict of interest")
    expect(page.locator("main")).not_to_contain_text(bid.summary)
    check_accessibility(page)
    page.get_by_role("button", name="Make the declaration").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator("#id_has_conflict-error")).to_contain_text("Say whether you have a conflict of interest")
    check_accessibility(page)
    page.get_by_label("No, I have no conflict of interest with this bid").check()
    page.get_by_role("button", name="Make the declaration").click()

    # Then the score sheet shows the bid beside each criterion; a draft saves, a score off the
    # scale cannot be sent, and a submission without every comment is refused next to the box
    expect(page.locator("h1")).to_contain_text("Score this bid")
    expect(page.locator("main")).to_contain_text(bid.summary)
    check_accessibility(page)
    page.locator(f"#id_score_{first.pk}_1").check()
    page.locator(f"#id_comment_{first.pk}").fill("Savings rest on unevidenced admission costs.")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("Your draft scores are saved")
    check_accessibility(page)
    page.locator(f"#id_score_{second.pk}_3").check()
    page.get_by_role("button", name="Submit your scores").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(f"#id_comment_{second.pk}-error")).to_contain_text("Write a comment explaining your score")
    check_accessibility(page)
    page.locator(f"#id_comment_{second.pk}").fill("Clear measures with baselines.")
    page.get_by_role("button", name="Submit your scores").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"Your scores on {bid.reference} are submitted")
    check_accessibility(page)

    # When the second assessor declares and scores, far apart on the first criterion
    _sign_in_as(page, sign_in, world.assessor_b)
    page.goto(base + "/assessment/")
    check_accessibility(page)
    page.get_by_role("link", name=bid.title).click()
    page.get_by_label("No, I have no conflict of interest with this bid").check()
    page.get_by_role("button", name="Make the declaration").click()
    _score(page, [first, second], [4, 3], ["Strong, independently evaluated savings.", "Good benefit case."])
    page.get_by_role("button", name="Submit your scores").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("submitted")

    # Then the chair sees the bid flagged for moderation on the ranking
    _sign_in_as(page, sign_in, world.chair)
    page.goto(base + "/dashboard/")
    expect(page.get_by_role("heading", name="Calls to moderate and decide")).to_be_visible()
    expect(page.locator("main")).to_contain_text("1 to moderate")
    check_accessibility(page)
    page.get_by_role("link", name=world.call.title).click()
    expect(page.locator("h1")).to_have_text("Ranking and funding line")
    expect(page.locator(f"#bid-{bid.pk}")).to_contain_text("Moderation needed")
    check_accessibility(page)
    page.locator(f"#bid-{bid.pk}").get_by_role("link", name=re.compile("^Moderate")).click()
    expect(page.locator("h1")).to_have_text(bid.title)
    check_accessibility(page)

    # When the chair records a moderated score
    page.get_by_role("link", name=re.compile("Moderate this criterion")).click()
    expect(page.locator("h1")).to_have_text(f"Moderate: {first.title}")
    check_accessibility(page)
    page.get_by_role("button", name="Record the moderated score").click()
    expect(page.locator("#id_score-error")).to_contain_text("Choose a score for")
    check_accessibility(page)
    page.locator("#id_score_3").check()
    page.get_by_label("Why did the panel agree this score?").fill("The panel accepted the published evaluation.")
    page.get_by_role("button", name="Record the moderated score").click()
    # Then the bid's score uses it: 3 (0.75 x 50 = 37.5) and 3 (37.5) = 75.00
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("moderated score")
    expect(page.locator("main")).to_contain_text("75.00 out of 100")
    check_accessibility(page)

    # When the chair records the decision, first asking for more than the bid asks for
    page.get_by_role("button", name="Record the panel's decision").click()
    check_accessibility(page)
    page.get_by_label("Fund", exact=True).check()
    page.get_by_label("Amount approved").fill("250000")
    page.get_by_label("The public reason for the decision").fill("A strong adoption case with a committed commissioner.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator("#id_amount_approved-error")).to_contain_text("cannot be more than the £200,000.00")
    check_accessibility(page)
    page.get_by_label("Amount approved").fill("200000")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("decision on")
    expect(page.locator(f"#bid-{bid.pk}")).to_contain_text("Fund")
    check_accessibility(page)

    # And the fund manager releases the decisions
    _sign_in_as(page, sign_in, world.manager)
    page.goto(base + f"/assessment/calls/{world.call.slug}/")
    page.get_by_role("link", name="Release the panel's decisions").click()
    expect(page.locator("h1")).to_have_text("Release the panel's decisions")
    check_accessibility(page)
    page.get_by_role("button", name="Release the decision").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("1 decision released")
    check_accessibility(page)
    decision = PanelDecision.objects.get(bid=bid)
    assert decision.released_at is not None
    assert decision.score == 75

    # Then the applicant reads their feedback: scores per criterion, comments, no names
    _sign_in_as(page, sign_in, world.applicant)
    page.goto(base + "/dashboard/")
    expect(page.get_by_role("heading", name="Feedback on your bids")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name=f"Feedback on {bid.title}").click()
    main = page.locator("main")
    expect(main).to_contain_text("75.00")
    expect(main).to_contain_text("Strong, independently evaluated savings.")
    expect(main).to_contain_text("Assessor 2")
    for name in ("Anna Assessor", "Ben Assessor", "Chris Chair"):
        expect(main).not_to_contain_text(name)
    check_accessibility(page)


def test_every_other_assessment_page_passes_the_accessibility_check(page, live_server, sign_in):
    # Given a call in assessment with a submitted sheet, a draft, a declared conflict and a
    # decision released on an earlier call
    from decimal import Decimal

    from assessment import services
    from assessment.models import ConflictKind
    from tests.assessment.conftest import assign, declare_none, scored, scores_for

    world = make_world(bids=2, assessors_per_bid=3)
    bid, other = world.bids
    draft = declare_none(assign(world, bid, world.assessor))
    services.score_sheet_save(actor=world.assessor, assignment=draft, scores=scores_for(world, [2, None]))
    submitted = scored(world, bid, world.assessor_b, [3, 3])
    conflicted = assign(world, other, world.assessor_c)
    services.conflict_declare(actor=world.assessor_c, assignment=conflicted, has_conflict=True,
                              kind=ConflictKind.EMPLOYER, description="I used to work there.")
    done = scored(world, other, world.lay, [4, 4])
    services.decision_record(actor=world.chair, bid=other, outcome="fund_with_conditions", amount_approved=Decimal("150000"),
                             public_reason="Good", conditions=["DPIA completed"])
    base, slug = live_server.url, world.call.slug

    # When each person opens their pages, then each passes
    visits = {
        world.manager: ["/assessment/", f"/assessment/calls/{slug}/bids/{bid.pk}/assign/",
                        f"/assessment/assignments/{draft.pk}/withdraw/", f"/assessment/assignments/{submitted.pk}/reopen/",
                        f"/assessment/calls/{slug}/bids/{bid.pk}/", f"/assessment/funds/{world.fund.slug}/conflicts/",
                        f"/manage/calls/{slug}/", world.fund.get_absolute_url(), f"/assessment/calls/{slug}/release/"],
        world.assessor_b: [f"/assessment/assignments/{submitted.pk}/sheet/"],
        world.chair: [f"/assessment/calls/{slug}/bids/{other.pk}/decision/", f"/assessment/calls/{slug}/bids/{bid.pk}/decision/"],
        world.auditor: ["/assessment/", f"/assessment/calls/{slug}/", f"/assessment/calls/{slug}/ranking/"],
    }
    for person, paths in visits.items():
        _sign_in_as(page, sign_in, person)
        for path in paths:
            response = page.goto(base + path)
            assert response.status == 200, path
            check_accessibility(page)
    assert done.sheet.status == "submitted"

    # And when the chair turns out to be conflicted, the fund manager's ranking says nobody can chair those bids
    from governance.models import PanelMember

    PanelMember.objects.get(panel=world.call.panel, user=world.chair).affiliations.add(world.lead)
    _sign_in_as(page, sign_in, world.manager)
    page.goto(base + f"/assessment/calls/{slug}/ranking/")
    expect(page.locator("main")).to_contain_text("No one can chair")
    expect(page.get_by_role("link", name=f"Add a deputy chair to {world.call.panel.name}")).to_be_visible()
    check_accessibility(page)
    PanelMember.objects.get(panel=world.call.panel, user=world.chair).affiliations.remove(world.lead)

    # And once released, the decided call's ranking shows the decisions as recorded
    world.bids[0].status = BidStatus.NOT_FUNDED
    world.bids[0].save()
    world.call.status = CallStatus.DECIDED
    world.call.save()
    PanelDecision.objects.filter(bid=other).update(released_at=world.call.closes_at)
    _sign_in_as(page, sign_in, world.chair)
    page.goto(base + f"/assessment/calls/{slug}/ranking/")
    expect(page.locator("main")).to_contain_text("Fund with conditions")
    check_accessibility(page)
