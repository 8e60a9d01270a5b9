"""What stands between a bid and its submission: incomplete sections and eligibility.

Plain functions of a bid, used by the services (to refuse a save or a submission), by the
task list (each section's status) and by the check-your-answers page (each problem links
to its section). Messages are module constants so tests can import them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from governance import fy
from governance.models import COMMISSIONING_KINDS, OrganisationKind, PartnerKind, Region
from governance.money import format_money
from governance.timefmt import nhs_datetime
from governance.uploads import ScanStatus

from .models import Bid, BidSection, BidStatus, EndorsementStatus, SectionStatus

# Project summary
TITLE_MISSING = "Enter a title for the bid"
SUMMARY_MISSING = "Enter a summary of the project"
PROBLEM_MISSING = "Describe the problem the project solves"
DATES_MISSING = "Enter the project's start and end dates"
END_BEFORE_START = "The end date must be after the start date"
DURATION_TOO_LONG = "The project can last up to {years} years: enter an end date on or before {latest}"
YEARS_OUTSIDE_FUND = "The project must run within the fund's financial years, {first} to {last}"
# The innovation
INNOVATION_TYPE_MISSING = "Choose the type of innovation"
INNOVATION_TYPE_NOT_ACCEPTED = "This call does not fund this type of innovation: choose {choices}"
INNOVATION_MISSING = "Describe the innovation"
EVIDENCE_MISSING = "Describe the evidence base for the innovation"
ATTACHMENT_AWAITING_SCAN = "{name} is still being checked for viruses: submit once the check is done"
ATTACHMENT_QUARANTINED = "A virus was found in {name}: remove it and upload a clean copy"
# Care pathway
CARE_SETTINGS_MISSING = "Select the parts of the care pathway the project covers"
PATHWAY_MISSING = "Describe the care pathway the project covers"
# Partners and endorsement
PARTNER_KIND_MISSING = "This call needs a partner in the role {role}: add one"
COMMISSIONER_MISSING = "Name the commissioning organisation that will endorse the bid"
COMMISSIONER_NOT_COMMISSIONING = "The endorsing organisation must be an integrated care board or sub-ICB location"
ENDORSEMENT_NEEDED = "The commissioner must endorse the bid before it can be submitted"
ENDORSEMENT_DECLINED = "The commissioner declined to endorse the bid: change it and ask again"
# Costs
COSTS_MISSING = "Add the project's costs"
COSTS_NEED_DATES = "Enter the project's start and end dates in the project summary before adding costs"
TOTAL_BELOW_MINIMUM = "The total asked for, {total}, is below the call's minimum of {minimum}"
TOTAL_ABOVE_MAXIMUM = "The total asked for, {total}, is above the call's maximum of {maximum}"
COST_YEAR_OUTSIDE_PROJECT = "Costs in {year} fall outside the project's financial years, {first} to {last}"
# Savings
SAVINGS_MISSING = "Add the projected savings"
SAVING_YEAR_OUTSIDE_PROJECT = "Savings in {year} fall outside the project's financial years, {first} to {last}"
# Patient benefits, delivery, risks
BENEFITS_MISSING = "Add at least one patient-benefit measure"
DELIVERY_PLAN_MISSING = "Describe the delivery plan"
MILESTONES_MISSING = "Add at least one milestone"
MILESTONE_OUTSIDE_PROJECT = "Milestone \u201c{title}\u201d is due outside the project, which runs from {start} to {end}"
RISKS_MISSING = "Add at least one risk and how you will manage it"
# The whole bid
SECTION_NOT_SAVED = "Complete the {section} section"
LEAD_NOT_ELIGIBLE = "Bids for this call must be led by {kinds}: {organisation} is {kind}"
LEAD_OUTSIDE_AREA = "Bids for this call must be led by an organisation in {areas}: {organisation} is {where}"
CALL_CLOSED = "The call closed on {closed}: bids can no longer be submitted"
CALL_NOT_OPEN = "This call is not open for bids"

ENDORSEMENT = "endorsement"  # a pseudo-section: the endorsement panel on the task list

# Sections the applicant fills in; declarations are made on the check page when submitting.
FILLED_SECTIONS = [section for section in BidSection if section != BidSection.DECLARATIONS]


@dataclass(frozen=True)
class Problem:
    section: str
    message: str
    ineligible: bool = False


def uk_datetime(moment: dt.datetime) -> str:
    """Like '16 January 2027 at 5pm (UK time)' (governance.timefmt: the NHS style)."""
    return f"{nhs_datetime(moment)} (UK time)"


def uk_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def latest_end_date(start: dt.date, max_years: int) -> dt.date:
    """The last day a project starting on ``start`` may run to."""
    return add_years(start, max_years) - dt.timedelta(days=1)


def _labels(values, choices) -> str:
    labels = [choices(value).label for value in values if value in choices.values]
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " or " + labels[-1]


def kind_with_article(kind: str) -> str:
    """'an NHS trust', 'a GP practice', 'an integrated care board (ICB)'."""
    label = OrganisationKind(kind).label if kind in OrganisationKind.values else kind
    if len(label) > 1 and label[1].islower():
        label = label[0].lower() + label[1:]
    article = "an" if label[:1] in "aeioAEIO" or label.startswith("NHS") else "a"
    return f"{article} {label}"


def lead_eligibility_problem(call, organisation) -> str | None:
    """Why ``organisation`` may not lead a bid on ``call`` (its kind, or where it is), or None if it may."""
    if organisation.kind not in (call.eligible_org_kinds or []):
        kinds = _labels(call.eligible_org_kinds or [], OrganisationKind) or "no kind of organisation yet"
        return LEAD_NOT_ELIGIBLE.format(kinds=kinds, organisation=organisation.name,
                                        kind=kind_with_article(organisation.kind))
    if not call.area_allows(organisation):
        return LEAD_OUTSIDE_AREA.format(areas=" or ".join(call.eligible_area_labels), organisation=organisation.name,
                                        where=_where(organisation))
    return None


def _where(organisation) -> str:
    if organisation.region:
        where = f"in the {Region(organisation.region).label} region"
        if organisation.network_id:
            where += f" and the area of {organisation.network.name}"
        return where
    if organisation.network_id:
        return f"in the area of {organisation.network.name}"
    return "not recorded in any NHS region"


def duration_problem(call, start: dt.date | None, end: dt.date | None) -> str | None:
    if not (start and end):
        return None
    if end <= start:
        return END_BEFORE_START
    latest = latest_end_date(start, call.max_duration_years)
    if end > latest:
        return DURATION_TOO_LONG.format(years=call.max_duration_years, latest=uk_date(latest))
    return None


def fund_years_problem(call, start: dt.date | None, end: dt.date | None) -> str | None:
    if not (start and end) or end <= start:
        return None
    fund = call.fund
    years = fy.years_spanning(start, end)
    if years[0] < fund.first_year or years[-1] > fund.last_year:
        return YEARS_OUTSIDE_FUND.format(first=fy.label(fund.first_year), last=fy.label(fund.last_year))
    return None


def total_problem(call, total: Decimal) -> str | None:
    if total < call.min_amount:
        return TOTAL_BELOW_MINIMUM.format(total=format_money(total), minimum=format_money(call.min_amount))
    if total > call.max_amount:
        return TOTAL_ABOVE_MAXIMUM.format(total=format_money(total), maximum=format_money(call.max_amount))
    return None


def year_outside_project(message: str, bid: Bid, year: int) -> str:
    years = bid.years
    first, last = (fy.label(years[0]), fy.label(years[-1])) if years else ("", "")
    return message.format(year=fy.label(year), first=first, last=last)


def _pennies(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def projected_return(savings: Decimal, cost: Decimal) -> Decimal | None:
    """Savings over cost, to 2 places, halves rounded up; exactly as the page's script does."""
    cost_p, savings_p = _pennies(cost), _pennies(savings)
    if cost_p <= 0:
        return None
    hundredths = (200 * savings_p + cost_p) // (2 * cost_p)
    return Decimal(hundredths) / 100


