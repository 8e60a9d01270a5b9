"""Writes for bids: one function per change, each in a transaction with its audit event.

Every write to a bid locks the bid's row first (``SELECT ... FOR UPDATE``), so a section
save, an endorsement and a submission never interleave: once a submission commits, any
save waiting behind it finds a submitted bid and is refused, and a second submission
(double click, two tabs) finds the first one and changes nothing.

Each section carries a version. A save names the version its writer opened; if a
colleague has saved the section since, the save is refused with ``SECTION_CONFLICT`` and
nothing is overwritten.

A bid's and an expression of interest's state changes go through their tables in
``lifecycle.py``, after the service has checked its own rules (the clock, a complete bid).

The writes live in one module per topic; every name is importable from here
(``from applications.services import bid_submit``, ``services.bid_submit``):

- ``bids``: references and starting a bid;
- ``bid_sections``: the text sections, delivery, patient benefits and risks;
- ``partners``: partner organisations and the commissioner;
- ``budget``: costs, match funding and projected savings;
- ``attachments``: files, their virus scan and download names;
- ``endorsement``: the commissioner's endorsement, in or outside the portal;
- ``bid_steps``: submission, withdrawal, ineligibility, assessment, the panel's decision;
- ``call_events``: what happens to bids when their call moves, and reminders before it closes;
- ``expressions_of_interest``: two-stage calls;
- ``bid_pdf``: a copy of the bid as a PDF;
- ``team``: the bid team, comments on sections and partners' sign-off;
- ``_shared``: the helpers they share (membership, the row lock, the section-editing context).
"""

# Refused writes raise Django's ValidationError; callers may name it from here.
from django.core.exceptions import ValidationError as ValidationError

