"""The pot ledger on the fund page and as CSV, governance's commitment source, and the offer
letter task (eager here; against the real worker in test_worker.py)."""

import csv
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from awards import services
from awards.models import DocumentStatus, OfferLetter
from awards.selectors import ledger_totals, pot_ledger
from awards.tasks import generate_offer_letter
from governance import fy
from governance.extensions import committed_by_pot_year, sections_for_fund
from governance.models import AuditEvent
from tests.awards.conftest import first_award_year, issue

pytestmark = pytest.mark.django_db


def test_the_ledger_gives_committed_paid_released_and_remaining_per_pot_and_year(world):
    y = first_award_year()
    award = issue(world)
    services.award_decline(actor=world.signatory, award=award, reason="No longer needed")
    issue(world, decision=world.new_decision(amount=Decimal("50000.00")))
    rows = {row.financial_year: row for row in pot_ledger([world.pot.pk])}
    assert set(rows) == set(world.fund.years)
    row = rows[y]
    assert (row.budget, row.commits, row.released, row.committed, row.paid, row.remaining) == (
        Decimal("1000000.00"), Decimal("125000.00"), Decimal("100000.00"), Decimal("25000.00"), Decimal("0.00"),
        Decimal("975000.00"),
    )
    assert all(r.balances for r in rows.values())
    assert ledger_totals(list(rows.values()))["committed"] == Decimal("50000.00")


def test_governance_sees_committed_money_through_the_commitment_source(world):
    y = first_award_year()
    issue(world)
    committed = committed_by_pot_year([world.pot.pk])
    assert committed[(world.pot.pk, y)] == Decimal("100000.00")
    assert committed[(world.pot.pk, y + 1)] == Decimal("100000.00")


def test_the_fund_page_has_the_pot_ledger_section(world, rf):
    issue(world)
    request = rf.get("/")
    request.user = world.manager
    sections = sections_for_fund(request, world.fund)
    ledger = next(panel for panel in sections if panel.title == "Pot ledger")
    assert len(ledger.context["rows"]) == len(world.fund.years)
    assert len(ledger.context["chart"]["bars"]) == len(world.fund.years)


def test_the_ledger_csv_balances_and_neutralises_formulas(client, world):
    world.pot.name = "=HYPERLINK(\"http://evil\")"
    world.pot.save()
    issue(world)
    client.force_login(world.auditor)
    response = client.get(f"/awards/funds/{world.fund.slug}/ledger.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == len(world.fund.years)
    assert all(row["pot"].startswith("'=") for row in rows)
    y = first_award_year()
    row = next(r for r in rows if r["financial_year"] == fy.label(y))
    assert (row["budget"], row["committed"], row["remaining"]) == ("1000000.00", "100000.00", "900000.00")
    for row in rows:
        assert Decimal(row["budget"]) == Decimal(row["committed"]) + Decimal(row["remaining"])


def test_the_offer_letter_task_makes_a_pdf_with_the_terms(world, django_capture_on_commit_callbacks):
    world.decision.conditions = ["Clinical safety case (DCB0129 and DCB0160)"]
    world.decision.save()
    with django_capture_on_commit_callbacks(execute=True):
        award = issue(world)
    letter = award.letters.get()
    assert letter.status == DocumentStatus.READY
    with letter.file.open("rb") as pdf:
        reader = PdfReader(pdf)
        text = " ".join(page.extract_text() for page in reader.pages)
        root = reader.trailer["/Root"]
        # Tagged, as the impact reports are: a screen reader follows its structure.
        assert "/StructTreeRoot" in root
        assert bool(root["/MarkInfo"]["/Marked"])
    text = " ".join(text.split())
    assert award.reference in text
    assert "£200,000.00" in text
    assert world.lead.name in text
    assert "Clinical safety case (DCB0129 and DCB0160)" in text
    for year in (first_award_year(), first_award_year() + 1):
        assert fy.label(year) in text
    assert award.offer_deadline.strftime("%-d %B %Y") in text
    # Running the task again leaves a ready letter alone.
    assert generate_offer_letter(letter.pk) == DocumentStatus.READY
    assert AuditEvent.objects.filter(action="offer_letter.ready").count() == 1


def test_a_letter_that_cannot_be_made_is_recorded_as_failed_and_can_be_made_again(world, monkeypatch,
                                                                                  django_capture_on_commit_callbacks):
    def broken(letter):
        raise RuntimeError("fonts missing")

    monkeypatch.setattr("awards.letters.render_offer_letter", broken)
    with django_capture_on_commit_callbacks(execute=True):
        award = issue(world)
    letter = award.letters.get()
    assert letter.status == DocumentStatus.FAILED
    assert "fonts missing" in letter.error
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        again = services.offer_letter_request(actor=world.manager, award=award)
    again.refresh_from_db()
    assert (again.version, again.status) == (2, DocumentStatus.READY)
    assert OfferLetter.objects.filter(award=award).count() == 2