def _summary(bid: Bid) -> list[Problem]:
    found = []
    if not bid.title.strip():
        found.append(Problem(BidSection.SUMMARY, TITLE_MISSING))
    if not bid.summary.strip():
        found.append(Problem(BidSection.SUMMARY, SUMMARY_MISSING))
    if not bid.problem.strip():
        found.append(Problem(BidSection.SUMMARY, PROBLEM_MISSING))
    if not (bid.start_date and bid.end_date):
        found.append(Problem(BidSection.SUMMARY, DATES_MISSING))
    else:
        for message in (duration_problem(bid.call, bid.start_date, bid.end_date),
                        fund_years_problem(bid.call, bid.start_date, bid.end_date)):
            if message:
                found.append(Problem(BidSection.SUMMARY, message, ineligible=True))
    return found


def _innovation(bid: Bid) -> list[Problem]:
    S, call, found = BidSection.INNOVATION, bid.call, []
    if not bid.innovation_type:
        found.append(Problem(S, INNOVATION_TYPE_MISSING))
    elif bid.innovation_type not in (call.innovation_types or []):
        found.append(Problem(S, INNOVATION_TYPE_NOT_ACCEPTED.format(choices=" or ".join(call.innovation_type_labels)),
                             ineligible=True))
    if not bid.innovation_description.strip():
        found.append(Problem(S, INNOVATION_MISSING))
    if not bid.evidence_base.strip():
        found.append(Problem(S, EVIDENCE_MISSING))
    return found


