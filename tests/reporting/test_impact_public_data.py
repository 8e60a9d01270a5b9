"""Impact reports are public data only (issue 13, finding 2).

A report is built from published awards (declined and lapsed offers are never there) and from
the released decisions of calls whose decisions are released, by release, not by when the panel
decided. A version cannot be published while its snapshot covers anything else, the page says
so and what to wait for, and the public files never carry unreleased data.

The hand-made world of ``impact_world`` gains call three, still in assessment (a bid the panel
has decided not to fund and one it has decided to fund, neither released), an offer the
recipient declined and one that lapsed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from applications.models import BidStatus
from assessment.models import DecisionOutcome
from awards.models import AwardStatus
from governance.models import AuditEvent, CallPurpose, CallStatus
from reporting import visibility
from reporting.impact import services
from reporting.impact.analytics import OUTCOMES, find_table, headline_value, impact_snapshot
from reporting.impact.selectors import impact_sources
from reporting.models import ReportScope, ReportVersion
from tests.factories.applications import BidFactory
from tests.factories.assessment import PanelDecisionFactory
from tests.factories.governance import CallFactory
from tests.factories.reporting import ReportVersionFactory

from .impact_world import CUTOFF, RELEASED, _award, at, build_world

pytestmark = pytest.mark.django_db

NOT_FUND = OUTCOMES[DecisionOutcome.NOT_FUND]
FUND = OUTCOMES[DecisionOutcome.FUND]


@pytest.fixture
def w():
    world = build_world()
    world.c3 = CallFactory(fund=world.fund, title="Call three", purpose=CallPurpose.ADOPTION, pots=[world.pot],
                           opens_at=at(2025, 5, 1), closes_at=at(2025, 8, 31), status=CallStatus.ASSESSMENT)
    for reference, outcome, score in [("TEST-C3-NF", DecisionOutcome.NOT_FUND, "31"),
                                      ("TEST-C3-F", DecisionOutcome.FUND, "93")]:
        bid = BidFactory(call=world.c3, lead_organisation=world.a, status=BidStatus.IN_ASSESSMENT, reference=reference)
        PanelDecisionFactory(bid=bid, outcome=outcome, score=Decimal(score), decided_at=at(2025, 10, 1), released_at=None,
                             above_funding_line=outcome == DecisionOutcome.FUND)
    common = {"amount": Decimal("50000.00"), "score": Decimal("60"), "start": dt.date(2025, 4, 1),
              "end": dt.date(2026, 3, 31), "years": {2025: Decimal("50000.00")}}
    world.declined = _award(world.c1, world.a, reference="TEST-X3", status=AwardStatus.DECLINED, **common)
    world.lapsed = _award(world.c1, world.b, reference="TEST-X4", status=AwardStatus.LAPSED, **common)
    for award in (world.declined, world.lapsed):
        award.decision.released_at = RELEASED
        award.decision.save(update_fields=["released_at"])
    return world


def snapshot_of(report, cutoff=CUTOFF) -> dict:
    return impact_snapshot(report, impact_sources(report, cutoff), cutoff)


def decisions_by_outcome(snap) -> dict[str, list]:
    return {row[0]: row for row in find_table(snap, "decisions")["rows"]}


def every_value(snap) -> str:
    """Every text of the snapshot, to search for what must not be there."""
    return repr(snap)


# What a report reads -------------------------------------------------------------------------------


def test_a_call_report_built_while_the_call_is_in_assessment_shows_no_unreleased_decision(w):
    snap = snapshot_of(w.report(scope=ReportScope.CALL, call=w.c3))
    decisions = decisions_by_outcome(snap)
    assert decisions[NOT_FUND][1] == 0  # the old build said "Do not fund: 1"
    assert decisions[FUND][1] == 0
    assert all(row[5] is None for row in decisions.values())  # no average of bids still being assessed
    assert find_table(snap, "process_by_call")["rows"] == []
    assert headline_value(snap, "awards") == 0
    assert "93" not in repr(find_table(snap, "process_by_call"))
    assert "31" not in repr(find_table(snap, "decisions"))
    assert snap["meta"]["coverage"]["withheld_calls"] == [{"id": w.c3.pk, "title": "Call three"}]
    process = next(part for part in snap["sections"] if part["key"] == "process")
    assert any("Call three" in text and "not released" in text for text in process["paragraphs"])


def test_a_fund_report_counts_only_calls_whose_decisions_are_released(w):
    snap = snapshot_of(w.report())
    calls = [row[0] for row in find_table(snap, "process_by_call")["rows"]]
    assert calls == ["Call one", "Call two"]
    decisions = decisions_by_outcome(snap)
    assert decisions[NOT_FUND][1] == 1  # call one's, released; not call three's
    assert decisions[FUND][1] == 4  # X1, X2 and the two offers not taken up: released decisions to fund
    assert sorted(snap["meta"]["coverage"]["calls"]) == sorted([w.c1.pk, w.c2.pk])


def test_a_decision_counts_from_its_release_not_from_when_the_panel_decided(w):
    """Call three's decisions were made in October 2025; released only in June 2026."""
    w.c3.status = CallStatus.DECIDED
    w.c3.decisions_released_at = at(2026, 6, 1)
    w.c3.save(update_fields=["status", "decisions_released_at"])
    for bid in w.c3.bids.all():
        bid.decision.released_at = at(2026, 6, 1)
        bid.decision.save(update_fields=["released_at"])
    report = w.report(scope=ReportScope.CALL, call=w.c3)
    assert decisions_by_outcome(snapshot_of(report, CUTOFF))[NOT_FUND][1] == 0  # cut-off 1 May: not yet
    assert decisions_by_outcome(snapshot_of(report, at(2026, 6, 2)))[NOT_FUND][1] == 1