from ..messages import (  # the messages live beside the services; kept importable from here
    AUDITOR_IN_ORGANISATION as AUDITOR_IN_ORGANISATION,
    BID_ALREADY_SUBMITTED as BID_ALREADY_SUBMITTED,
    BID_LOCKED as BID_LOCKED,
    CALL_CLOSED as CALL_CLOSED,
    CALL_CLOSED_FOR_CHANGES as CALL_CLOSED_FOR_CHANGES,
    CALL_NOT_OPEN as CALL_NOT_OPEN,
    CARE_SETTING_UNKNOWN as CARE_SETTING_UNKNOWN,
    COMMENT_NEEDED as COMMENT_NEEDED,
    DECLARATIONS_NEEDED as DECLARATIONS_NEEDED,
    DECLINE_NEEDS_COMMENT as DECLINE_NEEDS_COMMENT,
    ENDORSEMENT_ALREADY_ASKED as ENDORSEMENT_ALREADY_ASKED,
    ENDORSEMENT_ALREADY_RECORDED as ENDORSEMENT_ALREADY_RECORDED,
    ENDORSEMENT_BID_NOT_DRAFT as ENDORSEMENT_BID_NOT_DRAFT,
    ENDORSEMENT_EVIDENCE_MISSING as ENDORSEMENT_EVIDENCE_MISSING,
    ENDORSEMENT_NEEDS_COMMISSIONER as ENDORSEMENT_NEEDS_COMMISSIONER,
    ENDORSEMENT_NOT_PENDING as ENDORSEMENT_NOT_PENDING,
    ENDORSEMENT_NOT_REQUIRED as ENDORSEMENT_NOT_REQUIRED,
    ENDORSER_NAME_MISSING as ENDORSER_NAME_MISSING,
    EOI_ALREADY_SENT as EOI_ALREADY_SENT,
    EOI_CLOSED as EOI_CLOSED,
    EOI_COST_NEEDED as EOI_COST_NEEDED,
    EOI_COST_TOO_HIGH as EOI_COST_TOO_HIGH,
    EOI_NO_STAGE as EOI_NO_STAGE,
    EOI_NOT_OPEN as EOI_NOT_OPEN,
    EOI_NOT_WAITING as EOI_NOT_WAITING,
    EOI_PROBLEM_NEEDED as EOI_PROBLEM_NEEDED,
    EOI_REASON_NEEDED as EOI_REASON_NEEDED,
    EOI_STILL_OPEN as EOI_STILL_OPEN,
    EOI_SUMMARY_NEEDED as EOI_SUMMARY_NEEDED,
    EOI_TITLE_NEEDED as EOI_TITLE_NEEDED,
    INELIGIBLE_REASON_NEEDED as INELIGIBLE_REASON_NEEDED,
    INNOVATION_TYPE_UNKNOWN as INNOVATION_TYPE_UNKNOWN,
    MATCH_FUNDER_NOT_ON_BID as MATCH_FUNDER_NOT_ON_BID,
    NO_ORGANISATION as NO_ORGANISATION,
    NO_POT_FOR_NETWORK as NO_POT_FOR_NETWORK,
    NOT_INVITED_TO_BID as NOT_INVITED_TO_BID,
    NOT_YOUR_ORGANISATION as NOT_YOUR_ORGANISATION,
    NOT_YOUR_SECTION as NOT_YOUR_SECTION,
    PARTNER_ALREADY_ADDED as PARTNER_ALREADY_ADDED,
    PARTNER_CONTRIBUTION_NEEDED as PARTNER_CONTRIBUTION_NEEDED,
    PARTNER_IS_LEAD as PARTNER_IS_LEAD,
    PARTNER_NOT_ON_BID as PARTNER_NOT_ON_BID,
    PARTNER_ROLE_NEEDED as PARTNER_ROLE_NEEDED,
    PARTNERS_NOT_SIGNED_OFF as PARTNERS_NOT_SIGNED_OFF,
    SAVER_NOT_ON_BID as SAVER_NOT_ON_BID,
    SECTION_CONFLICT as SECTION_CONFLICT,
    SIGN_OFF_ALREADY as SIGN_OFF_ALREADY,
    SIGN_OFF_NOT_PARTNER as SIGN_OFF_NOT_PARTNER,
    TEAM_ALREADY_INVITED as TEAM_ALREADY_INVITED,
    TEAM_EMAIL_NEEDED as TEAM_EMAIL_NEEDED,
    TEAM_INVITATION_EXPIRED as TEAM_INVITATION_EXPIRED,
    TEAM_INVITATION_OTHER_ACCOUNT as TEAM_INVITATION_OTHER_ACCOUNT,
    TEAM_INVITATION_USED as TEAM_INVITATION_USED,
    TEAM_ORGANISATION_NEEDED as TEAM_ORGANISATION_NEEDED,
    TEAM_ROLE_NEEDED as TEAM_ROLE_NEEDED,
    TEAM_SECTIONS_UNKNOWN as TEAM_SECTIONS_UNKNOWN,
    TITLE_NEEDED as TITLE_NEEDED,
    TOO_MANY_ATTACHMENTS as TOO_MANY_ATTACHMENTS,
    WITHDRAW_AFTER_CLOSE as WITHDRAW_AFTER_CLOSE,
    WITHDRAW_ONLY_SUBMITTED as WITHDRAW_ONLY_SUBMITTED,
)
from .attachments import (
    ATTACHMENT_LIMIT as ATTACHMENT_LIMIT,
    FILE_ARCHIVE_UNSAFE as FILE_ARCHIVE_UNSAFE,
    FILE_EMPTY as FILE_EMPTY,
    FILE_HAS_MACROS as FILE_HAS_MACROS,
    FILE_NEEDED as FILE_NEEDED,
    FILE_TOO_LARGE as FILE_TOO_LARGE,
    FILE_TYPE_NOT_ALLOWED as FILE_TYPE_NOT_ALLOWED,
    attachment_download_name as attachment_download_name,
    attachment_scan as attachment_scan,
    bid_attachment_add as bid_attachment_add,
    bid_attachment_remove as bid_attachment_remove,
    check_upload as check_upload,
)
from .bid_pdf import (
    bid_content_version as bid_content_version,
    bid_pdf_current as bid_pdf_current,
    bid_pdf_generate as bid_pdf_generate,
    bid_pdf_request as bid_pdf_request,
)
from .bid_sections import (
    DELIVERY_FIELDS as DELIVERY_FIELDS,
    INNOVATION_FIELDS as INNOVATION_FIELDS,
    PATHWAY_FIELDS as PATHWAY_FIELDS,
    SUMMARY_FIELDS as SUMMARY_FIELDS,
    bid_benefits_save as bid_benefits_save,
    bid_delivery_save as bid_delivery_save,
    bid_innovation_save as bid_innovation_save,
    bid_pathway_save as bid_pathway_save,
    bid_risks_save as bid_risks_save,
    bid_section_confirm as bid_section_confirm,
    bid_summary_save as bid_summary_save,
)
from .bid_steps import (
    STATE_FIELDS as STATE_FIELDS,
    TRANSITION_NOT_ALLOWED as TRANSITION_NOT_ALLOWED,
    bid_mark_funded as bid_mark_funded,
    bid_mark_ineligible as bid_mark_ineligible,
    bid_mark_not_funded as bid_mark_not_funded,
    bid_start_assessment as bid_start_assessment,
    bid_submit as bid_submit,
    bid_withdraw as bid_withdraw,
    bids_start_assessment_for_call as bids_start_assessment_for_call,
)
from .bids import (
    bid_start as bid_start,
    next_reference as next_reference,
    pot_for as pot_for,
    reference_prefix as reference_prefix,
)
from .budget import (
    bid_costs_save as bid_costs_save,
    bid_savings_save as bid_savings_save,
)
from .call_events import (
    DRAFT_REMINDER_DAYS as DRAFT_REMINDER_DAYS,
    _on_call_closed as _on_call_closed,  # private: apps.py connects it
    _on_call_closing_extended as _on_call_closing_extended,  # private: apps.py connects it
    _on_call_entered_assessment as _on_call_entered_assessment,  # private: apps.py connects it
    call_bidder_organisations as call_bidder_organisations,
    draft_bid_reminders_send as draft_bid_reminders_send,
)
from .endorsement import (
    bid_endorse as bid_endorse,
    bid_endorsement_decline as bid_endorsement_decline,
    bid_endorsement_record_offline as bid_endorsement_record_offline,
    bid_endorsement_request as bid_endorsement_request,
)
from .expressions_of_interest import (
    EOI_FIELDS as EOI_FIELDS,
    eoi_decline as eoi_decline,
    eoi_invite as eoi_invite,
    eoi_submit as eoi_submit,
)
from .partners import (
    NOT_A_COMMISSIONING_ORG as NOT_A_COMMISSIONING_ORG,
    bid_partner_add as bid_partner_add,
    bid_partner_change as bid_partner_change,
    bid_partner_remove as bid_partner_remove,
    bid_partners_save as bid_partners_save,
)
from .team import (
    TEAM_INVITATION_DAYS as TEAM_INVITATION_DAYS,
    _bid_organisations as _bid_organisations,  # private: views.py (team page)
    bid_comment_add as bid_comment_add,
    bid_partner_sign_off as bid_partner_sign_off,
    bid_team_invite as bid_team_invite,
    bid_team_join as bid_team_join,
    bid_team_remove as bid_team_remove,
    lead_org_members as lead_org_members,
    partners_not_signed_off as partners_not_signed_off,
    sign_off_organisations as sign_off_organisations,
    team_invitation_email_send as team_invitation_email_send,
)
