"""What the bid services say to people when they refuse or report something.

Services raise these; views, forms and tests may import them from the services module too."""

# Starting a bid
NO_ORGANISATION = (
    "Your account is not linked to an organisation, so you cannot start a bid. "
    "Ask your organisation's fund portal administrator to add you."
)

NOT_YOUR_ORGANISATION = "You can only start a bid for an organisation you belong to"

CALL_NOT_OPEN = "This call is not open for bids"

CALL_CLOSED = "This call closed on {closed}: it no longer accepts bids"

NO_POT_FOR_NETWORK = "This call has no pot for {network}, so {organisation} cannot bid for it"

TITLE_NEEDED = "Enter a title for the bid"

AUDITOR_IN_ORGANISATION = (
    "A member of {organisation} audits this fund, so {organisation} cannot bid in it, as lead or partner: "
    "an auditor must be independent of the fund's bidders"
)

# Changing a bid
SECTION_CONFLICT = (
    "{who} saved this section on {when}, after you opened it. Your changes have not been saved, "
    "so nothing they wrote was overwritten. Open the section again to see the latest version, "
    "then make your changes."
)

BID_LOCKED = "This bid is {status}: it can no longer be changed"

CALL_CLOSED_FOR_CHANGES = "The call closed on {closed}: the bid can no longer be changed"

MATCH_FUNDER_NOT_ON_BID = "Match funding must come from the lead organisation, a partner or the commissioner"

SAVER_NOT_ON_BID = "Savings must fall in the budget of the lead organisation, a partner or the commissioner"

PARTNER_IS_LEAD = "The lead organisation is already on the bid: choose a partner organisation"

PARTNER_ALREADY_ADDED = "{organisation} is already a partner on this bid"

PARTNER_ROLE_NEEDED = "Choose the partner's role"

PARTNER_CONTRIBUTION_NEEDED = "Describe what the partner will contribute"

PARTNER_NOT_ON_BID = "That partner is not on this bid"

CARE_SETTING_UNKNOWN = "Choose parts of the care pathway from the list"

INNOVATION_TYPE_UNKNOWN = "Choose a type of innovation this call funds"

TOO_MANY_ATTACHMENTS = "A bid can have up to {limit} attachments: remove one before adding another"

# Endorsement
ENDORSEMENT_NOT_REQUIRED = "This call does not need a commissioner's endorsement"

ENDORSEMENT_NEEDS_COMMISSIONER = "Name the commissioning organisation in the partners section first"

ENDORSEMENT_ALREADY_ASKED = "The commissioner has already been asked to endorse this bid"

ENDORSEMENT_NOT_PENDING = "This bid is not waiting for your endorsement"

DECLINE_NEEDS_COMMENT = "Tell the bid's writers why you are declining to endorse it"

# Submission and afterwards
BID_ALREADY_SUBMITTED = "This bid has already been submitted"

DECLARATIONS_NEEDED = "Confirm each declaration to submit the bid"

WITHDRAW_ONLY_SUBMITTED = "Only a submitted bid can be withdrawn"

WITHDRAW_AFTER_CLOSE = "The call closed on {closed}: the bid can no longer be withdrawn"

INELIGIBLE_REASON_NEEDED = "Give the reason the bid is ineligible: the applicant will see it"

# Two-stage calls
NOT_INVITED_TO_BID = (
    "This is a two-stage call: only organisations invited after their expression of interest may start a full bid"
)

EOI_NO_STAGE = "This call has no expression of interest stage"

EOI_NOT_OPEN = "Expressions of interest for this call open on {opens}"

EOI_CLOSED = "Expressions of interest for this call closed on {closed}: late ones cannot be accepted"

EOI_ALREADY_SENT = "{organisation} has already sent an expression of interest for this call"

EOI_TITLE_NEEDED = "Enter a title for your idea"

EOI_SUMMARY_NEEDED = "Summarise your idea"

EOI_PROBLEM_NEEDED = "Describe the problem it solves"

EOI_COST_NEEDED = "Enter the estimated cost in pounds"

EOI_COST_TOO_HIGH = "The estimated cost is more than the {max} this call funds"

EOI_NOT_WAITING = "This expression of interest has already been decided: {status}"

EOI_STILL_OPEN = "Expressions of interest can be shortlisted once they close on {closed}"

EOI_REASON_NEEDED = "Give the reason: the organisation reads it as feedback"

ENDORSEMENT_EVIDENCE_MISSING = "Upload the endorsement the commissioner sent (their letter or email, as PDF or a document)"

ENDORSER_NAME_MISSING = "Enter who endorsed the bid and their role at the commissioner"

ENDORSEMENT_ALREADY_RECORDED = "The bid is already endorsed"

ENDORSEMENT_BID_NOT_DRAFT = "The bid is %(status)s: an endorsement is recorded only before it is submitted"

NOT_YOUR_SECTION = "You are not responsible for the {section} section: ask the bid lead to change it"

TEAM_EMAIL_NEEDED = "Enter the email address of the person to invite, like name@nhs.net"

TEAM_ROLE_NEEDED = "Choose what they may do: read, comment or edit"

TEAM_ORGANISATION_NEEDED = "Choose the lead organisation or a partner named on the bid"

TEAM_ALREADY_INVITED = "{email} is already on this bid's team or invited to it"

TEAM_SECTIONS_UNKNOWN = "Choose sections from the list"

TEAM_INVITATION_EXPIRED = "This invitation has expired: ask the bid lead to invite you again"

TEAM_INVITATION_OTHER_ACCOUNT = (
    "This invitation was sent to another email address, not the one you are signed in with ({email}): sign out and "
    "sign in as the person invited, or ask the bid lead to invite this address"
)

TEAM_INVITATION_USED = "This invitation has already been used or withdrawn"

COMMENT_NEEDED = "Write your comment"

SIGN_OFF_NOT_PARTNER = "You do not speak for a partner organisation on this bid"

SIGN_OFF_ALREADY = "{organisation} has already signed off this bid"

PARTNERS_NOT_SIGNED_OFF = "Every partner organisation must sign off its part before the bid is submitted. Not signed off yet: {names}"