def _pathway(bid: Bid) -> list[Problem]:
    found = []
    if not bid.care_settings:
        found.append(Problem(BidSection.PATHWAY, CARE_SETTINGS_MISSING))
    if not bid.pathway_description.strip():
        found.append(Problem(BidSection.PATHWAY, PATHWAY_MISSING))
    return found


def _partners(bid: Bid) -> list[Problem]:
    S, call, found = BidSection.PARTNERS, bid.call, []
    roles = {partner.role for partner in bid.partners.all()}
    for kind in call.required_partner_kinds or []:
        if kind not in roles and kind in PartnerKind.values:
            found.append(Problem(S, PARTNER_KIND_MISSING.format(role=PartnerKind(kind).label.lower()), ineligible=True))
    if call.endorsement_required:
        if bid.commissioner is None:
            found.append(Problem(S, COMMISSIONER_MISSING))
        elif bid.commissioner.kind not in COMMISSIONING_KINDS:
            found.append(Problem(S, COMMISSIONER_NOT_COMMISSIONING))
    return found


def _endorsement(bid: Bid) -> list[Problem]:
    if not bid.call.endorsement_required or bid.commissioner_id is None:
        return []
    if bid.endorsement_status == EndorsementStatus.DECLINED:
        return [Problem(ENDORSEMENT, ENDORSEMENT_DECLINED)]
    if bid.endorsement_status != EndorsementStatus.ENDORSED:
        return [Problem(ENDORSEMENT, ENDORSEMENT_NEEDED)]
    return []


def _costs(bid: Bid) -> list[Problem]:
    S, found = BidSection.COSTS, []
    costs = list(bid.costs.all())
    if not costs:
        return [Problem(S, COSTS_MISSING)]
    for year in sorted({cost.financial_year for cost in costs} - set(bid.years)):
        found.append(Problem(S, year_outside_project(COST_YEAR_OUTSIDE_PROJECT, bid, year), ineligible=True))
    if message := total_problem(bid.call, sum((cost.amount for cost in costs), Decimal("0.00"))):
        found.append(Problem(S, message, ineligible=True))
    return found


def _savings(bid: Bid) -> list[Problem]:
    S = BidSection.SAVINGS
    years = {saving.financial_year for saving in bid.projected_savings.all()}
    if not years:
        return [Problem(S, SAVINGS_MISSING)]
    return [Problem(S, year_outside_project(SAVING_YEAR_OUTSIDE_PROJECT, bid, year), ineligible=True)
            for year in sorted(years - set(bid.years))]


def _benefits(bid: Bid) -> list[Problem]:
    return [] if bid.benefit_measures.exists() else [Problem(BidSection.BENEFITS, BENEFITS_MISSING)]


