"""Writes for the assessment stage: one function per change, each in a transaction with its
audit event, raising ``ValidationError`` with the message constants below (keyed by the form
field they belong to where there is one).

Locks: a change to a call's assignments, moderations or decisions locks the call's row first,
so automatic assignment, a decision and the release never interleave; a change to a score
sheet locks its assignment's row, so two saves of one sheet (two tabs) run one after the other.

The writes live in one module per topic; every name is importable from here as before
(``from assessment.services import X``, ``services.X``):

- ``assignments``: starting assessment, assigning assessors, conflicts of interest;
- ``score_sheets``: score sheets (save, submit, reopen) and the reminders when scores fall due;
- ``clarifications``: questions to the applicant and their replies;
- ``panel``: moderation, panel decisions and their release;
- ``panel_packs``: the zips of bids for panel members;
- ``pool``: the assessor pool and the yearly declaration of interests;
- ``invitations``: invitations to assess a call;
- ``_shared``: the private helpers several of them use (locks, state checks, links).
"""

from __future__ import annotations

from governance.services import (
    CALL_NOT_CLOSED as CALL_NOT_CLOSED,  # call_assessment_start raises it
)

from ..messages import (  # the messages live beside the services; kept importable from here
    ALREADY_ASSIGNED as ALREADY_ASSIGNED,
    ALREADY_DECLARED as ALREADY_DECLARED,
    ALREADY_REPLIED as ALREADY_REPLIED,
    AMOUNT_ABOVE_REQUESTED as AMOUNT_ABOVE_REQUESTED,
    AMOUNT_NEEDED as AMOUNT_NEEDED,
    AMOUNT_ZERO as AMOUNT_ZERO,
    ASSESSOR_CANNOT_SIGN_IN as ASSESSOR_CANNOT_SIGN_IN,
    ASSESSOR_CONFLICTED as ASSESSOR_CONFLICTED,
    ASSESSOR_DECLARED_CONFLICT as ASSESSOR_DECLARED_CONFLICT,
    ASSESSOR_NOT_ACCEPTED as ASSESSOR_NOT_ACCEPTED,
    ASSIGNMENT_ENDED as ASSIGNMENT_ENDED,
    BID_DECIDED as BID_DECIDED,
    BID_HAS_ENOUGH as BID_HAS_ENOUGH,
    BID_NOT_IN_ASSESSMENT as BID_NOT_IN_ASSESSMENT,
    BIDS_WAITING as BIDS_WAITING,
    CHAIR_CONFLICTED as CHAIR_CONFLICTED,
    CLARIFICATION_WAITING as CLARIFICATION_WAITING,
    COMMENT_NEEDED as COMMENT_NEEDED,
    CONDITIONS_NEEDED as CONDITIONS_NEEDED,
    CONFLICT_CHOICE_NEEDED as CONFLICT_CHOICE_NEEDED,
    CONFLICT_DESCRIPTION_NEEDED as CONFLICT_DESCRIPTION_NEEDED,
    CONFLICT_KIND_NEEDED as CONFLICT_KIND_NEEDED,
    DECISION_NEEDED as DECISION_NEEDED,
    DECISION_RELEASED as DECISION_RELEASED,
    DECISIONS_MISSING as DECISIONS_MISSING,
    DECLARATION_NEEDED as DECLARATION_NEEDED,
    DECLARE_FIRST as DECLARE_FIRST,
    DECLINE_REASON_NEEDED as DECLINE_REASON_NEEDED,
    DEPARTURE_RATIONALE_NEEDED as DEPARTURE_RATIONALE_NEEDED,
    DEPUTY_NOT_NEEDED as DEPUTY_NOT_NEEDED,
    INTEREST_ORGS_NEEDED as INTEREST_ORGS_NEEDED,
    INVITATION_ANSWERED as INVITATION_ANSWERED,
    INVITATION_EXPIRED as INVITATION_EXPIRED,
    INVITATION_OTHER_ACCOUNT as INVITATION_OTHER_ACCOUNT,
    INVITE_CALL_FINISHED as INVITE_CALL_FINISHED,
    INVITE_CHOOSE as INVITE_CHOOSE,
    INVITE_DAYS_RANGE as INVITE_DAYS_RANGE,
    INVITE_NOT_IN_POOL as INVITE_NOT_IN_POOL,
    MODERATION_OUTSTANDING as MODERATION_OUTSTANDING,
    MODERATION_RATIONALE_NEEDED as MODERATION_RATIONALE_NEEDED,
    NO_PANEL as NO_PANEL,
    NOT_A_SCORING_MEMBER as NOT_A_SCORING_MEMBER,
    NOT_FLAGGED as NOT_FLAGGED,
    NOT_IN_ASSESSMENT as NOT_IN_ASSESSMENT,
    NOT_ON_THIS_BID as NOT_ON_THIS_BID,
    NOT_THE_CHAIR as NOT_THE_CHAIR,
    OUTCOME_NEEDED as OUTCOME_NEEDED,
    PACK_EMPTY as PACK_EMPTY,
    PACK_NOT_IN_ASSESSMENT as PACK_NOT_IN_ASSESSMENT,
    POOL_ALREADY as POOL_ALREADY,
    POOL_PERSON_NEEDED as POOL_PERSON_NEEDED,
    POOL_PERSON_UNKNOWN as POOL_PERSON_UNKNOWN,
    POOL_SHARE_NETWORK_NEEDED as POOL_SHARE_NETWORK_NEEDED,
    PUBLIC_REASON_NEEDED as PUBLIC_REASON_NEEDED,
    QUESTION_NEEDED as QUESTION_NEEDED,
    REOPEN_REASON_NEEDED as REOPEN_REASON_NEEDED,
    REPLY_BY_IN_PAST as REPLY_BY_IN_PAST,
    REPLY_BY_NEEDED as REPLY_BY_NEEDED,
    REPLY_BY_TOO_LATE as REPLY_BY_TOO_LATE,
    REPLY_NEEDED as REPLY_NEEDED,
    REPLY_TOO_LATE as REPLY_TOO_LATE,
    SCORE_NEEDED as SCORE_NEEDED,
    SCORE_NOT_WHOLE as SCORE_NOT_WHOLE,
    SCORE_OUTSIDE_SCALE as SCORE_OUTSIDE_SCALE,
    SCORING_CLOSED as SCORING_CLOSED,
    SCORING_NOT_FINISHED as SCORING_NOT_FINISHED,
    SHEET_NOT_SUBMITTED as SHEET_NOT_SUBMITTED,
    SHEET_SUBMITTED as SHEET_SUBMITTED,
    TERMS_NEEDED as TERMS_NEEDED,
    WITHDRAW_REASON_NEEDED as WITHDRAW_REASON_NEEDED,
    WITHDRAW_SUBMITTED as WITHDRAW_SUBMITTED,
)
from .assignments import (
    AutoAssignment as AutoAssignment,
    assignment_create as assignment_create,
    assignment_reassign as assignment_reassign,
    assignments_auto as assignments_auto,
    call_assessment_start as call_assessment_start,
    conflict_declare as conflict_declare,
)
from .clarifications import (
    clarification_ask as clarification_ask,
    clarification_attachment_scan as clarification_attachment_scan,
    clarification_reply as clarification_reply,
)
from .invitations import (
    INVITATION_DAYS as INVITATION_DAYS,
    REMIND_BEFORE as REMIND_BEFORE,
    _uk as _uk,  # the invitation page words an expiry the same way
    assessors_invite as assessors_invite,
    invitation_respond as invitation_respond,
    invitations_remind_and_expire as invitations_remind_and_expire,
)
from .panel import (
    DECISION_FIELDS as DECISION_FIELDS,
    decision_record as decision_record,
    decisions_release as decisions_release,
    moderation_record as moderation_record,
)
from .panel_packs import (
    panel_pack_build as panel_pack_build,
    panel_pack_request as panel_pack_request,
)
from .pool import (
    assessor_declaration_make as assessor_declaration_make,
    pool_member_add as pool_member_add,
    pool_member_remove as pool_member_remove,
    pool_member_update as pool_member_update,
    pool_share as pool_share,
)
from .score_sheets import (
    ScoreInput as ScoreInput,
    assignment_reminders_send as assignment_reminders_send,
    score_sheet_reopen as score_sheet_reopen,
    score_sheet_save as score_sheet_save,
    score_sheet_submit as score_sheet_submit,
)
