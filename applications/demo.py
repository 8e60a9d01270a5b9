"""Demo bids in every state, with their content, on the demo calls.

Idempotent: bids are found by reference. Later stages read ``ctx.extra["bids"]``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from governance.audit import audit_record
from governance.demo import DemoContext, _manager_of
from governance.models import Membership, PartnerKind, User

from .models import (
    BenefitMeasure,
    Bid,
    BidCost,
    BidPartner,
    BidSection,
    BidSectionState,
    BidStatus,
    CareSetting,
    CostCategory,
    EndorsementStatus,
    ExpressionOfInterest,
    Milestone,
    ProjectedSaving,
    Risk,
    RiskLevel,
    SavingKind,
    SectionStatus,
)
from .services import eoi_decline, eoi_invite, eoi_submit, reference_prefix

# (key, call slug, lead ODS, title, status, commissioner ODS, partners [(ODS, role)], yearly cost,
#  start: the NHS quarter the project starts in, counted from today's; see DemoContext.quarter_start)
BIDS = [
    ("frailty-draft", "frailty-at-home-adoption", "RH8", "Proactive frailty care at home with remote monitoring",
     BidStatus.DRAFT, "QJK", [("QJK", PartnerKind.COMMISSIONER)], Decimal("90000"), 2),
    ("frailty-submitted", "frailty-at-home-adoption", "RH8", "Acute frailty assessment at the front door",
     BidStatus.SUBMITTED, "QJK", [("QJK", PartnerKind.COMMISSIONER), ("RK9", PartnerKind.SECONDARY_CARE)], Decimal("120000"), 2),
    ("frailty-withdrawn", "frailty-at-home-adoption", "RH8", "Falls sensors for care homes",
     BidStatus.WITHDRAWN, "QJK", [("QJK", PartnerKind.COMMISSIONER)], Decimal("40000"), 2),
    ("remote-submitted", "remote-monitoring-spread", "R1H", "Remote blood pressure monitoring in East London",
     BidStatus.SUBMITTED, None, [("QMF", PartnerKind.COMMISSIONER), ("RQX", PartnerKind.PRIMARY_CARE)], Decimal("110000"), 2),
    ("remote-draft", "remote-monitoring-spread", "R1H", "Home spirometry for COPD",
     BidStatus.DRAFT, None, [], Decimal("60000"), 2),
    ("wards-devon", "virtual-wards-adoption", "RH8", "Frailty virtual ward for North Devon",
     BidStatus.IN_ASSESSMENT, "QJK", [("QJK", PartnerKind.COMMISSIONER)], Decimal("130000"), 2),
    ("wards-plymouth", "virtual-wards-adoption", "RK9", "Respiratory virtual ward for Plymouth",
     BidStatus.IN_ASSESSMENT, "QJK", [("QJK", PartnerKind.COMMISSIONER)], Decimal("110000"), 2),
    ("wards-somerset", "virtual-wards-adoption", "RH5", "Heart failure virtual ward for Somerset",
     BidStatus.IN_ASSESSMENT, "QJK", [("QJK", PartnerKind.COMMISSIONER), ("RH8", PartnerKind.SECONDARY_CARE)], Decimal("95000"), 2),
    ("wards-cornwall", "virtual-wards-adoption", "REF", "Cornwall virtual ward hub",
     BidStatus.INELIGIBLE, "QT6", [("QT6", PartnerKind.COMMISSIONER)], Decimal("250000"), 2),
    ("falls-devon", "falls-prevention-adoption", "RH8", "Falls prevention exercise programme at home",
     BidStatus.FUNDED, "QJK", [("QJK", PartnerKind.COMMISSIONER), ("RK9", PartnerKind.SECONDARY_CARE)], Decimal("100000"), -3),
    ("falls-plymouth", "falls-prevention-adoption", "RK9", "Hip protectors and bed sensors on older people's wards",
     BidStatus.FUNDED, "QJK", [("QJK", PartnerKind.COMMISSIONER)], Decimal("70000"), -3),
    ("falls-somerset", "falls-prevention-adoption", "RH5", "Community falls response service",
     BidStatus.FUNDED, "QJK", [("QJK", PartnerKind.COMMISSIONER)], Decimal("80000"), -3),
    ("falls-cornwall", "falls-prevention-adoption", "REF", "Falls clinic redesign",
     BidStatus.NOT_FUNDED, "QT6", [("QT6", PartnerKind.COMMISSIONER)], Decimal("90000"), -3),
    ("cvd-barts", "cvd-prevention-spread", "R1H", "Lipid optimisation in primary care",
     BidStatus.FUNDED, None, [("QMF", PartnerKind.COMMISSIONER), ("RQX", PartnerKind.PRIMARY_CARE)], Decimal("150000"), -3),
    ("cvd-newcastle", "cvd-prevention-spread", "RTD", "Blood pressure case finding in community pharmacies",
     BidStatus.FUNDED, None, [("QHM", PartnerKind.COMMISSIONER), ("R0B", PartnerKind.PRIMARY_CARE)], Decimal("120000"), -3),
    ("cvd-uclh", "cvd-prevention-spread", "RRV", "Familial hypercholesterolaemia screening",
     BidStatus.NOT_FUNDED, None, [("QMJ", PartnerKind.PRIMARY_CARE)], Decimal("140000"), -3),
    ("outpatients-devon", "digital-outpatients-adoption", "RH8", "Patient-initiated follow-up app for outpatients",
     BidStatus.FUNDED, None, [("QJK", PartnerKind.COMMISSIONER)], Decimal("85000"), -6),
    # Funded bids whose awards end in each remaining state (offered, accepted, withdrawn, declined,
    # lapsed, and one decision still waiting for its award).
    ("offer-devon", "falls-prevention-adoption", "RH8", "Falls risk screening in GP practices",
     BidStatus.FUNDED, "QJK", [("QJK", PartnerKind.COMMISSIONER)], Decimal("60000"), 1),
    ("accepted-barts", "cvd-prevention-spread", "R1H", "Statin optimisation clinics in community pharmacies",
     BidStatus.FUNDED, "QMF", [("QMF", PartnerKind.COMMISSIONER)], Decimal("80000"), 1),
    ("withdrawn-plymouth", "falls-prevention-adoption", "RK9", "Falls prevention in care homes with wearable sensors",
     BidStatus.FUNDED, "QJK", [("QJK", PartnerKind.COMMISSIONER)], Decimal("50000"), -3),
    ("declined-uclh", "cvd-prevention-spread", "RRV", "Digital cardiac rehabilitation",
     BidStatus.FUNDED, "QMJ", [("QMJ", PartnerKind.COMMISSIONER)], Decimal("70000"), 1),
    ("lapsed-homerton", "cvd-prevention-spread", "RQX", "Atrial fibrillation detection at flu clinics",
     BidStatus.FUNDED, "QMF", [("QMF", PartnerKind.COMMISSIONER)], Decimal("45000"), 1),
    ("ready-cornwall", "falls-prevention-adoption", "REF", "Strength and balance classes in Cornwall",
     BidStatus.FUNDED, "QT6", [("QT6", PartnerKind.COMMISSIONER)], Decimal("55000"), 2),
]

# Drafts showing the endorsement states: (key, call, lead, title, commissioner, partners, yearly,
# start quarter, endorsement status, every section completed)
ENDORSEMENT_DRAFTS = [
    ("frailty-endorsed", "frailty-at-home-adoption", "RH8", "Digital falls risk assessment in community nursing",
     "QJK", [("QJK", PartnerKind.COMMISSIONER)], Decimal("75000"), 2, EndorsementStatus.ENDORSED, True),
    ("frailty-declined", "frailty-at-home-adoption", "REF", "Frailty hub at the front door in Truro",
     "QT6", [("QT6", PartnerKind.COMMISSIONER)], Decimal("150000"), 2, EndorsementStatus.DECLINED, False),
]

MEASURES = [
    ("Bed days avoided", "days", Decimal("0"), Decimal("1200")),
    ("Patients reached", "patients", Decimal("0"), Decimal("800")),
    ("Emergency admissions after a fall", "admissions per month", Decimal("45"), Decimal("30")),
]


def _author(ctx: DemoContext, ods_code: str) -> User:
    """The demo applicant of the organisation, or a quiet author account for the others."""
    org = ctx.org(ods_code)
    membership = Membership.objects.filter(organisation=org).select_related("user").first()
    if membership:
        return membership.user
    user, _ = User.objects.get_or_create(
        email=f"bids.{ods_code.lower()}@example.com", defaults={"full_name": f"Bid writer at {org.name}"}
    )
    if user.has_usable_password():
        user.set_unusable_password()
        user.save(update_fields=["password"])
    Membership.objects.get_or_create(user=user, organisation=org)
    return user


@transaction.atomic
def seed(ctx: DemoContext) -> None:
    bids: dict[str, Bid] = {}
    # References run on per network and financial year, as the portal numbers them.
    sequence_by_prefix: dict[str, int] = {}
    specs: list[tuple[Any, ...]] = [(*spec, {}) for spec in BIDS] + [
        (key, call_slug, lead, title, BidStatus.DRAFT, commissioner, partners, yearly, start_quarter,
         {"endorsement": endorsement, "complete": complete})
        for key, call_slug, lead, title, commissioner, partners, yearly, start_quarter, endorsement, complete
        in ENDORSEMENT_DRAFTS
    ]
    for key, call_slug, lead, title, status, commissioner, partners, yearly, start_quarter, extra in specs:
        call = ctx.calls[call_slug]
        prefix = reference_prefix(call)
        sequence_by_prefix[prefix] = sequence_by_prefix.get(prefix, 0) + 1
        reference = f"{prefix}-{sequence_by_prefix[prefix]:04d}"
        bid = Bid.objects.filter(reference=reference).first()
        if bid is None:
            bid = _create_bid(ctx, call, reference, lead, title, status, commissioner, partners, yearly, start_quarter,
                              **extra)
            _record_history(ctx, bid)
        bids[key] = bid
    ctx.extra["bids"] = bids
    _seed_eois(ctx)
    _seed_team(ctx, bids)


# Expressions of interest on the two-stage call: (lead ODS, title, estimated cost, decision, reason)
EOIS = [
    ("RH8", "Handover nurses at the front door", Decimal("180000"), "invite",
     "A clear problem at North Devon's emergency department, with the ambulance trust on board."),
    ("RK9", "Digital pre-alerts from crews to the department", Decimal("240000"), "decline",
     "A promising idea, but no ambulance trust partner yet: we would welcome it in a later call."),
    ("RH5", "Ambulance cohorting area in Taunton", Decimal("150000"), None, ""),
]


def _seed_eois(ctx: DemoContext) -> None:
    """Sent 10 days ago through the service, two of them shortlisted a day ago (after the stage
    closed); found by organisation, so seeding twice changes nothing."""
    call = ctx.calls.get("ambulance-handover-two-stage")
    if call is None:
        return
    manager = _manager_of(ctx, ctx.networks["HISW"])
    for lead, title, cost, decision, reason in EOIS:
        organisation = ctx.org(lead)
        if ExpressionOfInterest.objects.filter(call=call, lead_organisation=organisation).exists():
            continue
        eoi = eoi_submit(actor=_author(ctx, lead), call=call, organisation=organisation, title=title,
                         summary=f"{title}: an approach proven elsewhere, adopted by {organisation.name}.",
                         problem="Crews wait over an hour to hand patients over, so calls in the community go unanswered.",
                         estimated_cost=cost, partners="South Western Ambulance Service NHS Foundation Trust",
                         now=ctx.at(-10))
        if decision == "invite":
            eoi_invite(actor=manager, eoi=eoi, reason=reason, now=ctx.at(-1))
        elif decision == "decline":
            eoi_decline(actor=manager, eoi=eoi, reason=reason, now=ctx.at(-1))


# The audit events each demo bid's history would have written, in order.
HISTORY: dict[str, list[tuple[str, str]]] = {
    BidStatus.SUBMITTED: [("bid.submitted", "Bid submitted")],
    BidStatus.WITHDRAWN: [("bid.submitted", "Bid submitted"), ("bid.withdrawn", "Bid withdrawn")],
    BidStatus.INELIGIBLE: [("bid.submitted", "Bid submitted"), ("bid.marked_ineligible", "Marked ineligible")],
    BidStatus.IN_ASSESSMENT: [("bid.submitted", "Bid submitted"), ("bid.assessment_started", "Assessment started")],
    BidStatus.FUNDED: [("bid.submitted", "Bid submitted"), ("bid.assessment_started", "Assessment started"),
                       ("bid.funded", "Panel decision: funded")],
    BidStatus.NOT_FUNDED: [("bid.submitted", "Bid submitted"), ("bid.assessment_started", "Assessment started"),
                           ("bid.not_funded", "Panel decision: not funded")],
}


def _record_history(ctx: DemoContext, bid: Bid) -> None:
    """Audit events for a demo bid's past, so its trail reads as if people had done it."""
    author = bid.created_by
    audit_record(actor=author, action="bid.created", target=bid, message="Bid started (demo data)",
                 after={"reference": bid.reference, "title": bid.title, "status": BidStatus.DRAFT})
    if bid.commissioner is not None and bid.endorsement_status in (
            EndorsementStatus.PENDING, EndorsementStatus.ENDORSED, EndorsementStatus.DECLINED):
        audit_record(actor=author, action="bid.endorsement_requested", target=bid,
                     message=f"Endorsement asked of {bid.commissioner.name} (demo data)")
    if bid.endorsement_status == EndorsementStatus.ENDORSED:
        audit_record(actor=bid.endorsed_by, action="bid.endorsed", target=bid, message="Endorsed (demo data)")
    if bid.endorsement_status == EndorsementStatus.DECLINED:
        audit_record(actor=bid.endorsed_by, action="bid.endorsement_declined", target=bid, message="Declined (demo data)")
    manager = ctx.users.get("manager.southwest@example.com") if bid.call.host_network.short_name == "HISW" else \
        ctx.users.get("manager.london@example.com")
    for action, message in HISTORY.get(bid.status, []):
        actor = author if action in ("bid.submitted", "bid.withdrawn") else manager
        audit_record(actor=actor, action=action, target=bid, message=f"{message} (demo data)")


