"""Every lifecycle table in one place, for people: the public "How things move through the fund"
page and ``docs/lifecycles.md`` (Mermaid diagrams) are both drawn from
``governance.lifecycle.REGISTRY``, so they cannot drift from what the services enforce."""

from __future__ import annotations

from dataclasses import dataclass

from governance.lifecycle import REGISTRY, Lifecycle

# Who holds each permission a transition asks for, in the words the portal's role pages use.
# A test checks every permission named in a lifecycle table has words here.
WHO: dict[str, str] = {
    "governance.manage_fund": "the fund's managers",
    "governance.manage_call": "the fund's managers",
    "governance.decide_organisation_request": "the network's fund managers",
    "applications.view_bid": "anyone who may read the bid",
    "applications.write_bid": "the bid's writers",
    "applications.manage_bid": "the fund's managers",
    "applications.submit_bid": "the lead organisation's members",
    "applications.sign_off_bid": "the lead organisation's signatory",
    "applications.endorse_bid": "the named commissioner",
    "applications.shortlist_eois": "the fund's managers",
    "applications.send_eoi_for": "the lead organisation's members",
    "assessment.manage_call": "the fund's managers",
    "assessment.chair_call": "the panel chair",
    "assessment.use_assessment": "the assigned assessor",
    "assessment.manage_pool": "the fund's managers",
    "assessment.request_pack": "the fund's managers",
    "awards.manage_award": "the fund's managers",
    "awards.issue_award": "the fund's managers",
    "awards.manage_conditions": "the fund's managers",
    "awards.respond_to_offer": "the funded organisation",
    "awards.act_for_recipient": "the funded organisation",
    "reporting.edit_return": "the funded organisation",
    "assessment.score_assignment": "the assigned assessor",
    "assessment.manage_assignment": "the fund's managers",
    "assessment.answer_invitation": "the invited assessor",
    "assessment.manage_invitation": "the fund's managers",
    "reporting.review_return": "the fund's managers",
    "reporting.request_impact_report": "the fund's managers and auditors",
    "reporting.manage_impact_report": "the fund's managers",
}
SYSTEM = "the portal itself"


@dataclass(frozen=True)
class Step:
    source: str
    verb: str
    target: str
    who: str


def who_may(permission: str, system: bool) -> str:
    if not permission:  # no person may: the portal's own step
        return SYSTEM
    people = WHO.get(permission, permission)
    return f"{people}, or {SYSTEM}" if system else people


def steps(lifecycle: Lifecycle) -> list[Step]:
    labels = dict(lifecycle.states.choices)
    return [
        Step(source=str(labels[source]), verb=row.verb, target=str(labels[row.target]),
             who=who_may(row.permission, row.system))
        for row in lifecycle.transitions
        for source in [value for value in lifecycle.states.values if value in row.sources]
    ]


# The page's order and headings: the order things happen in a fund's life. A table not named
# here (a new one) follows these, under its own name.
TITLES: dict[str, str] = {
    "call": "A funding call",
    "organisation_request": "A request to add an organisation",
    "expression_of_interest": "An expression of interest",
    "bid": "A bid",
    "bid_pdf": "A bid's PDF copy",
    "assessor_invitation": "An invitation to join the assessor pool",
    "assignment": "An assessor's assignment to a bid",
    "score_sheet": "A score sheet",
    "panel_pack": "A panel pack",
    "award": "An award",
    "offer_letter": "An offer letter",
    "award_condition": "A condition of an award",
    "instalment": "A payment instalment",
    "variation": "A variation to an award",
    "monitoring_return": "A monitoring return",
    "report_version_build": "An impact report version: building it",
    "report_version_publication": "An impact report version: publishing it",
}


def title(lifecycle: Lifecycle) -> str:
    return TITLES.get(lifecycle.name) or lifecycle.thing[:1].upper() + lifecycle.thing[1:]


def lifecycles() -> list[Lifecycle]:
    order = {name: index for index, name in enumerate(TITLES)}
    return sorted(REGISTRY.values(), key=lambda lifecycle: (order.get(lifecycle.name, len(order)), lifecycle.name))


def page_sections() -> list[dict[str, object]]:
    """What the public page shows for each lifecycle."""
    sections: list[dict[str, object]] = []
    for lifecycle in lifecycles():
        labels = dict(lifecycle.states.choices)
        sections.append({
            "name": lifecycle.name,
            "thing": lifecycle.thing,
            "title": title(lifecycle),
            "states": [str(labels[value]) for value in lifecycle.states.values],
            "final": [str(labels[value]) for value in lifecycle.final_states()],
            "steps": steps(lifecycle),
        })
    return sections


def markdown() -> str:
    """docs/lifecycles.md: each lifecycle as a Mermaid state diagram (GitHub draws them)."""
    parts = [
        "# Lifecycles",
        "",
        "Generated from the lifecycle tables (`<app>/lifecycle.py`) by "
        "`python manage.py lifecycle_diagrams`; do not edit by hand. The same tables drive the "
        "services and the public page at `/how-it-works/lifecycles/`.",
    ]
    for lifecycle in lifecycles():
        parts += ["", f"## {title(lifecycle)} (`{lifecycle.name}`)", "", "```mermaid",
                  lifecycle.mermaid(), "```"]
    return "\n".join(parts) + "\n"
