"""Writes for the awards stage: one function per state transition.

Money rules:
- Every movement of money is a ``PotLedgerEntry`` written in the same transaction as the
  change that causes it. Committed = commits − releases; paid = payments.
- A service that commits or releases money locks the pot's ``PotBudget`` rows for the years
  it touches (``select_for_update``, ordered by year) and reads the ledger only after the
  locks are held, so two managers issuing at once can never over-commit a pot.
- Lock order, everywhere: the decision or the award row first, then the budget rows, then
  instalments. Nothing holds a budget row while waiting for an award row, so no deadlock.

One module per topic, everything public re-exported here (``from awards.services import X`` and
``services.X`` are the way to reach it): ``issuing`` (offering an award), ``transitions``
(accepting, declining, lapsing; the fund manager's starts, suspensions and closures),
``offer_letters``, ``conditions`` (and their evidence), ``payments`` (instalments) and
``variations``. Helpers several of them use live in ``_shared``.
"""

from __future__ import annotations

# The refusals of the lifecycle tables, still importable from here (pages and tests use them).
from ..lifecycle import (
    CONDITION_CLOSED as CONDITION_CLOSED,
    CONDITION_NOT_OPEN as CONDITION_NOT_OPEN,
    INSTALMENT_NOT_RELEASED as INSTALMENT_NOT_RELEASED,
    INSTALMENT_NOT_SCHEDULED as INSTALMENT_NOT_SCHEDULED,
    NOT_OFFERED as NOT_OFFERED,
    TRANSITION_NOT_ALLOWED as TRANSITION_NOT_ALLOWED,
    VARIATION_DECIDED as VARIATION_DECIDED,
)

