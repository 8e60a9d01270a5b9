"""Signals for later stages: governance cannot import them, so it announces its transitions.

Receivers run inside the sending service's transaction: what they change commits or rolls
back with the transition itself.
"""

from django.dispatch import Signal

# A call moved from closed to in assessment. Arguments: ``call``, ``actor``.
# The applications stage moves the call's submitted bids into assessment with it.
call_entered_assessment = Signal()

# A published call's closing time moved later. Arguments: ``call``, ``actor``, ``previous_closes_at``.
# The applications stage tells the writers of the call's draft bids.
call_closing_extended = Signal()

# A call closed (at its closing time or early). Arguments: ``call``, ``actor``.
# The applications stage tells the call's fund managers how many bids came in.
call_closed = Signal()
