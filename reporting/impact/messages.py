"""What the impact-report services say to people when they refuse or report something.

Services raise these; views, forms and tests may import them from the services module too."""

# Messages (tests import these) ----------------------------------------------------------------
CALL_REQUIRED = "Choose the call the report covers"

POT_REQUIRED = "Choose the pot the report covers"

NETWORK_REQUIRED = "Choose the network the report covers"

CALL_NOT_IN_FUND = "Choose a call of this fund"

POT_NOT_IN_FUND = "Choose a pot of this fund"

NOT_A_NETWORK = "Choose a Health Innovation Network"

PERIOD_IN_ORDER = "The end of the period must be on or after its start"

PERIOD_OUTSIDE_FUND = "Choose a period within the fund's years, {first} to {last}"

BUILD_ALREADY_QUEUED = "A version of this report is already queued or being built: wait for it to finish"

ONLY_FAILED_RETRY = "Only a version that failed to build can be tried again"

ONLY_READY_PUBLISH = "Only a version that has been built can be published"

ALREADY_PUBLISHED = "This version is already published"

NOT_PUBLISHED = "This version is not published, so there is nothing to withdraw"

REASON_REQUIRED = "Enter why you are withdrawing this report"

REPLACED_BY = "Replaced by version {number}"

QUEUE_UNAVAILABLE = (
    "The report is saved and queued, but the task queue cannot be reached just now. It will be "
    "built automatically as soon as the queue is back: you do not need to request it again."
)

GAVE_UP = "The build was tried {attempts} times without finishing (workers were lost or timed out). Try again later."

TIMED_OUT = "The build took longer than the {minutes}-minute limit and was stopped. Try a shorter period or a smaller scope."