def _delivery(bid: Bid) -> list[Problem]:
    S, found = BidSection.DELIVERY, []
    if not bid.delivery_plan.strip():
        found.append(Problem(S, DELIVERY_PLAN_MISSING))
    milestones = list(bid.milestones.all())
    if not milestones:
        found.append(Problem(S, MILESTONES_MISSING))
    elif bid.start_date and bid.end_date:
        for milestone in milestones:
            if not bid.start_date <= milestone.due_date <= bid.end_date:
                found.append(Problem(S, MILESTONE_OUTSIDE_PROJECT.format(
                    title=milestone.title, start=uk_date(bid.start_date), end=uk_date(bid.end_date))))
    return found


def _risks(bid: Bid) -> list[Problem]:
    return [] if bid.risks.exists() else [Problem(BidSection.RISKS, RISKS_MISSING)]


def _attachments(bid: Bid) -> list[Problem]:
    """Files not yet cleared by the virus scan cannot go in with the bid."""
    found = []
    for name, status in bid.attachments.exclude(scan_status=ScanStatus.AVAILABLE).values_list("original_name", "scan_status"):
        message = ATTACHMENT_QUARANTINED if status == ScanStatus.QUARANTINED else ATTACHMENT_AWAITING_SCAN
        found.append(Problem(BidSection.ATTACHMENTS, message.format(name=name)))
    return found


# What is missing or ineligible in each section (declarations have no rules; attachments only
# that each has passed its virus scan).
SECTION_CHECKS = {
    BidSection.SUMMARY: _summary, BidSection.INNOVATION: _innovation, BidSection.PATHWAY: _pathway,
    BidSection.PARTNERS: _partners, BidSection.COSTS: _costs, BidSection.SAVINGS: _savings,
    BidSection.BENEFITS: _benefits, BidSection.DELIVERY: _delivery, BidSection.RISKS: _risks,
    BidSection.ATTACHMENTS: _attachments, ENDORSEMENT: _endorsement,
}


def problems_in_section(bid: Bid, section: str) -> list[Problem]:
    """What is missing or ineligible in one section (only that section's rows are read)."""
    check = SECTION_CHECKS.get(section)
    return check(bid) if check else []


def _section_problems(bid: Bid) -> dict[str, list[Problem]]:
    return {section: problems_in_section(bid, section) for section in [*BidSection.values, ENDORSEMENT]}


def status_of(version: int, problems: list[Problem]) -> str:
    """Not started until saved once, then in progress until nothing in it is missing."""
    if not version:
        return SectionStatus.NOT_STARTED
    return SectionStatus.IN_PROGRESS if problems else SectionStatus.COMPLETED


def bid_overview(bid: Bid, now: dt.datetime | None = None) -> tuple[dict[str, str], list[Problem]]:
    """Each section's status and every problem stopping submission, worked out in one pass."""
    versions = {state.section: state.version for state in bid.section_states.all()}
    by_section = _section_problems(bid)
    statuses = {section: status_of(versions.get(section, 0), by_section[section]) for section in BidSection.values}
    call = bid.call
    problems: list[Problem] = []
    moment = now or timezone.now()
    if bid.status == BidStatus.DRAFT and not call.is_accepting_bids(moment):
        message = CALL_CLOSED.format(closed=uk_datetime(call.closes_at)) if moment >= call.closes_at else CALL_NOT_OPEN
        problems.append(Problem("call", message, ineligible=True))
    if lead_problem := lead_eligibility_problem(call, bid.lead_organisation):
        problems.append(Problem(BidSection.SUMMARY, lead_problem, ineligible=True))
    for section in FILLED_SECTIONS:
        if not versions.get(section) and not by_section[section]:
            problems.append(Problem(section, SECTION_NOT_SAVED.format(section=section.label.lower())))
        problems.extend(by_section[section])
    problems.extend(by_section[ENDORSEMENT])
    return statuses, problems


def section_status(bid: Bid, section: str) -> str:
    state = bid.section_states.filter(section=section).first()
    return status_of(state.version if state else 0, problems_in_section(bid, section))


def bid_problems(bid: Bid, now: dt.datetime | None = None) -> list[Problem]:
    """Everything that stops the bid being submitted at ``now``, in task-list order.

    Sections never saved are listed as not done; a section saved with gaps lists each gap.
    """
    return bid_overview(bid, now)[1]
