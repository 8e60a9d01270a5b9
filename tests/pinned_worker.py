"""A Celery worker on the test session's pinned clock (see ``PINNED_NOW`` in tests/conftest.py).

``python -m tests.pinned_worker -A fundportal worker …`` takes the same arguments as
``celery``; the moment to start from is in ``FUNDPORTAL_PINNED_NOW``. Worker processes are
forked from this one, so they keep its clock.
"""

import datetime as dt
import os
import sys

import time_machine
from celery.__main__ import main

if __name__ == "__main__":
    time_machine.travel(dt.datetime.fromisoformat(os.environ["FUNDPORTAL_PINNED_NOW"]), tick=True).start()
    sys.exit(main())
