"""Demo awards in every state, made through the awards services so the pot ledger balances and
every step has its audit event; then dated back to when they would have happened.

Idempotent: an award found by its reference is left alone. Later stages read
``ctx.extra["awards"]`` (keys below). A few extra funded bids and decisions are added on the
decided calls (references ending 09xx) so every award state, and one decision still waiting
for its award, can be shown.
"""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from applications.models import Bid
from governance import fy
from governance.demo import DemoContext
from governance.models import Membership, User

from . import services
from .models import (
    Award,
    AwardCondition,
    AwardStatus,
    ConditionTemplate,
    Instalment,
    InstalmentStatus,
    LedgerEntryKind,
    OfferLetter,
    PotLedgerEntry,
    Variation,
    VariationKind,
)
from .selectors import suggested_profile, years_for

STANDARD_CONDITIONS = [
    ("Digital Technology Assessment Criteria (DTAC) assessment", "A completed DTAC assessment for the technology.", True),
    ("Clinical safety case (DCB0129 and DCB0160)", "The manufacturer's DCB0129 safety case and your DCB0160 deployment safety case.", True),
    ("Data protection impact assessment (DPIA) completed", "A DPIA signed off by your data protection officer.", True),
    ("Commissioner agreement to sustain the service after the award", "A letter from the commissioner committing recurrent funding if the service meets its targets.", False),
    ("NICE or other evidence of effectiveness", "The evidence the adoption relies on, or the evaluation plan that will produce it.", False),
]

# Extra funded bids for the states the application demo's bids do not cover:
# key -> (call slug, lead ODS, title, yearly cost, start offset in days, outcome, conditions, partner ODS)
# award key -> (final status, reason)
AWARDS = {
    "falls-devon": (AwardStatus.ACTIVE, ""),
    "falls-plymouth": (AwardStatus.ACTIVE, ""),
    "falls-somerset": (AwardStatus.OFFERED, ""),
    "cvd-barts": (AwardStatus.ACTIVE, ""),
    "cvd-newcastle": (AwardStatus.SUSPENDED, "Suspended while the pharmacy data-sharing agreement is renewed."),
    "outpatients-devon": (AwardStatus.CLOSED, "Completed; the underspend was released to the pot."),
    "offer-devon": (AwardStatus.OFFERED, ""),
    "accepted-barts": (AwardStatus.ACCEPTED, ""),
    "withdrawn-plymouth": (AwardStatus.WITHDRAWN, "The trust could not recruit the project team; the unpaid money returns to the pot."),
    "declined-uclh": (AwardStatus.DECLINED, "The trust has funded the service from its own budget."),
    "lapsed-homerton": (AwardStatus.LAPSED, ""),
}

DEMO_EVIDENCE = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
MANAGERS = {"HISW": "manager.southwest@example.com", "UCLP": "manager.london@example.com"}


@transaction.atomic
def seed(ctx: DemoContext) -> None:
    for title, description, digital in STANDARD_CONDITIONS:
        ConditionTemplate.objects.get_or_create(fund=None, title=title, defaults={"description": description, "for_digital": digital})
    bids: dict[str, Bid] = ctx.extra["bids"]
    awards: dict[str, Award] = {}
    for key, (status, reason) in AWARDS.items():
        bid = bids[key]
        award = Award.objects.filter(reference=bid.reference).first()
        if award is None:
            award = _make_award(ctx, bid, status, reason)
        awards[key] = award
    ctx.extra["awards"] = awards


def _grantee(organisation) -> User:
    """The organisation's authorised signatory: the demo applicant where there is one, else a
    quiet signatory account (added, never changing anyone else's membership)."""
    membership = Membership.objects.filter(organisation=organisation, is_authorised_signatory=True).select_related("user").first()
    if membership:
        return membership.user
    user, _ = User.objects.get_or_create(email=f"signatory.{organisation.ods_code.lower()}@example.com",
                                         defaults={"full_name": f"Authorised signatory at {organisation.name}"})
    Membership.objects.get_or_create(user=user, organisation=organisation, defaults={"is_authorised_signatory": True})
    return user


EVALUATION_PLAN = ("Evaluation plan agreed with the network within three months of the start",
                   "The plan for measuring the outcomes in the bid, agreed with the network's evaluation lead.")