def _create_bid(ctx, call, reference, lead, title, status, commissioner, partners, yearly, start_quarter,
                endorsement=None, complete=False) -> Bid:
    author = _author(ctx, lead)
    lead_org = ctx.org(lead)
    start = ctx.quarter_start(start_quarter)
    end = start.replace(year=start.year + 2) - dt.timedelta(days=1)
    if call.slug == "digital-outpatients-adoption":
        end = start.replace(year=start.year + 1) - dt.timedelta(days=1)
    pot = call.pots.filter(network=lead_org.network).first() or call.pots.first()
    submitted = status != BidStatus.DRAFT
    endorsed = call.endorsement_required and (status != BidStatus.DRAFT or endorsement == EndorsementStatus.ENDORSED)
    declined = endorsement == EndorsementStatus.DECLINED
    bid = Bid.objects.create(
        call=call, lead_organisation=lead_org, pot=pot, reference=reference, title=title, status=status,
        summary=f"{title}: a proven approach adopted by {lead_org.name} with partners across the care pathway.",
        problem="Too many older people are admitted to hospital after avoidable crises at home.",
        start_date=start, end_date=end,
        innovation_type=call.innovation_types[0],
        innovation_description="A model proven in two other regions, with a published evaluation.",
        evidence_base="Evaluation across 3 sites showed a 20% fall in emergency admissions.",
        nice_evidence="NICE guideline NG249 recommends this approach.",
        care_settings=[CareSetting.COMMUNITY, CareSetting.HOME, CareSetting.SECONDARY],
        pathway_description="Referral from primary care, assessment by community teams, follow-up at home.",
        delivery_plan="Mobilise in the first quarter, go live in the second, evaluate throughout.",
        sustainability_plan="The ICB has agreed to fund the service from year 3 if the savings are realised.",
        commissioner=ctx.org(commissioner) if commissioner else None,
        endorsement_status=(
            EndorsementStatus.NOT_REQUIRED if not call.endorsement_required
            else EndorsementStatus.ENDORSED if endorsed else EndorsementStatus.DECLINED if declined
            else EndorsementStatus.PENDING
        ),
        endorsement_comment=(
            "We support this bid and will sustain it if it succeeds." if endorsed
            else "The savings rely on bed closures we have not agreed: show the savings without them and ask again."
            if declined else ""
        ),
        endorsed_at=call.opens_at + dt.timedelta(days=5) if endorsed or declined else None,
        endorsed_by=_author(ctx, commissioner) if (endorsed or declined) and commissioner else None,
        created_by=author, created_at=call.opens_at + dt.timedelta(days=1),
        submitted_at=call.opens_at + dt.timedelta(days=10) if submitted else None,
        submitted_by=author if submitted else None,
        declarations_accepted_at=call.opens_at + dt.timedelta(days=10) if submitted else None,
        declarations_accepted_by=author if submitted else None,
        withdrawn_at=call.opens_at + dt.timedelta(days=12) if status == BidStatus.WITHDRAWN else None,
        ineligible_reason=("The amount asked for is above the call's maximum once match funding is excluded."
                           if status == BidStatus.INELIGIBLE else ""),
    )
    for ods, role in partners:
        BidPartner.objects.create(bid=bid, organisation=ctx.org(ods), role=role,
                                  contribution="Clinical leadership, referrals and data for the evaluation.")
    for index, year in enumerate(bid.years):
        share = yearly if index < len(bid.years) - 1 else (yearly / 2).quantize(Decimal("1"))
        BidCost.objects.create(bid=bid, financial_year=year, category=CostCategory.STAFF, amount=(share * Decimal("0.7")).quantize(Decimal("0.01")), description="Clinical and project staff")
        BidCost.objects.create(bid=bid, financial_year=year, category=CostCategory.DIGITAL_LICENCES, amount=(share * Decimal("0.2")).quantize(Decimal("0.01")), description="Monitoring platform licences")
        BidCost.objects.create(bid=bid, financial_year=year, category=CostCategory.EVALUATION, amount=(share * Decimal("0.1")).quantize(Decimal("0.01")), description="Independent evaluation")
        ProjectedSaving.objects.create(bid=bid, financial_year=year, kind=SavingKind.CASHABLE, realised_by=lead_org,
                                       care_setting=CareSetting.SECONDARY, amount=(share * Decimal("0.9") * (index + 1)).quantize(Decimal("0.01")),
                                       assumptions="Fewer admissions at £3,200 each.", evidence="Published evaluation.")
        saver = bid.commissioner or lead_org
        ProjectedSaving.objects.create(bid=bid, financial_year=year, kind=SavingKind.NON_CASHABLE, realised_by=saver,
                                       care_setting=CareSetting.COMMUNITY, amount=(share * Decimal("0.4") * (index + 1)).quantize(Decimal("0.01")),
                                       assumptions="Community nursing time released.", evidence="Time and motion study.")
    for name, unit, baseline, target in MEASURES:
        BenefitMeasure.objects.create(bid=bid, name=name, unit=unit, baseline=baseline, target=target,
                                      target_date=end, higher_is_better=target >= baseline)
    for months, title in ((3, "Service live in the first site"), (12, "All sites live"), (20, "Evaluation report published")):
        Milestone.objects.create(bid=bid, title=title, due_date=start + dt.timedelta(days=30 * months))
    Risk.objects.create(bid=bid, description="Recruitment of specialist nurses is slower than planned.",
                        likelihood=RiskLevel.MEDIUM, impact=RiskLevel.HIGH, mitigation="Backfill with bank staff; start recruitment before the award.")
    for section in BidSection.values:
        done = status != BidStatus.DRAFT or section in (BidSection.SUMMARY, BidSection.INNOVATION, BidSection.PARTNERS) \
            or (complete and section != BidSection.DECLARATIONS)
        BidSectionState.objects.create(
            bid=bid, section=section, status=SectionStatus.COMPLETED if done else SectionStatus.NOT_STARTED,
            version=1 if done else 0, updated_by=author if done else None, updated_at=bid.created_at if done else None,
        )
    return bid


