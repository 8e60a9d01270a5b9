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
from governance.models import COMMISSIONING_KINDS, OrganisationKind, PartnerKind
from governance.money import format_money

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
    """Like '16 January 2027 at 5:00pm (UK time)'."""
    local = timezone.localtime(moment)
    return f"{local.day} {local:%B %Y} at {local.strftime('%I:%M%p').lstrip('0').lower()} (UK time)"


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
    """Why ``organisation`` may not lead a bid on ``call``, or None if it may."""
    if organisation.kind in (call.eligible_org_kinds or []):
        return None
    kinds = _labels(call.eligible_org_kinds or [], OrganisationKind) or "no kind of organisation yet"
    return LEAD_NOT_ELIGIBLE.format(kinds=kinds, organisation=organisation.name, kind=kind_with_article(organisation.kind))


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


def _section_problems(bid: Bid) -> dict[str, list[Problem]]:
    call = bid.call
    found: dict[str, list[Problem]] = {section: [] for section in BidSection.values}
    found[ENDORSEMENT] = []

    def add(section: str, message: str, ineligible: bool = False) -> None:
        found[section].append(Problem(section, message, ineligible))

    # Project summary
    S = BidSection.SUMMARY
    if not bid.title.strip():
        add(S, TITLE_MISSING)
    if not bid.summary.strip():
        add(S, SUMMARY_MISSING)
    if not bid.problem.strip():
        add(S, PROBLEM_MISSING)
    if not (bid.start_date and bid.end_date):
        add(S, DATES_MISSING)
    else:
        if message := duration_problem(call, bid.start_date, bid.end_date):
            add(S, message, ineligible=True)
        if message := fund_years_problem(call, bid.start_date, bid.end_date):
            add(S, message, ineligible=True)
    # The innovation
    S = BidSection.INNOVATION
    if not bid.innovation_type:
        add(S, INNOVATION_TYPE_MISSING)
    elif bid.innovation_type not in (call.innovation_types or []):
        add(S, INNOVATION_TYPE_NOT_ACCEPTED.format(choices=" or ".join(call.innovation_type_labels)), ineligible=True)
    if not bid.innovation_description.strip():
        add(S, INNOVATION_MISSING)
    if not bid.evidence_base.strip():
        add(S, EVIDENCE_MISSING)
    # Care pathway
    S = BidSection.PATHWAY
    if not bid.care_settings:
        add(S, CARE_SETTINGS_MISSING)
    if not bid.pathway_description.strip():
        add(S, PATHWAY_MISSING)
    # Partners and the commissioner
    S = BidSection.PARTNERS
    partners = list(bid.partners.all())
    roles = {partner.role for partner in partners}
    for kind in call.required_partner_kinds or []:
        if kind not in roles and kind in PartnerKind.values:
            add(S, PARTNER_KIND_MISSING.format(role=PartnerKind(kind).label.lower()), ineligible=True)
    if call.endorsement_required:
        if bid.commissioner_id is None:
            add(S, COMMISSIONER_MISSING)
        elif bid.commissioner.kind not in COMMISSIONING_KINDS:
            add(S, COMMISSIONER_NOT_COMMISSIONING)
        elif bid.endorsement_status == EndorsementStatus.DECLINED:
            add(ENDORSEMENT, ENDORSEMENT_DECLINED)
        elif bid.endorsement_status != EndorsementStatus.ENDORSED:
            add(ENDORSEMENT, ENDORSEMENT_NEEDED)
    # Costs
    S = BidSection.COSTS
    costs = list(bid.costs.all())
    years = set(bid.years)
    if not costs:
        add(S, COSTS_MISSING)
    else:
        for year in sorted({cost.financial_year for cost in costs} - years):
            add(S, year_outside_project(COST_YEAR_OUTSIDE_PROJECT, bid, year), ineligible=True)
        total = sum((cost.amount for cost in costs), Decimal("0.00"))
        if message := total_problem(call, total):
            add(S, message, ineligible=True)
    # Savings
    S = BidSection.SAVINGS
    savings = list(bid.projected_savings.all())
    if not savings:
        add(S, SAVINGS_MISSING)
    for year in sorted({saving.financial_year for saving in savings} - years):
        add(S, year_outside_project(SAVING_YEAR_OUTSIDE_PROJECT, bid, year), ineligible=True)
    # Patient benefits
    if not bid.benefit_measures.exists():
        add(BidSection.BENEFITS, BENEFITS_MISSING)
    # Delivery plan and milestones
    S = BidSection.DELIVERY
    if not bid.delivery_plan.strip():
        add(S, DELIVERY_PLAN_MISSING)
    milestones = list(bid.milestones.all())
    if not milestones:
        add(S, MILESTONES_MISSING)
    elif bid.start_date and bid.end_date:
        for milestone in milestones:
            if not bid.start_date <= milestone.due_date <= bid.end_date:
                add(S, MILESTONE_OUTSIDE_PROJECT.format(
                    title=milestone.title, start=uk_date(bid.start_date), end=uk_date(bid.end_date)))
    # Risks
    if not bid.risks.exists():
        add(BidSection.RISKS, RISKS_MISSING)
    return found


def section_statuses(bid: Bid) -> dict[str, str]:
    """Each section's status as it stands: not started until saved once, then in progress
    until nothing in it is missing or ineligible, then completed."""
    versions = {state.section: state.version for state in bid.section_states.all()}
    problems = _section_problems(bid)
    statuses = {}
    for section in BidSection.values:
        if not versions.get(section):
            statuses[section] = SectionStatus.NOT_STARTED
        elif problems[section]:
            statuses[section] = SectionStatus.IN_PROGRESS
        else:
            statuses[section] = SectionStatus.COMPLETED
    return statuses


def section_status(bid: Bid, section: str) -> str:
    return section_statuses(bid)[section]


def problems_in_section(bid: Bid, section: str) -> list[Problem]:
    return _section_problems(bid).get(section, [])


def bid_problems(bid: Bid, now: dt.datetime | None = None) -> list[Problem]:
    """Everything that stops the bid being submitted at ``now``, in task-list order.

    Sections never saved are listed as not done; a section saved with gaps lists each gap.
    """
    call = bid.call
    problems: list[Problem] = []
    moment = now or timezone.now()
    if bid.status == BidStatus.DRAFT and not call.is_accepting_bids(moment):
        message = CALL_CLOSED.format(closed=uk_datetime(call.closes_at)) if moment >= call.closes_at else CALL_NOT_OPEN
        problems.append(Problem("call", message, ineligible=True))
    if message := lead_eligibility_problem(call, bid.lead_organisation):
        problems.append(Problem(BidSection.SUMMARY, message, ineligible=True))
    versions = {state.section: state.version for state in bid.section_states.all()}
    by_section = _section_problems(bid)
    for section in FILLED_SECTIONS:
        if not versions.get(section) and not by_section[section]:
            problems.append(Problem(section, SECTION_NOT_SAVED.format(section=section.label.lower())))
        problems.extend(by_section[section])
    problems.extend(by_section[ENDORSEMENT])
    return problems
