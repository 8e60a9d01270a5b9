"""What the assessment services say to people when they refuse or report something.

Services raise these; views, forms and tests may import them from the services module too."""

# Starting assessment and assigning assessors
NOT_IN_ASSESSMENT = "The call is not in assessment"

NO_PANEL = "The call has no panel to assess its bids: choose one on the call's settings"

BID_NOT_IN_ASSESSMENT = "This bid is not in assessment"

BID_DECIDED = "The panel has decided on this bid: its assessment can no longer change"

NOT_A_SCORING_MEMBER = "Choose a member of the call's panel who scores bids"

ALREADY_ASSIGNED = "{name} is already assessing this bid"

ASSESSOR_CONFLICTED = "{name} works for or with {organisations}, which is on this bid: choose another assessor"

ASSESSOR_DECLARED_CONFLICT = "{name} has declared a conflict of interest on this bid: choose another assessor"

BID_HAS_ENOUGH = "This bid already has the {n} assessors the call asks for"

WITHDRAW_REASON_NEEDED = "Give the reason the assessor is coming off this bid"

WITHDRAW_SUBMITTED = "This assessor has submitted their scores, so they cannot come off the bid"

ASSIGNMENT_ENDED = "This assignment has already ended"

ASSESSOR_CANNOT_SIGN_IN = "{name} cannot sign in to the portal: choose another assessor"

ASSESSOR_NOT_ACCEPTED = (
    "{name} has not accepted an invitation to assess this call (or their yearly declaration has lapsed): "
    "choose someone who has"
)

# Declarations
ALREADY_DECLARED = "You have already made your declaration on this bid"

CONFLICT_CHOICE_NEEDED = "Say whether you have a conflict of interest with this bid"

CONFLICT_KIND_NEEDED = "Choose the kind of conflict of interest"

CONFLICT_DESCRIPTION_NEEDED = "Describe the conflict of interest"

# Score sheets
DECLARE_FIRST = "Declare any conflict of interest before you score the bid"

SCORING_CLOSED = "Scoring has closed: the call is no longer in assessment"

SCORE_NOT_WHOLE = "Enter the score for {criterion} as a whole number, like 3"

SCORE_OUTSIDE_SCALE = "Enter a score for {criterion} from {low} to {high}"

SCORE_NEEDED = "Choose a score for {criterion}"

COMMENT_NEEDED = "Write a comment explaining your score for {criterion}"

SHEET_SUBMITTED = (
    "Your scores have been submitted and are locked: ask the fund manager to reopen the sheet if you need to change them"
)

CLARIFICATION_WAITING = (
    "The applicant has been asked a clarification question on this bid: you can submit your scores once they "
    "reply, or after the reply-by date ({date}) passes. You can save your draft meanwhile"
)

SHEET_NOT_SUBMITTED = "Only a submitted score sheet can be reopened"

REOPEN_REASON_NEEDED = "Give the reason the score sheet is being reopened: the assessor will see it"

# Moderation and decisions
NOT_THE_CHAIR = "Only the chair of the call's panel can do this"

CHAIR_CONFLICTED = "You are conflicted on this bid, so you are excluded from its moderation and decision"

DEPUTY_NOT_NEEDED = (
    "The chair is not conflicted on this bid, so the chair records its moderation and decision: a deputy chair "
    "chairs only the bids the chair is conflicted on"
)

NOT_FLAGGED = "The assessors' scores on this criterion do not differ by more than the call's threshold: it needs no moderation"

MODERATION_RATIONALE_NEEDED = "Explain why the panel agreed this score"

SCORING_NOT_FINISHED = "Scoring of this bid is not finished: {done} of {expected} score sheets submitted"

MODERATION_OUTSTANDING = "Moderate the flagged criteria first: {titles}"

OUTCOME_NEEDED = "Choose the panel's decision"

AMOUNT_NEEDED = "Enter the amount approved"

AMOUNT_ZERO = "Enter an amount approved of more than £0"

AMOUNT_ABOVE_REQUESTED = "The amount approved cannot be more than the {requested} the bid asks for"

CONDITIONS_NEEDED = "List the conditions of funding, one on each line"

PUBLIC_REASON_NEEDED = "Give the public reason for the decision: the applicant reads it, and the register shows it for a funded bid"

DEPARTURE_RATIONALE_NEEDED = (
    "This decision departs from the ranking (the bid is {where}): explain why the panel decided otherwise"
)

DECISION_RELEASED = "Decisions on this call have been released: they can no longer change"

BIDS_WAITING = "Some bids have not been put into assessment yet ({refs}): start their assessment or mark them ineligible first"

DECISIONS_MISSING = "Record the panel's decision on every bid before releasing them: {refs} still need one"

QUESTION_NEEDED = "Write the question for the applicant"

REPLY_BY_NEEDED = "Enter the date the applicant should reply by"

REPLY_BY_IN_PAST = "The reply-by date must be today or later"

REPLY_BY_TOO_LATE = "The reply-by date must be within 8 weeks"

NOT_ON_THIS_BID = "Only an assessor of this bid who has declared no conflict, or the chair, can ask the applicant"

REPLY_NEEDED = "Write your reply"

ALREADY_REPLIED = "This question has already been answered"

REPLY_TOO_LATE = "The reply-by date ({date}) has passed: the panel is scoring the bid without a reply"

POOL_PERSON_NEEDED = "Enter the email address of someone with an account on the portal"

POOL_PERSON_UNKNOWN = "No one with an account has the email address {email}: ask them to register first"

POOL_ALREADY = "{name} is already in this network's pool"

POOL_SHARE_NETWORK_NEEDED = "Choose another network to share the pool with"

TERMS_NEEDED = "Accept the confidentiality terms to make your declaration"

INTEREST_ORGS_NEEDED = "Choose the organisations you have an interest in, or say you have none"

INVITE_CHOOSE = "Choose at least one person from the pool to invite"

INVITE_NOT_IN_POOL = "{name} is not in the pool of {network}"

INVITE_CALL_FINISHED = "The call's assessment is over: nobody can be invited to it now"

INVITE_DAYS_RANGE = "Give people between 1 and 60 days to answer"

INVITATION_EXPIRED = "This invitation expired on {when}: ask the fund manager to invite you again"

INVITATION_OTHER_ACCOUNT = (
    "This invitation is for someone else, not the account you are signed in with ({email}): sign out and sign in as "
    "the person invited"
)

INVITATION_ANSWERED = "You have already answered this invitation ({status})"

DECISION_NEEDED = "Say whether you will assess the bids on this call"

DECLINE_REASON_NEEDED = "Choose why you cannot assess: not available, a conflict of interest, or not your area"

DECLARATION_NEEDED = "Make your yearly declaration of interests and accept the confidentiality terms before you accept"

PACK_NOT_IN_ASSESSMENT = "Panel packs are for calls in assessment"

PACK_EMPTY = "There are no bids you may see on this call to put in a pack"
