"""The base class of every Celery task (``fundportal.celery`` sets it as the app's task class).

A task handed over by the outbox carries its message's id as its Celery task id. Before it
runs, a message already done is skipped (a redelivered or twice-handed-over message does
nothing); when it returns, the message is marked done; when it fails for good, failed, or
waiting again if the error is one the task lists in ``outbox_wait_on`` (the beat hands it over
later). Tasks not started through the outbox (the beat's own) find no message and just run.

Kept free of model imports at module level: Celery loads this class before Django is ready.
"""

from __future__ import annotations

from celery import Task
from celery.exceptions import Ignore, Reject, Retry


class OutboxTask(Task):
    # Errors that, once the task's own retries are spent, put the message back to wait for the beat.
    outbox_wait_on: tuple[type[BaseException], ...] = ()

    def __call__(self, *args, **kwargs):
        from . import outbox

        task_id = self.request.id
        if outbox.outbox_is_done(task_id=task_id):
            return None
        try:
            result = super().__call__(*args, **kwargs)
        except (Retry, Ignore, Reject):
            raise
        except Exception as exc:
            outbox.outbox_mark_failed(task_id=task_id, error=f"{type(exc).__name__}: {exc}",
                                      wait=isinstance(exc, self.outbox_wait_on))
            raise
        outbox.outbox_mark_done(task_id=task_id)
        return result