def _conditions(bid: Bid) -> list[services.ConditionSpec]:
    """The panel's conditions hold back the first payment; the evaluation plan holds back none
    but is due three months after the start (due dates are set once the award exists)."""
    specs = [services.ConditionSpec(text, "", services.FIRST_PAYMENT) for text in bid.decision.conditions]
    if bid.innovation_type == "digital":
        title, description, _ = STANDARD_CONDITIONS[2]
        specs.append(services.ConditionSpec(title, description, services.FIRST_PAYMENT))
    specs.append(services.ConditionSpec(*EVALUATION_PLAN, services.NO_PAYMENT))
    return specs


def _date_conditions(award: Award, *, earliest: dt.date | None = None) -> None:
    """Each condition's own due date, relative to the award's start: those holding back the first
    payment by the start, the evaluation plan three months in (a recent offer's no sooner than
    ``earliest``)."""
    for condition in award.conditions.all():
        months = 3 if condition.holds_back_id is None else 0
        due = award.start_date + dt.timedelta(days=91 * months) if months else award.start_date
        if earliest is not None:
            due = max(due, earliest)
        AwardCondition.objects.filter(pk=condition.pk).update(due_date=due)


def _make_award(ctx: DemoContext, bid: Bid, status: str, reason: str) -> Award:
    decision = bid.decision
    manager = ctx.users[MANAGERS[bid.call.host_network.short_name]]
    grantee = _grantee(bid.lead_organisation)
    if bid.start_date is None or bid.end_date is None or decision.released_at is None:
        raise ValueError(f"{bid.reference}: only released decisions on bids with dates become awards")
    released = decision.released_at
    # Awards that have started were issued soon after the decision; offers are recent.
    historical = bid.start_date <= ctx.today and status not in (AwardStatus.OFFERED, AwardStatus.DECLINED, AwardStatus.LAPSED)
    issued_at = released + dt.timedelta(days=2) if historical else ctx.at(-7)
    years = years_for(bid.start_date, bid.end_date, bid.call.fund)
    award = services.award_issue(
        actor=manager, decision=decision, amount=decision.amount_approved, start_date=bid.start_date, end_date=bid.end_date,
        profile=suggested_profile(bid, decision.amount_approved, years),
        offer_deadline=ctx.today + dt.timedelta(days=21), conditions=_conditions(bid),
    )
    deadline = (issued_at + dt.timedelta(days=28)).date() if historical else ctx.today + dt.timedelta(days=21)
    _backdate(award, issued_at=issued_at)
    _date_conditions(award, earliest=None if historical else ctx.today + dt.timedelta(days=28))
    if status in (AwardStatus.OFFERED, AwardStatus.LAPSED, AwardStatus.DECLINED) or not historical and status == AwardStatus.WITHDRAWN:
        return _end_offer(ctx, award, status, reason, manager, grantee)
    accepted_at = issued_at + dt.timedelta(days=7)
    # The signatory reads the letter before accepting: make it now rather than after the seed commits.
    services.offer_letter_generate(letter_id=award.letters.latest("version").pk)
    award = services.award_accept(actor=grantee, award=award)
    Award.objects.filter(pk=award.pk).update(accepted_at=accepted_at, offer_deadline=deadline)
    if status == AwardStatus.ACCEPTED:
        condition = award.conditions.first()
        if condition is None:
            raise ValueError(f"{award.reference}: the demo's accepted award has a condition to meet")
        services.condition_evidence_submit(actor=grantee, condition=condition, upload=_evidence("commissioner-letter.pdf"),
                                           note="Signed by the ICB's director of commissioning.")
        return Award.objects.get(pk=award.pk)
    for condition in award.conditions.all():
        services.condition_evidence_submit(actor=grantee, condition=condition, upload=_evidence("evidence.pdf"),
                                           note="Signed off by the responsible director.")
        services.condition_sign_off(actor=manager, condition=condition, note="Evidence is complete.")
    AwardCondition.objects.filter(award=award).update(evidence_submitted_at=accepted_at, signed_off_at=accepted_at + dt.timedelta(days=3))
    award = services.award_activate(actor=manager, award=award)
    _pay_past_quarters(ctx, award, manager, skip_last=status == AwardStatus.CLOSED)
    award = Award.objects.get(pk=award.pk)
    if status == AwardStatus.SUSPENDED:
        award = services.award_suspend(actor=manager, award=award, reason=reason)
    elif status == AwardStatus.CLOSED:
        award = services.award_close(actor=manager, award=award, reason=reason)
        _backdate_end(award, ctx.at(-40))
    elif status == AwardStatus.WITHDRAWN:
        award = services.award_withdraw(actor=manager, award=award, reason=reason)
        _backdate_end(award, ctx.at(-10))
    if status == AwardStatus.ACTIVE and bid.call.host_network.short_name == "UCLP":
        variation = services.variation_request(
            actor=grantee, award=award, kind=VariationKind.EXTENSION,
            reasons="Recruitment of pharmacists took three months longer than planned.",
            proposed_end_date=award.end_date + dt.timedelta(days=92),
        )
        Variation.objects.filter(pk=variation.pk).update(requested_at=ctx.at(-5))
    return Award.objects.get(pk=award.pk)


