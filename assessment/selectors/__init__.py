"""Reads for the assessment stage, scoped to what the person may see.

- Assessors see their own assignments only (``assignment_of``); a bid's content only once they
  have declared no conflict on it (the score sheet, and the bid's page through
  ``applications.extensions.register_bid_reader``: see ``assessor_reads_bid``).
- Fund managers, panel chairs and the fund's auditors see a call's assignments, ranking and
  decisions; the views check ``assessment.*`` permissions (``rules.py``) first.
- Applicants see feedback on their own organisations' bids once decisions are released.

Who may see which fields of sheets, scores, conflicts and decisions is ``visibility.py``'s rule;
the pages and files read through it, and these selectors give it the raw material.

The ranking (``call_ranking``) reads a call's scores, assignments, moderations, costs, budgets
and decisions in a fixed number of queries however many bids the call has, and hands them to
the plain arithmetic in ``scoring.py``.

The package holds one module per topic, and every name is importable from here as it was from
the one module:

- ``conflicts``: conflicts of interest, exclusions and who chairs which bids;
- ``assessors``: an assessor's queue and assignments, and the applicant's answers by criterion;
- ``assignments``: a call's assignments, each assessor's load and the candidates for a bid;
- ``ranking``: the ranking and the funding line;
- ``panel``: a bid's scores, the panel's calls, decisions and feedback, reminders, panel packs;
- ``pool``: the assessor pool and invitations;
- ``_shared``: which assignments, bids and panel roles count, and a call's criteria.
"""

from ._shared import (
    ASSESSED_BID_STATUSES as ASSESSED_BID_STATUSES,
    CHAIRING_ROLES as CHAIRING_ROLES,
    LIVE_STATUSES as LIVE_STATUSES,
    ROLE_PREFERENCE as ROLE_PREFERENCE,
    SCORING_ROLES as SCORING_ROLES,
    ZERO as ZERO,
    criteria_of as criteria_of,
    criteria_with_rubric as criteria_with_rubric,
    criterion_specs as criterion_specs,
)
from .assessors import (
    ANSWERS_BY_KIND as ANSWERS_BY_KIND,
    SECTION_LABELS as SECTION_LABELS,
    QueueItem as QueueItem,
    assessor_queue as assessor_queue,
    assignment_of as assignment_of,
    assignments_managed_by as assignments_managed_by,
    criterion_answers as criterion_answers,
    decision_of as decision_of,
    panel_reads_bid as panel_reads_bid,
    sheet_scores as sheet_scores,
)
from .assignments import (
    BidAssignments as BidAssignments,
    Candidate as Candidate,
    MemberLoad as MemberLoad,
    assessor_candidates as assessor_candidates,
    call_assignments as call_assignments,
    live_assignments_of as live_assignments_of,
    scoring_members as scoring_members,
)
from .conflicts import (
    Exclusion as Exclusion,
    automatic_conflicts as automatic_conflicts,
    bid_org_ids as bid_org_ids,
    bids_chaired_by as bids_chaired_by,
    bids_no_chair_can_decide as bids_no_chair_can_decide,
    conflicts_register as conflicts_register,
    excluded_bid_ids as excluded_bid_ids,
    is_excluded as is_excluded,
    member_org_ids as member_org_ids,
    organisation_names as organisation_names,
    panel_affiliations as panel_affiliations,
    panel_exclusions as panel_exclusions,
)
from .panel import (
    AssessorScores as AssessorScores,
    CriterionFeedback as CriterionFeedback,
    assignments_due_for_reminder as assignments_due_for_reminder,
    bid_feedback as bid_feedback,
    bid_sheets as bid_sheets,
    calls_audited_by as calls_audited_by,
    calls_chaired_by as calls_chaired_by,
    calls_to_assess_managed_by as calls_to_assess_managed_by,
    clarification_waiting as clarification_waiting,
    decisions_in_rank_order as decisions_in_rank_order,
    decisions_of_call as decisions_of_call,
    moderations_of as moderations_of,
    pack_bids_for as pack_bids_for,
    pack_of as pack_of,
    packs_of as packs_of,
)
from .pool import (
    accepted_assessor_ids as accepted_assessor_ids,
    call_uses_invitations as call_uses_invitations,
    expertise_ids_by_user as expertise_ids_by_user,
    invitations_due_for_reminder as invitations_due_for_reminder,
    invitations_for as invitations_for,
    invitations_of_call as invitations_of_call,
    pool_networks_for as pool_networks_for,
    pool_networks_managed_by as pool_networks_managed_by,
    pool_of as pool_of,
    pool_profiles_of as pool_profiles_of,
)
from .ranking import (
    RANKED_BID_FIELDS as RANKED_BID_FIELDS,
    CallRanking as CallRanking,
    PotRanking as PotRanking,
    RankedBid as RankedBid,
    YearCell as YearCell,
    call_ranking as call_ranking,
    departs_from_ranking as departs_from_ranking,
)
