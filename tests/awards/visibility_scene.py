"""The scene of the channel × role matrices (awards and reporting), and their helpers.

The awards tests' world gains a ring-fenced pot held by a second network on the host's call, so a
*pot-only* network's manager exists. Award P is published (released decision, call's decisions
released) and paid from that pot, with a ready offer letter and a condition with evidence; award
U was declined by its recipient, so it is never public. ``people`` maps each role to a user.
"""

from __future__ import annotations

import datetime as dt
import io

from django.core.files.base import ContentFile
from django.utils import timezone
from openpyxl import load_workbook

from awards import services
from awards.models import AwardCondition
from governance.models import FundRole, FundRoleKind, PotBudget
from tests.factories.governance import (
    FundFactory,
    FundManagerFactory,
    NetworkFactory,
    PotFactory,
    UserFactory,
)

from .conftest import BUDGET, PDF_BYTES, issue, letter_ready, make_world

EVIDENCE_NOTE = "PRIVATE-EVIDENCE-NOTE signed DPIA attached"
ROLES = [
    "applicant_recipient", "applicant_other_org", "commissioner", "assessor", "chair", "manager_host",
    "manager_pot_only", "manager_unrelated", "auditor", "auditor_other_fund", "anonymous",
]
# Who sees an award's private parts (its page, letters, evidence, payments) and a fund's pot ledger.
PRIVATE = {"applicant_recipient", "manager_host", "manager_pot_only", "auditor"}
LEDGER = {"manager_host", "manager_pot_only", "auditor"}


def build_scene():
    w = make_world()
    w.call.decisions_released_at = timezone.now() - dt.timedelta(days=1)
    w.call.save(update_fields=["decisions_released_at"])
    pot_network = NetworkFactory(name="Pot Holding Network")
    ring = PotFactory(fund=w.fund, name="Pot Holding pot", network=pot_network)
    for year in w.fund.years:
        PotBudget.objects.create(pot=ring, financial_year=year, amount=BUDGET)
    w.call.pots.add(ring)
    bid = w.decision.bid
    bid.pot = ring
    bid.save(update_fields=["pot"])
    published = letter_ready(issue(w))
    condition = AwardCondition.objects.create(award=published, title="DPIA", evidence_name="dpia.pdf",
                                              evidence_note=EVIDENCE_NOTE, status="evidence_submitted",
                                              evidence_submitted_at=timezone.now())
    condition.evidence.save("dpia.pdf", ContentFile(PDF_BYTES))
    declined = issue(w, decision=w.new_decision())
    services.award_decline(actor=w.signatory, award=declined, reason="Not now")
    other_fund_auditor = UserFactory()
    FundRole.objects.create(user=other_fund_auditor, fund=FundFactory(), role=FundRoleKind.AUDITOR)
    people = {
        "applicant_recipient": w.member, "applicant_other_org": w.outsider, "commissioner": w.commissioner,
        "assessor": w.assessor, "chair": w.chair, "manager_host": w.manager,
        "manager_pot_only": FundManagerFactory(organisation=pot_network).user, "manager_unrelated": w.other_manager,
        "auditor": w.auditor, "auditor_other_fund": other_fund_auditor, "anonymous": None,
    }
    w.published, w.declined, w.condition, w.people = published, declined, condition, people
    return w


def as_role(client, scene, role):
    if scene.people[role] is not None:
        client.force_login(scene.people[role])
    return client


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode("utf-8-sig")


def denied(response, role) -> bool:
    if response.status_code in (403, 404):
        return True
    return role == "anonymous" and response.status_code == 302 and "/accounts/login/" in response["Location"]


def shown(text: str, scene) -> set[str]:
    return {a.reference for a in (scene.published, scene.declined) if a.reference in text}


def xlsx_text(response) -> str:
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content),
                         read_only=True)
    return " ".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row if c)


