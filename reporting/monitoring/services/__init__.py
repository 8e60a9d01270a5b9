"""Writes for monitoring returns: one function per transition.

- The schedule: ``return_schedule_sync`` makes an award's returns follow its dates (idempotent).
- Opening and reminding: ``return_open`` and ``return_reminder_send`` (each reminder goes once
  per due date: a ``ReminderSent`` row written in the same transaction as its notifications).
- The return's sections (``return_spend_save`` ...), each saved on its own and refused if the
  section changed since the writer opened it; then ``return_submit``.
- Review: ``return_approve`` (which releases the instalment waiting on the return through the
  awards stage) and ``return_send_back``; ``return_payment_release`` tries the release again.

Each change of a return's status goes through ``RETURN_LIFECYCLE`` (``lifecycle.py``).

Lock order, as in the awards stage: the award row, then the return, then the instalment.

The package holds one module per topic; everything views, forms, tasks, hooks, the demo and the
tests use is importable from here, as it was from the one module:

- ``schedule``: the schedule and opening returns;
- ``reminders``: reminders and the beat's run (``monitoring_run``);
- ``sections``: filling in the return's sections;
- ``review``: submitting, review and releasing the payment waiting on a return;
- ``_shared``: the private helpers several of them use.
"""

from ..messages import (  # the messages live beside the services; kept importable from here
    COMMENTS_MISSING as COMMENTS_MISSING,
    COUNT_MISSING as COUNT_MISSING,
    COUNT_NEGATIVE as COUNT_NEGATIVE,
    COUNT_TOO_LARGE as COUNT_TOO_LARGE,
    LESSONS_MISSING as LESSONS_MISSING,
    MEASURE_NOT_IN_AWARD as MEASURE_NOT_IN_AWARD,
    MEASURE_VALUE_MISSING as MEASURE_VALUE_MISSING,
    MEASURE_VALUE_OUT_OF_RANGE as MEASURE_VALUE_OUT_OF_RANGE,
    MILESTONE_NOT_IN_AWARD as MILESTONE_NOT_IN_AWARD,
    MILESTONE_STATUS_MISSING as MILESTONE_STATUS_MISSING,
    NARRATIVE_MISSING as NARRATIVE_MISSING,
    NO_PAYMENT_WAITING as NO_PAYMENT_WAITING,
    NOT_FINAL as NOT_FINAL,
    NOT_GRANTEE as NOT_GRANTEE,
    NOT_REVIEWER as NOT_REVIEWER,
    NOT_SUBMITTABLE as NOT_SUBMITTABLE,
    NOT_SUBMITTED as NOT_SUBMITTED,
    NOT_SUSTAINED_REASON_MISSING as NOT_SUSTAINED_REASON_MISSING,
    PERIOD_NOT_ENDED as PERIOD_NOT_ENDED,
    RAG_MISSING as RAG_MISSING,
    RAG_REASON_MISSING as RAG_REASON_MISSING,
    REINVESTMENT_AMOUNT_MISSING as REINVESTMENT_AMOUNT_MISSING,
    REINVESTMENT_DESTINATION_MISSING as REINVESTMENT_DESTINATION_MISSING,
    RETURN_APPROVED_LOCKED as RETURN_APPROVED_LOCKED,
    RETURN_NOT_APPROVED_YET as RETURN_NOT_APPROVED_YET,
    RETURN_SUBMITTED_LOCKED as RETURN_SUBMITTED_LOCKED,
    RISKS_MISSING as RISKS_MISSING,
    SAVING_KIND_MISSING as SAVING_KIND_MISSING,
    SAVING_ORGANISATION_NOT_ON_PATHWAY as SAVING_ORGANISATION_NOT_ON_PATHWAY,
    SAVING_SETTING_MISSING as SAVING_SETTING_MISSING,
    SECTION_CHANGED as SECTION_CHANGED,
    SECTIONS_INCOMPLETE as SECTIONS_INCOMPLETE,
    SLIPPED_DATE_MISSING as SLIPPED_DATE_MISSING,
    SPEND_ABOVE_AWARD as SPEND_ABOVE_AWARD,
    SPEND_TOTAL_ABOVE_AWARD as SPEND_TOTAL_ABOVE_AWARD,
    SUSTAINED_FUNDER_MISSING as SUSTAINED_FUNDER_MISSING,
    SUSTAINED_MISSING as SUSTAINED_MISSING,
    VARIANCE_UNEXPLAINED as VARIANCE_UNEXPLAINED,
)
from .reminders import (
    REMINDER_MESSAGES as REMINDER_MESSAGES,
    monitoring_run as monitoring_run,
    return_reminder_send as return_reminder_send,
)
from .review import (
    ReviewOutcome as ReviewOutcome,
    released_sentence as released_sentence,
    return_approve as return_approve,
    return_payment_release as return_payment_release,
    return_send_back as return_send_back,
    return_submit as return_submit,
    submission_problems as submission_problems,
)
from .schedule import (
    _sync as _sync,  # private, but the demo keeps closed awards' schedules with it
    return_open as return_open,
    return_schedule_sync as return_schedule_sync,
    returns_open_ended as returns_open_ended,
)
from .sections import (
    AMOUNT_NEGATIVE as AMOUNT_NEGATIVE,
    AMOUNT_TOO_LARGE as AMOUNT_TOO_LARGE,
    MAX_MEASURE_VALUE as MAX_MEASURE_VALUE,
    MAX_ORGANISATIONS as MAX_ORGANISATIONS,
    MAX_PATIENTS as MAX_PATIENTS,
    MAX_SITES as MAX_SITES,
    MilestoneUpdate as MilestoneUpdate,
    ReinvestmentLine as ReinvestmentLine,
    SavingLine as SavingLine,
    return_adoption_save as return_adoption_save,
    return_benefits_save as return_benefits_save,
    return_milestones_save as return_milestones_save,
    return_narrative_save as return_narrative_save,
    return_rag_save as return_rag_save,
    return_reinvestment_save as return_reinvestment_save,
    return_risks_save as return_risks_save,
    return_savings_save as return_savings_save,
    return_spend_save as return_spend_save,
    return_sustainability_save as return_sustainability_save,
)