def test_a_national_fund_report_leaves_out_declined_and_lapsed_awards(w):
    snap = snapshot_of(w.report())
    references = [row[0] for row in find_table(snap, "awards")["rows"]]
    assert references == ["TEST-X1", "TEST-X2"]
    assert headline_value(snap, "awards") == 2
    assert "TEST-X3" not in every_value(snap)
    assert "TEST-X4" not in every_value(snap)
    assert sorted(snap["meta"]["coverage"]["awards"]) == sorted([w.x1.pk, w.x2.pk])


# Publication ----------------------------------------------------------------------------------------


def ready_version(report, snap) -> ReportVersion:
    return ReportVersionFactory(report=report, status="ready", number=1, snapshot=snap, data_cutoff=CUTOFF)


def test_publishing_is_refused_while_the_call_has_not_released_its_decisions(w):
    report = w.report(scope=ReportScope.CALL, call=w.c3)
    version = ready_version(report, snapshot_of(report))
    with pytest.raises(ValidationError) as error:
        services.report_version_publish(actor=w.manager, version=version)
    assert error.value.messages == [visibility.CALL_AWAITING_RELEASE.format(call="Call three")]
    version.refresh_from_db()
    assert not version.is_public
    assert not AuditEvent.objects.filter(action="report_version.published").exists()

    # Once released, this version is stale (it left the call out): a new one is needed.
    w.c3.status, w.c3.decisions_released_at = CallStatus.DECIDED, timezone.now()
    w.c3.save(update_fields=["status", "decisions_released_at"])
    for bid in w.c3.bids.all():
        bid.decision.released_at = timezone.now()
        bid.decision.save(update_fields=["released_at"])
    assert visibility.publication_blockers(version) == [visibility.CALL_RELEASED_SINCE.format(call="Call three")]
    fresh = ReportVersionFactory(report=report, status="ready", number=2, snapshot=snapshot_of(report, timezone.now()))
    services.report_version_publish(actor=w.manager, version=fresh)
    assert ReportVersion.objects.get(pk=fresh.pk).is_public


