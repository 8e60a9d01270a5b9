"""Signals for later stages: awards cannot import them, so it announces its changes.

Sent inside the service's transaction; receivers that do slow work should defer it with
``transaction.on_commit``.
"""

from django.dispatch import Signal

# An award's status, dates or profile changed. Arguments: ``award``, ``actor``, ``change``
# ("status" or "variation"). Monitoring keeps the award's return schedule in step.
award_changed = Signal()
