"""Writes for the governance stage: organisations, people, memberships, notifications, funds,
pots and budgets, panels, calls, criteria and the call lifecycle (its table is in
``call_lifecycle.py``; each call service checks its own rules, then changes the state through it).

Every function is keyword-only, validates, saves and writes its audit event in one
transaction, and raises ``ValidationError`` with the message constants below.

The services are split by topic; every public name is re-exported here, so callers import
from ``governance.services`` and never from a topic module:

- ``people``: organisations, users and memberships;
- ``notification_delivery``: ``notify``, emailing notifications one by one or in a daily
  digest, the person's choice between the two, read marks;
- ``funds``: funds, pots and budgets, fund auditors, panels and their members;
- ``calls``: a call's fields and checks, creating, changing and copying calls, what stops a
  call from being published;
- ``call_steps``: the call's lifecycle steps, from publishing to closing out, and
  ``calls_advance`` (the beat);
- ``criteria``: criteria, rubric descriptors and weights;
- ``engagement``: a fund's wording of notifications, questions on open calls, public alerts;
- ``_shared``: private helpers the topic modules share.
"""

from __future__ import annotations

from ..messages import (  # the messages live beside the services; kept importable from here
    ALERT_LINK_EXPIRED as ALERT_LINK_EXPIRED,
    ALERT_LINK_INVALID as ALERT_LINK_INVALID,
    ALERT_RATE_LIMITED as ALERT_RATE_LIMITED,
    AMOUNTS_OUT_OF_ORDER as AMOUNTS_OUT_OF_ORDER,
    ANSWER_EMPTY as ANSWER_EMPTY,
    ASSESSMENT_DUE_TOO_EARLY as ASSESSMENT_DUE_TOO_EARLY,
    BUDGET_BELOW_COMMITTED as BUDGET_BELOW_COMMITTED,
    CALL_ALREADY_OPENED as CALL_ALREADY_OPENED,
    CALL_FROZEN as CALL_FROZEN,
    CALL_NOT_CLOSED as CALL_NOT_CLOSED,
    CALL_NOT_DECIDED as CALL_NOT_DECIDED,
    CALL_NOT_DRAFT as CALL_NOT_DRAFT,
    CALL_NOT_EXTENDABLE as CALL_NOT_EXTENDABLE,
    CALL_NOT_IN_ASSESSMENT as CALL_NOT_IN_ASSESSMENT,
    CALL_NOT_OPEN as CALL_NOT_OPEN,
    CALL_NOT_SCHEDULED as CALL_NOT_SCHEDULED,
    CALL_NOT_STARTED as CALL_NOT_STARTED,
    CALL_NOT_YET_OPENING as CALL_NOT_YET_OPENING,
    CALL_SLUG_TAKEN as CALL_SLUG_TAKEN,
    CLOSE_EARLY_REASON as CLOSE_EARLY_REASON,
    CLOSES_BEFORE_OPENS as CLOSES_BEFORE_OPENS,
    CLOSES_IN_PAST as CLOSES_IN_PAST,
    CRITERIA_FROZEN as CRITERIA_FROZEN,
    DECISIONS_TOO_EARLY as DECISIONS_TOO_EARLY,
    DESCRIPTORS_MISSING as DESCRIPTORS_MISSING,
    EMAIL_TAKEN as EMAIL_TAKEN,
    EOI_CLOSES_AFTER_BIDS_OPEN as EOI_CLOSES_AFTER_BIDS_OPEN,
    EOI_CLOSES_BEFORE_OPENS as EOI_CLOSES_BEFORE_OPENS,
    EOI_CLOSES_IN_PAST as EOI_CLOSES_IN_PAST,
    EOI_CLOSES_NEEDED as EOI_CLOSES_NEEDED,
    EOI_OPENS_NEEDED as EOI_OPENS_NEEDED,
    EXTENSION_NOT_LATER as EXTENSION_NOT_LATER,
    EXTENSION_PAST_TIMETABLE as EXTENSION_PAST_TIMETABLE,
    EXTENSION_REASON as EXTENSION_REASON,
    EXTENSION_TOO_LONG as EXTENSION_TOO_LONG,
    FUND_AUDITOR_TAKEN as FUND_AUDITOR_TAKEN,
    FUND_HOST_HAS_CALLS as FUND_HOST_HAS_CALLS,
    FUND_NATIONAL_HAS_POTS as FUND_NATIONAL_HAS_POTS,
    FUND_RING_FENCED_POT_WITHOUT_NETWORK as FUND_RING_FENCED_POT_WITHOUT_NETWORK,
    FUND_SLUG_RESERVED as FUND_SLUG_RESERVED,
    FUND_SLUG_TAKEN as FUND_SLUG_TAKEN,
    FUND_YEARS_EXCLUDE_BUDGETS as FUND_YEARS_EXCLUDE_BUDGETS,
    FUND_YEARS_OUT_OF_ORDER as FUND_YEARS_OUT_OF_ORDER,
    GATEWAY_OUTSIDE_SCALE as GATEWAY_OUTSIDE_SCALE,
    HOST_NOT_IN_FUND as HOST_NOT_IN_FUND,
    MAX_AMOUNT_ZERO as MAX_AMOUNT_ZERO,
    NO_COST_SAVING as NO_COST_SAVING,
    NO_CRITERIA as NO_CRITERIA,
    NO_ELIGIBLE_KINDS as NO_ELIGIBLE_KINDS,
    NO_INNOVATION_TYPES as NO_INNOVATION_TYPES,
    NO_PANEL as NO_PANEL,
    NO_PATIENT_BENEFIT as NO_PATIENT_BENEFIT,
    NO_POTS as NO_POTS,
    NOT_A_CHOICE as NOT_A_CHOICE,
    NOT_A_NETWORK as NOT_A_NETWORK,
    NOT_YOUR_SESSIONS as NOT_YOUR_SESSIONS,
    PANEL_MEETING_TOO_EARLY as PANEL_MEETING_TOO_EARLY,
    PANEL_MEMBER_TAKEN as PANEL_MEMBER_TAKEN,
    PANEL_NAME_TAKEN as PANEL_NAME_TAKEN,
    PANEL_NOT_IN_FUND as PANEL_NOT_IN_FUND,
    POT_NAME_TAKEN as POT_NAME_TAKEN,
    POT_NATIONAL_NO_NETWORK as POT_NATIONAL_NO_NETWORK,
    POT_NATIONAL_ONLY_ONE as POT_NATIONAL_ONLY_ONE,
    POT_NETWORK_IN_USE as POT_NETWORK_IN_USE,
    POT_NETWORK_REQUIRED as POT_NETWORK_REQUIRED,
    POT_NETWORK_TAKEN as POT_NETWORK_TAKEN,
    POT_NOT_IN_FUND as POT_NOT_IN_FUND,
    POT_OF_OTHER_NETWORK as POT_OF_OTHER_NETWORK,
    POT_WITHOUT_BUDGET as POT_WITHOUT_BUDGET,
    QUESTION_ALREADY_PUBLISHED as QUESTION_ALREADY_PUBLISHED,
    QUESTION_EMPTY as QUESTION_EMPTY,
    QUESTION_NOT_ANSWERED as QUESTION_NOT_ANSWERED,
    QUESTION_TOO_LONG as QUESTION_TOO_LONG,
    QUESTIONS_CLOSE_OUTSIDE_CALL as QUESTIONS_CLOSE_OUTSIDE_CALL,
    QUESTIONS_CLOSED as QUESTIONS_CLOSED,
    QUESTIONS_NOT_TAKEN as QUESTIONS_NOT_TAKEN,
    SCALE_OUT_OF_ORDER as SCALE_OUT_OF_ORDER,
    UNPUBLISH_REASON as UNPUBLISH_REASON,
    WEIGHTS_NOT_100 as WEIGHTS_NOT_100,
    WEIGHTS_OVER_100 as WEIGHTS_OVER_100,
    YEAR_OUTSIDE_FUND as YEAR_OUTSIDE_FUND,
)
from ..models import (  # the model's message for a taken ODS code; kept importable from here
    ODS_CODE_TAKEN as ODS_CODE_TAKEN,
)
from ..selectors import (  # a selector the services read; kept importable from here
    call_bid_holders as call_bid_holders,
)
from .call_steps import (
    call_close as call_close,
    call_close_out as call_close_out,
    call_extend_closing as call_extend_closing,
    call_mark_decided as call_mark_decided,
    call_open as call_open,
    call_publish as call_publish,
    call_start_assessment as call_start_assessment,
    call_unpublish as call_unpublish,
    calls_advance as calls_advance,
)
from .calls import (
    CALL_FIELDS as CALL_FIELDS,
    CALL_FIELDS_EDITABLE_WHEN_PUBLISHED as CALL_FIELDS_EDITABLE_WHEN_PUBLISHED,
    call_copy as call_copy,
    call_create as call_create,
    call_publish_problems as call_publish_problems,
    call_update as call_update,
)
from .criteria import (
    CRITERION_FIELDS as CRITERION_FIELDS,
    criteria_weights_set as criteria_weights_set,
    criterion_add as criterion_add,
    criterion_remove as criterion_remove,
    criterion_update as criterion_update,
)
from .engagement import (
    ALERT_SALT_CONFIRM as ALERT_SALT_CONFIRM,
    ALERT_SALT_UNSUBSCRIBE as ALERT_SALT_UNSUBSCRIBE,
    call_alert_confirm as call_alert_confirm,
    call_alert_confirm_link as call_alert_confirm_link,
    call_alert_subscribe as call_alert_subscribe,
    call_alert_unsubscribe as call_alert_unsubscribe,
    call_alert_unsubscribe_link as call_alert_unsubscribe_link,
    call_alerts_send as call_alerts_send,
    call_question_answer as call_question_answer,
    call_question_ask as call_question_ask,
    call_question_publish as call_question_publish,
    call_takes_questions as call_takes_questions,
    notification_wording_reset as notification_wording_reset,
    notification_wording_save as notification_wording_save,
)
from .funds import (
    FUND_AUDITOR_IS_BIDDER as FUND_AUDITOR_IS_BIDDER,
    FUND_AUDITOR_IS_MANAGER as FUND_AUDITOR_IS_MANAGER,
    FUND_FIELDS as FUND_FIELDS,
    PANEL_FIELDS as PANEL_FIELDS,
    POT_FIELDS as POT_FIELDS,
    RESERVED_FUND_SLUGS as RESERVED_FUND_SLUGS,
    fund_auditor_add as fund_auditor_add,
    fund_auditor_remove as fund_auditor_remove,
    fund_create as fund_create,
    fund_update as fund_update,
    panel_create as panel_create,
    panel_member_add as panel_member_add,
    panel_member_affiliation_add as panel_member_affiliation_add,
    panel_member_affiliation_remove as panel_member_affiliation_remove,
    panel_member_remove as panel_member_remove,
    panel_member_update as panel_member_update,
    panel_update as panel_update,
    pot_budget_set as pot_budget_set,
    pot_create as pot_create,
    pot_update as pot_update,
)
from .notification_delivery import (
    notification_delivery_set as notification_delivery_set,
    notification_digest_send as notification_digest_send,
    notification_digests_due as notification_digests_due,
    notification_email_send as notification_email_send,
    notification_mark_read as notification_mark_read,
    notify as notify,
)
from .people import (
    ORGANISATION_FIELDS as ORGANISATION_FIELDS,
    membership_add as membership_add,
    organisation_create as organisation_create,
    user_create as user_create,
    user_sign_out_everywhere as user_sign_out_everywhere,
)
