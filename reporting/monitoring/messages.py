"""What the monitoring-return services say to people when they refuse or report something.

Services raise these; views, forms and tests may import them from the services module too."""

NOT_GRANTEE = "Only members of %(organisation)s can fill in or submit this return"

RETURN_APPROVED_LOCKED = "This return has been approved, so it can no longer be changed"

RETURN_SUBMITTED_LOCKED = "This return has been submitted and is waiting for review, so it cannot be changed now"

SECTION_CHANGED = (
    "Someone else saved this section after you opened it. Their answers are shown now: check them and save again"
)

SPEND_ABOVE_AWARD = "Enter an amount no more than %(award)s, the whole award"

SPEND_TOTAL_ABOVE_AWARD = "Spend in one period cannot be more than the whole award (%(award)s): it adds up to %(total)s"

VARIANCE_UNEXPLAINED = (
    "Spend is %(variance)s the profile of %(profile)s for this period: explain the variance of more than 10%%"
)

SAVING_KIND_MISSING = "Select whether the saving is cashable or non-cashable"

SAVING_SETTING_MISSING = "Select where on the pathway the saving was made"

SAVING_ORGANISATION_NOT_ON_PATHWAY = "Choose the recipient, a partner or the commissioner of this award"

MEASURE_NOT_IN_AWARD = "Enter actuals only for this award's patient-benefit measures: this measure is not one of them"

MEASURE_VALUE_MISSING = "Enter the actual value for %(measure)s"

MEASURE_VALUE_OUT_OF_RANGE = "Enter a value between -1,000,000,000 and 1,000,000,000"

COUNT_NEGATIVE = "Enter a number of 0 or more"

COUNT_TOO_LARGE = "Enter a number no more than %(limit)s"

COUNT_MISSING = "Enter the number of %(what)s, or 0"

MILESTONE_NOT_IN_AWARD = "Report only on this award's milestones: this milestone is not one of them"

MILESTONE_STATUS_MISSING = "Select whether %(milestone)s is done, on track or slipped"

SLIPPED_DATE_MISSING = "Enter the new date for a slipped milestone"

RISKS_MISSING = "Describe the risks and issues, or say there are none"

RAG_MISSING = "Select the RAG status"

RAG_REASON_MISSING = "Give the reason for the RAG status"

NARRATIVE_MISSING = "Tell us how the project went in this period"

LESSONS_MISSING = "Enter the lessons learned: the final return asks for them"

REINVESTMENT_DESTINATION_MISSING = "Say where the reinvested savings went"

REINVESTMENT_AMOUNT_MISSING = "Enter the amount reinvested"

SUSTAINED_MISSING = "Select whether the innovation will be sustained after the award"

SUSTAINED_FUNDER_MISSING = "Say who will fund the innovation after the award"

NOT_SUSTAINED_REASON_MISSING = "Explain why the innovation will not be sustained"

NOT_FINAL = "Only the final return asks about sustaining the innovation"

PERIOD_NOT_ENDED = "This return covers a period that has not ended yet: it can be submitted from %(from)s"

SECTIONS_INCOMPLETE = "Complete every section before submitting: %(sections)s"

NOT_SUBMITTABLE = "This return is %(status)s, so it cannot be submitted"

NOT_SUBMITTED = "Only a submitted return can be reviewed: this one is %(status)s"

NOT_REVIEWER = "Only a fund manager of this award's call can review its returns"

COMMENTS_MISSING = "Enter comments to tell the grantee what to change"

NO_PAYMENT_WAITING = "No payment is waiting on this return"

RETURN_NOT_APPROVED_YET = "The return must be approved before its payment is released"