def test_publishing_is_refused_when_an_award_it_covers_is_no_longer_public(w):
    offered = _award(w.c2, w.b, reference="TEST-X5", status=AwardStatus.OFFERED, amount=Decimal("10000.00"),
                     score=Decimal("55"), start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31),
                     years={2025: Decimal("10000.00")})
    offered.decision.released_at = RELEASED
    offered.decision.save(update_fields=["released_at"])
    report = w.report()
    version = ready_version(report, snapshot_of(report))
    assert "TEST-X5" in [row[0] for row in find_table(version.snapshot, "awards")["rows"]]
    offered.status = AwardStatus.LAPSED  # the offer lapsed after the build
    offered.save(update_fields=["status"])
    with pytest.raises(ValidationError) as error:
        services.report_version_publish(actor=w.manager, version=version)
    assert error.value.messages == [visibility.AWARDS_NOT_PUBLIC.format(refs="TEST-X5")]
    assert not ReportVersion.objects.get(pk=version.pk).is_public


def test_a_version_built_before_the_rule_cannot_be_published(w):
    report = w.report()
    old = snapshot_of(report)
    old["schema"] = 1
    del old["meta"]["coverage"]
    version = ready_version(report, old)
    with pytest.raises(ValidationError) as error:
        services.report_version_publish(actor=w.manager, version=version)
    assert error.value.messages == [visibility.BUILT_BEFORE_PUBLIC_RULE]


def test_the_version_page_says_why_it_cannot_be_published_and_offers_no_button(client, w):
    report = w.report(scope=ReportScope.CALL, call=w.c3)
    version = ready_version(report, snapshot_of(report))
    version.pdf.save("report.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
    client.force_login(w.manager)
    page = client.get(reverse("reporting:report_version", args=[report.pk, 1])).content.decode()
    assert "This version cannot be published" in page
    assert "The panel&#x27;s decisions on Call three are not released yet" in page
    assert "Publish version 1" not in page
    response = client.post(reverse("reporting:report_version_publish", args=[report.pk, 1]), follow=True)
    assert "not released yet" in response.content.decode()
    assert not ReportVersion.objects.get(pk=version.pk).is_public


# The public files --------------------------------------------------------------------------------------


def built(w, django_capture_on_commit_callbacks, **kwargs) -> ReportVersion:
    """A version built by the worker (run eagerly), from the data as it stands now."""
    with django_capture_on_commit_callbacks(execute=True):
        version = services.impact_report_request(actor=w.manager, fund=w.fund, period_start=dt.date(2025, 4, 1),
                                                 period_end=dt.date(2026, 3, 31), **kwargs)
    version.refresh_from_db()
    assert version.status == "ready", version.error
    return version


def test_anonymous_figures_carry_nothing_unreleased(client, w, django_capture_on_commit_callbacks):
    version = built(w, django_capture_on_commit_callbacks)
    services.report_version_publish(actor=w.manager, version=version)
    args = [version.report_id, version.number]

    figures = client.get(reverse("reporting:report_csv", args=args))
    assert figures.status_code == 200
    text = b"".join(figures.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    decided = {(r[2], r[3]): r[4] for r in rows if r[1] == "How the panels decided"}
    assert decided[(NOT_FUND, "Bids")] == "1"  # call one's released decision only
    by_call = {r[2] for r in rows if r[1] == "Bids received, eligible and funded by call"}
    assert "Call three" not in by_call
    for hidden in ("TEST-X3", "TEST-X4", "TEST-C3"):
        assert hidden not in text

    sheet = client.get(reverse("reporting:report_xlsx", args=args))
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(sheet.streaming_content)), read_only=True)
    cells = " ".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row if c)
    for hidden in ("TEST-X3", "TEST-X4", "TEST-C3"):
        assert hidden not in cells
    assert client.get(reverse("reporting:report_pdf", args=args)).status_code == 200


def test_a_call_report_of_a_call_in_assessment_never_reaches_the_public(client, w, django_capture_on_commit_callbacks):
    version = built(w, django_capture_on_commit_callbacks, scope=ReportScope.CALL, call=w.c3)
    with pytest.raises(ValidationError):
        services.report_version_publish(actor=w.manager, version=version)
    for name in ("report_csv", "report_xlsx", "report_pdf"):
        assert client.get(reverse(f"reporting:{name}", args=[version.report_id, version.number])).status_code == 404
    assert decisions_by_outcome(version.snapshot)[NOT_FUND][1] == 0