# Messages (tests import these) --------------------------------------------------------------------
from ..messages import (  # the messages live beside the services; kept importable from here
    ALREADY_ISSUED as ALREADY_ISSUED,
    AMOUNT_ABOVE_DECISION as AMOUNT_ABOVE_DECISION,
    AMOUNT_NOT_POSITIVE as AMOUNT_NOT_POSITIVE,
    AWARD_ENDED as AWARD_ENDED,
    AWARD_NOT_ACTIVE as AWARD_NOT_ACTIVE,
    BID_HAS_NO_POT as BID_HAS_NO_POT,
    CONDITION_DUE_AFTER_END as CONDITION_DUE_AFTER_END,
    CONDITION_DUE_PAST as CONDITION_DUE_PAST,
    CONDITION_PAYMENT_PAID as CONDITION_PAYMENT_PAID,
    CONDITION_PAYMENT_UNKNOWN as CONDITION_PAYMENT_UNKNOWN,
    CONDITION_TITLE_MISSING as CONDITION_TITLE_MISSING,
    CONDITION_TITLE_TOO_LONG as CONDITION_TITLE_TOO_LONG,
    CONDITIONS_HOLD_BACK as CONDITIONS_HOLD_BACK,
    DATES_OUT_OF_ORDER as DATES_OUT_OF_ORDER,
    DECISION_HAS_NO_AMOUNT as DECISION_HAS_NO_AMOUNT,
    DECISION_NOT_FUNDED as DECISION_NOT_FUNDED,
    DECISION_NOT_RELEASED as DECISION_NOT_RELEASED,
    DECLINE_REASON_MISSING as DECLINE_REASON_MISSING,
    END_AFTER_FUND as END_AFTER_FUND,
    EVIDENCE_NOT_SCANNED as EVIDENCE_NOT_SCANNED,
    EVIDENCE_QUARANTINED as EVIDENCE_QUARANTINED,
    FUNDER_ORG_ID_MISSING as FUNDER_ORG_ID_MISSING,
    LETTER_NOT_ALLOWED as LETTER_NOT_ALLOWED,
    NO_EVIDENCE_TO_SIGN_OFF as NO_EVIDENCE_TO_SIGN_OFF,
    NOT_RECIPIENT as NOT_RECIPIENT,
    NOT_SIGNATORY as NOT_SIGNATORY,
    NOTE_MISSING as NOTE_MISSING,
    OFFER_DEADLINE_PAST as OFFER_DEADLINE_PAST,
    OFFER_EXPIRED as OFFER_EXPIRED,
    OFFER_LETTER_NOT_READY as OFFER_LETTER_NOT_READY,
    PAID_AMOUNT_DIFFERS as PAID_AMOUNT_DIFFERS,
    PAID_AMOUNT_MISSING as PAID_AMOUNT_MISSING,
    PAID_AMOUNT_NOT_POSITIVE as PAID_AMOUNT_NOT_POSITIVE,
    PAID_AMOUNT_TOO_LARGE as PAID_AMOUNT_TOO_LARGE,
    PAID_ON_BEFORE_RELEASE as PAID_ON_BEFORE_RELEASE,
    PAID_ON_FUTURE as PAID_ON_FUTURE,
    PAID_ON_MISSING as PAID_ON_MISSING,
    PAYMENT_ABOVE_COMMITMENT as PAYMENT_ABOVE_COMMITMENT,
    PAYMENT_REFERENCE_INVALID as PAYMENT_REFERENCE_INVALID,
    PAYMENT_REFERENCE_MISSING as PAYMENT_REFERENCE_MISSING,
    POT_HAS_NO_BUDGET as POT_HAS_NO_BUDGET,
    POT_OVERCOMMITTED as POT_OVERCOMMITTED,
    PRESTART_CONDITIONS_OPEN as PRESTART_CONDITIONS_OPEN,
    PROFILE_EMPTY as PROFILE_EMPTY,
    PROFILE_NEGATIVE as PROFILE_NEGATIVE,
    PROFILE_NOT_TOTAL as PROFILE_NOT_TOTAL,
    PROFILE_YEAR_OUTSIDE_DATES as PROFILE_YEAR_OUTSIDE_DATES,
    PROFILE_YEAR_OUTSIDE_FUND as PROFILE_YEAR_OUTSIDE_FUND,
    REASON_MISSING as REASON_MISSING,
    REJECTION_NOTE_MISSING as REJECTION_NOTE_MISSING,
    RELEASED_NOT_PAID as RELEASED_NOT_PAID,
    RETURN_FREQUENCY_FIXED as RETURN_FREQUENCY_FIXED,
    RETURN_FREQUENCY_NOT_ALLOWED as RETURN_FREQUENCY_NOT_ALLOWED,
    RETURN_NOT_APPROVED as RETURN_NOT_APPROVED,
    RETURN_NOT_LINKED as RETURN_NOT_LINKED,
    START_BEFORE_FUND as START_BEFORE_FUND,
    TEMPLATE_TITLE_TAKEN as TEMPLATE_TITLE_TAKEN,
    VARIATION_ALREADY_OPEN as VARIATION_ALREADY_OPEN,
    VARIATION_BELOW_PAID as VARIATION_BELOW_PAID,
    VARIATION_END_DATE_MISSING as VARIATION_END_DATE_MISSING,
    VARIATION_END_NOT_LATER as VARIATION_END_NOT_LATER,
    VARIATION_KIND_MISSING as VARIATION_KIND_MISSING,
    VARIATION_NO_CHANGE as VARIATION_NO_CHANGE,
    VARIATION_NOT_ALLOWED as VARIATION_NOT_ALLOWED,
    VARIATION_OVERSPENDS as VARIATION_OVERSPENDS,
    VARIATION_PROFILE_MISSING as VARIATION_PROFILE_MISSING,
    VARIATION_REASONS_MISSING as VARIATION_REASONS_MISSING,
    VARIATION_SCOPE_MISSING as VARIATION_SCOPE_MISSING,
    VARIATION_YEAR_ALL_PAID as VARIATION_YEAR_ALL_PAID,
)
from .conditions import (
    EVIDENCE_EMPTY as EVIDENCE_EMPTY,
    EVIDENCE_MISSING as EVIDENCE_MISSING,
    EVIDENCE_TOO_LARGE as EVIDENCE_TOO_LARGE,
    EVIDENCE_WRONG_TYPE as EVIDENCE_WRONG_TYPE,
    FIRST_PAYMENT as FIRST_PAYMENT,
    NO_PAYMENT as NO_PAYMENT,
    ConditionSpec as ConditionSpec,
    condition_evidence_scan as condition_evidence_scan,
    condition_evidence_submit as condition_evidence_submit,
    condition_return as condition_return,
    condition_schedule_set as condition_schedule_set,
    condition_sign_off as condition_sign_off,
    condition_template_create as condition_template_create,
    condition_waive as condition_waive,
    holds_back_key as holds_back_key,
)
from .issuing import (
    AWARD_FIELDS as AWARD_FIELDS,
    RETURN_FREQUENCIES as RETURN_FREQUENCIES,
    award_issue as award_issue,
)
from .offer_letters import (
    offer_letter_fail as offer_letter_fail,
    offer_letter_generate as offer_letter_generate,
    offer_letter_request as offer_letter_request,
)
from .payments import (
    PAYMENT_REFERENCE_PATTERN as PAYMENT_REFERENCE_PATTERN,
    clean_payment_reference as clean_payment_reference,
    instalment_mark_paid as instalment_mark_paid,
    instalment_release as instalment_release,
    release_blocker as release_blocker,
    remittance_text as remittance_text,
)
from .transitions import (
    award_accept as award_accept,
    award_activate as award_activate,
    award_close as award_close,
    award_decline as award_decline,
    award_lapse as award_lapse,
    award_resume as award_resume,
    award_return_frequency_set as award_return_frequency_set,
    award_suspend as award_suspend,
    award_withdraw as award_withdraw,
    awards_lapse_overdue as awards_lapse_overdue,
)
from .variations import (
    VARIABLE_STATUSES as VARIABLE_STATUSES,
    variation_approve as variation_approve,
    variation_reject as variation_reject,
    variation_request as variation_request,
)