def _seed_team(ctx: DemoContext, bids: dict) -> None:
    """The draft frailty bid's team: the commissioner's contact invited to comment (waiting, the
    invitation expiring a fortnight from today), and a comment on the summary; the endorsed draft's
    partners' sign-off. Idempotent."""
    from django.utils import timezone

    from .models import BidCollaborator, BidSectionComment, PartnerSignOff, TeamRole

    # The endorsed draft, ready to submit: its partners have signed off their parts.
    ready = bids.get("frailty-endorsed")
    if ready is not None and ready.status == BidStatus.DRAFT:
        for partner in ready.partners.select_related("organisation"):
            if partner.organisation_id != ready.lead_organisation_id and partner.organisation.ods_code:
                PartnerSignOff.objects.get_or_create(bid=ready, organisation=partner.organisation, defaults={
                    "signed_by": _author(ctx, partner.organisation.ods_code)})
    bid = bids.get("frailty-draft")
    lead = ctx.users.get("applicant.devon@example.com")
    icb = ctx.organisations.get("QJK")
    if bid is None or lead is None or icb is None or BidCollaborator.objects.filter(bid=bid).exists():
        return
    now = timezone.now()
    BidCollaborator.objects.create(bid=bid, email="commissioner.devon@example.com", organisation=icb,
                                   role=TeamRole.COMMENT, sections=["savings"], invited_by=lead, invited_at=now,
                                   expires_at=now + dt.timedelta(days=14))
    BidSectionComment.objects.create(bid=bid, section="summary", author=lead,
                                     body="Can the ICB confirm the bed-day figure before we submit? (demo data)")