def _end_offer(ctx, award: Award, status: str, reason: str, manager: User, grantee: User) -> Award:
    if status == AwardStatus.DECLINED:
        award = services.award_decline(actor=grantee, award=award, reason=reason)
    elif status == AwardStatus.WITHDRAWN:
        award = services.award_withdraw(actor=manager, award=award, reason=reason)
    elif status == AwardStatus.LAPSED:
        Award.objects.filter(pk=award.pk).update(offer_deadline=ctx.today - dt.timedelta(days=1))
        services.award_lapse(award=award, today=ctx.today)
    if status != AwardStatus.OFFERED:
        _backdate_end(Award.objects.get(pk=award.pk), ctx.at(-2))
    return Award.objects.get(pk=award.pk)


def _evidence(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, DEMO_EVIDENCE, content_type="application/pdf")


def _backdate(award: Award, *, issued_at: dt.datetime) -> None:
    Award.objects.filter(pk=award.pk).update(issued_at=issued_at)
    PotLedgerEntry.objects.filter(award=award, kind=LedgerEntryKind.COMMIT).update(created_at=issued_at)
    OfferLetter.objects.filter(award=award).update(created_at=issued_at)


def _backdate_end(award: Award, when: dt.datetime) -> None:
    Award.objects.filter(pk=award.pk).update(closed_at=when)
    PotLedgerEntry.objects.filter(award=award, kind=LedgerEntryKind.RELEASE).update(created_at=when)


def _pay_past_quarters(ctx: DemoContext, award: Award, manager: User, *, skip_last: bool) -> None:
    """Pay each instalment whose quarter ended more than 45 days ago, as if its return had been
    approved then. Returns are seeded by the monitoring stage, which runs later, so the
    release check on the return is stood in for here; payment goes through the service."""
    instalments = list(award.instalments.order_by("financial_year", "quarter"))
    last = instalments[-1] if instalments else None
    for instalment in instalments:
        _, quarter_end = fy.FinancialYear(instalment.financial_year).quarter(instalment.quarter)
        if quarter_end + dt.timedelta(days=45) >= ctx.today or (skip_last and instalment == last):
            continue
        if instalment.requires_return:
            Instalment.objects.filter(pk=instalment.pk).update(status=InstalmentStatus.RELEASED, released_by=manager)
        else:
            services.instalment_release(actor=manager, instalment=instalment)
        # The finance system's reference, as a payables run numbers it.
        reference = f"AP-{instalment.financial_year}-{award.pk:03d}{instalment.quarter}"
        services.instalment_mark_paid(actor=manager, instalment=Instalment.objects.get(pk=instalment.pk),
                                      paid_on=ctx.today, amount=instalment.amount, reference=reference)
        released_at = ctx.at(0) - dt.timedelta(days=(ctx.today - quarter_end).days - 40)
        paid_at = released_at + dt.timedelta(days=4)
        Instalment.objects.filter(pk=instalment.pk).update(released_at=released_at, paid_at=paid_at,
                                                           paid_on=paid_at.date())
        PotLedgerEntry.objects.filter(award=award, kind=LedgerEntryKind.PAYMENT, financial_year=instalment.financial_year,
                                      note__startswith=f"Q{instalment.quarter} instalment paid").update(created_at=paid_at)
