"""What the award services say to people when they refuse or report something.

Services raise these; views, forms and tests may import them from the services module too."""

DECISION_NOT_FUNDED = "Only a decision to fund, or to fund with conditions, can become an award"

DECISION_NOT_RELEASED = "The panel's decision has not been released yet"

DECISION_HAS_NO_AMOUNT = "The panel's decision has no approved amount"

BID_HAS_NO_POT = "The bid is not linked to a pot, so there is no budget to commit the award against"

ALREADY_ISSUED = "An award has already been issued for this decision: %(reference)s"

FUNDER_ORG_ID_MISSING = (
    "%(network)s has no official org-id yet: a site admin sets it in the admin (Organisations, "
    "like GB-COH-08123456) before the fund's awards are issued, because open data names the funder by it"
)

AMOUNT_NOT_POSITIVE = "Enter an amount of more than £0"

AMOUNT_ABOVE_DECISION = "Enter an amount no more than %(approved)s, the amount the panel approved"

DATES_OUT_OF_ORDER = "The end date must be after the start date"

START_BEFORE_FUND = "The award must start on or after %(first)s, the start of the fund's first financial year"

END_AFTER_FUND = "The award must end by %(last)s, the end of the fund's last financial year"

OFFER_DEADLINE_PAST = "The offer deadline must be in the future"

PROFILE_EMPTY = "Enter the amount for at least one financial year"

PROFILE_NEGATIVE = "Enter an amount of £0 or more for %(year)s"

PROFILE_NOT_TOTAL = "The profile must add up to the amount awarded: it adds up to %(total)s, not %(amount)s"

PROFILE_YEAR_OUTSIDE_DATES = "%(year)s is outside the award's dates (%(first)s to %(last)s): move its money to a year the award runs in"

PROFILE_YEAR_OUTSIDE_FUND = "%(year)s is outside the fund's years (%(first)s to %(last)s)"

POT_HAS_NO_BUDGET = "%(pot)s has no budget for %(year)s"

POT_OVERCOMMITTED = "Not enough money is left in %(pot)s for %(year)s: %(remaining)s remains but %(needed)s is needed"

CONDITION_TITLE_MISSING = "Enter the condition"

CONDITION_TITLE_TOO_LONG = "Enter a condition of 200 characters or fewer"

CONDITION_PAYMENT_UNKNOWN = "Choose a payment of this award for \"%(title)s\" to hold back, or none"

CONDITION_DUE_PAST = "The due date of \"%(title)s\" must be today or later"

CONDITION_DUE_AFTER_END = "The due date of \"%(title)s\" must be by the award's end date, %(end)s"

CONDITION_PAYMENT_PAID = "The %(label)s payment has already been released or paid, so a condition can no longer hold it back"

CONDITIONS_HOLD_BACK = "This instalment waits for %(count)s condition%(plural)s to be met or waived: %(titles)s"

TEMPLATE_TITLE_TAKEN = "This fund already has a condition with this title"

OFFER_EXPIRED = "The deadline to accept this offer has passed"

OFFER_LETTER_NOT_READY = (
    "The offer letter is still being made (or could not be made): the offer can be accepted once its latest letter "
    "is ready to read"
)

NOT_SIGNATORY = "Only an authorised signatory of %(organisation)s can accept or decline this offer"

DECLINE_REASON_MISSING = "Tell us why you are declining the offer"

REASON_MISSING = "Enter the reason"

PRESTART_CONDITIONS_OPEN = "The conditions to be met before the award starts are not all met or waived yet"

RELEASED_NOT_PAID = "Mark the released instalments paid before closing the award"

AWARD_NOT_ACTIVE = "Payments are made only while the award is active: it is %(status)s"

RETURN_NOT_LINKED = "This instalment waits for a monitoring return, and none is linked to it yet"

RETURN_NOT_APPROVED = "This instalment waits for its monitoring return to be approved: the return is %(status)s"

PAYMENT_ABOVE_COMMITMENT = "Paying this would take %(year)s above the money committed to the award"

PAID_ON_MISSING = "Enter the date the payment was made"

PAID_ON_FUTURE = "The payment date must be today or in the past"

PAID_ON_BEFORE_RELEASE = "The payment date must be on or after %(released)s, when the instalment was released"

PAID_AMOUNT_MISSING = "Enter the amount paid"

PAID_AMOUNT_NOT_POSITIVE = "Enter an amount paid of more than £0"

PAID_AMOUNT_TOO_LARGE = (
    "The amount paid cannot be more than %(limit)s, the money committed to the award in %(year)s and not yet paid"
)

PAID_AMOUNT_DIFFERS = (
    "The amount paid differs from the instalment of %(amount)s: enter the reason for the difference"
)

PAYMENT_REFERENCE_MISSING = "Enter the finance system's payment reference"

PAYMENT_REFERENCE_INVALID = (
    "Enter the payment reference as the finance system shows it: 40 letters, numbers, spaces or the characters "
    "/ . _ - at most, starting with a letter or number"
)

NOT_RECIPIENT = "Only members of %(organisation)s can do this"

AWARD_ENDED = "The award is %(status)s, so nothing more can be done to it"

EVIDENCE_NOT_SCANNED = "The evidence is still being checked for viruses: sign it off once the check is done"

EVIDENCE_QUARANTINED = "A virus was found in the evidence, so it cannot be signed off: send it back for a clean copy"

NO_EVIDENCE_TO_SIGN_OFF = "There is no evidence waiting to be signed off for this condition"

NOTE_MISSING = "Enter a note to explain"

VARIATION_NOT_ALLOWED = "A variation can be requested only for an accepted or active award: this one is %(status)s"

VARIATION_ALREADY_OPEN = "A variation is already waiting for a decision: wait for it before asking for another"

VARIATION_REASONS_MISSING = "Enter the reasons for the variation"

VARIATION_KIND_MISSING = "Select the kind of variation"

VARIATION_PROFILE_MISSING = "Enter the new profile by financial year"

VARIATION_NO_CHANGE = "The new profile is the same as the current one"

VARIATION_END_DATE_MISSING = "Enter the new end date"

VARIATION_END_NOT_LATER = "The new end date must be after the current end date, %(current)s"

VARIATION_SCOPE_MISSING = "Describe the new scope"

VARIATION_BELOW_PAID = "%(year)s cannot be less than %(fixed)s, the money already released or paid in that year"

VARIATION_YEAR_ALL_PAID = "%(year)s has no unpaid quarters left, so no more money can be moved into it"

VARIATION_OVERSPENDS = "Approving this would overspend %(pot)s in %(year)s: %(remaining)s remains but %(needed)s more is needed"

REJECTION_NOTE_MISSING = "Enter a note to explain why the variation is rejected"

LETTER_NOT_ALLOWED = "Letters are made only for awards that are offered, accepted, active or suspended"

RETURN_FREQUENCY_NOT_ALLOWED = "Choose how often monitoring returns are due: every quarter, six months or year"

RETURN_FREQUENCY_FIXED = (
    "How often returns are due is part of the offer's terms: it can change only while the offer waits for an "
    "answer, not once it is %(status)s"
)
