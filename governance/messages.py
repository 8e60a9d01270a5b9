"""What the governance services say to people when they refuse or report something.

Services raise these; views, forms and tests may import them from the services module too."""

EMAIL_TAKEN = "An account with this email address already exists"

NOT_YOUR_SESSIONS = "Only the person themselves or a site admin can sign them out everywhere"

FUND_SLUG_TAKEN = "A fund with this web address already exists: choose another"

FUND_SLUG_RESERVED = "This web address is used by the portal itself: choose another"

NOT_A_NETWORK = "Choose a Health Innovation Network"

FUND_YEARS_OUT_OF_ORDER = "The last financial year must be the same as the first or after it"

FUND_YEARS_EXCLUDE_BUDGETS = "Pots already have budgets outside these years"

FUND_NATIONAL_HAS_POTS = "A national competitive fund has one pot, but this fund has several"

FUND_RING_FENCED_POT_WITHOUT_NETWORK = "Every pot of a ring-fenced fund belongs to a network, but this fund has a pot without one"

FUND_HOST_HAS_CALLS = "The fund already has calls, so its hosting network cannot change"

POT_NAME_TAKEN = "This fund already has a pot with this name"

POT_NETWORK_REQUIRED = "Choose the network whose bids compete for this pot: the fund is ring-fenced by region"

POT_NETWORK_TAKEN = "This fund already has a pot for that network"

POT_NATIONAL_ONLY_ONE = "A national competitive fund has one pot, and this fund already has it"

POT_NATIONAL_NO_NETWORK = "A national pot is open to bids from every network: leave the network empty"

POT_NETWORK_IN_USE = "The pot is used by a published call, so its network cannot change"

YEAR_OUTSIDE_FUND = "Enter a financial year the fund covers"

BUDGET_BELOW_COMMITTED = "This year's budget cannot be less than the money already committed to awards"

FUND_AUDITOR_TAKEN = "This person is already an auditor of this fund"

PANEL_NAME_TAKEN = "This fund already has a panel with this name"

PANEL_MEMBER_TAKEN = "This person is already on the panel"

CALL_SLUG_TAKEN = "A call with this web address already exists: choose another"

CALL_FROZEN = (
    "The call has been published, so this can no longer change: applicants are writing their bids against "
    "what was published"
)

CLOSES_BEFORE_OPENS = "The closing time must be after the opening time"

CLOSES_IN_PAST = "The closing time has passed: set a closing time in the future"

AMOUNTS_OUT_OF_ORDER = "The maximum amount must be the same as the minimum or more"

MAX_AMOUNT_ZERO = "Enter the most a bid may ask for"

HOST_NOT_IN_FUND = "Choose the fund's hosting network or a network with a pot in the fund"

POT_NOT_IN_FUND = "Choose pots of this call's fund"

POT_OF_OTHER_NETWORK = "A call hosted by a network other than the fund's can only use that network's own pot"

POT_WITHOUT_BUDGET = "A chosen pot has no budget yet"

NO_POTS = "Choose the pot or pots that the call's awards are paid from"

PANEL_NOT_IN_FUND = "Choose a panel of this call's fund"

NO_PANEL = "Choose the panel that will assess the bids"

NO_ELIGIBLE_KINDS = "Choose the kinds of organisation that may lead a bid"

NO_INNOVATION_TYPES = "Choose the kinds of innovation the call accepts"

NOT_A_CHOICE = "Choose from the list"

ASSESSMENT_DUE_TOO_EARLY = "Assessment can only be due after the call closes"

PANEL_MEETING_TOO_EARLY = "The panel meets after the call closes and after assessment is due"

DECISIONS_TOO_EARLY = "Decisions are announced after the call closes and after the panel meets"

QUESTIONS_CLOSE_OUTSIDE_CALL = "The deadline for questions must be after the opening time and before the closing time"

EOI_OPENS_NEEDED = "Enter when expressions of interest open"

EOI_CLOSES_NEEDED = "Enter when expressions of interest close"

EOI_CLOSES_BEFORE_OPENS = "Expressions of interest must close after they open"

EOI_CLOSES_AFTER_BIDS_OPEN = "Expressions of interest must close before (or when) the call opens for full bids"

EOI_CLOSES_IN_PAST = "Expressions of interest have closed: set a closing time in the future"

NO_CRITERIA = "Add the criteria bids will be scored against"

WEIGHTS_NOT_100 = "The criteria's weights must add up to 100"

WEIGHTS_OVER_100 = "The criteria's weights would add up to more than 100"

NO_COST_SAVING = "Add at least one cost-saving criterion"

NO_PATIENT_BENEFIT = "Add at least one patient-benefit criterion"

DESCRIPTORS_MISSING = "Describe every score on each criterion's scale"

CRITERIA_FROZEN = (
    "The criteria cannot change because the call has been published: applicants are writing their bids "
    "against the published criteria and rubric"
)

SCALE_OUT_OF_ORDER = "The highest score must be more than the lowest"

GATEWAY_OUTSIDE_SCALE = "The gateway minimum must be a score on the criterion's scale"

CALL_NOT_DRAFT = "Only a draft call can be published"

CALL_NOT_SCHEDULED = "Only a published call that has not opened yet can be opened"

CALL_ALREADY_OPENED = (
    "Only a call that has not opened yet can go back to draft: once it opens, applicants may be writing bids "
    "against it. Extend its closing time or close it early instead"
)

UNPUBLISH_REASON = "Give the reason for taking the call back to draft: it is recorded on the fund's audit trail"

CALL_NOT_YET_OPENING = "The call cannot open before its published opening time"

CALL_NOT_OPEN = "Only an open call can be closed"

CALL_NOT_STARTED = "A call that has not opened yet cannot be closed early"

CLOSE_EARLY_REASON = "Give the reason for closing the call before its published closing time"

CALL_NOT_EXTENDABLE = "Only a published call that has not closed yet can have its closing time extended"

EXTENSION_NOT_LATER = "The new closing time must be later than the current one"

EXTENSION_TOO_LONG = "A closing time can be moved by up to a year at a time"

EXTENSION_REASON = "Give the reason for the extension: it is shown on the call's public page"

EXTENSION_PAST_TIMETABLE = "The new closing time is on or after the {what} ({date}): move that date first"

CALL_NOT_CLOSED = "Assessment can only start once the call has closed"

CALL_NOT_IN_ASSESSMENT = "Only a call in assessment can be marked as decided"

CALL_NOT_DECIDED = "Only a call whose decisions are made can be closed out"

QUESTION_EMPTY = "Enter your question"

QUESTION_TOO_LONG = "Keep your question to 2,000 characters or fewer"

QUESTIONS_NOT_TAKEN = "The call is not taking questions: questions can be asked while it is open"

QUESTIONS_CLOSED = "The deadline for questions on this call has passed"

ANSWER_EMPTY = "Enter the answer"

QUESTION_ALREADY_PUBLISHED = "This answer has already been published"

QUESTION_NOT_ANSWERED = "Answer the question before publishing it"

ALERT_RATE_LIMITED = "Too many requests: try again in an hour"

ALERT_LINK_INVALID = "This link is not valid: it may have been copied wrongly"

ALERT_LINK_EXPIRED = "This link has expired: ask for alerts again and open the new link within 3 days"
