"""Test settings: fast hashing, in-memory email, uploads in a temporary folder (see conftest)."""

import os

from .base import *

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In-memory email; a worker started by a test may write its email to files instead, so the test
# can count what was sent (tests/site/test_broker_outage.py).
EMAIL_BACKEND = env("TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = env("TEST_EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "test-mail"))
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tests run tasks eagerly; tests marked requires_broker switch to the real worker that the
# test session starts (tests/conftest.py), which itself runs with CELERY_EAGER=0.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_EAGER", default=True)
ALLOWED_HOSTS = ["*"]
SITE_URL = env("SITE_URL", default="http://testserver")
# Each test session has a queue of its own, so sessions sharing one Redis never take each
# other's tasks; the session's worker is started on the same queue.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default=f"fundportal-test-{os.getpid()}")
# A short visibility timeout, swept every second, so a task lost with a killed worker is handed
# to the next worker within seconds (the test worker runs with these settings too).
# The unacknowledged tasks are kept under keys named after the queue: a worker restores only its
# own session's lost tasks, never those another session (or pytest-xdist worker) has in hand.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=10),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
    "unacked_key": f"{CELERY_TASK_DEFAULT_QUEUE}.unacked",
    "unacked_index_key": f"{CELERY_TASK_DEFAULT_QUEUE}.unacked_index",
    "unacked_mutex_key": f"{CELERY_TASK_DEFAULT_QUEUE}.unacked_mutex",
}
# No malware scanner unless a test starts clamd and points at it (tests/conftest.py: clamd).
CLAMD_ADDRESS = ""

# Reference data lives outside the repository: ../shared/data/360giving/ when present (no network
# in tests); otherwise the setting's published URL.
_SHARED_360GIVING = BASE_DIR.parent / "shared" / "data" / "360giving" / "360-giving-package-schema.json"
if _SHARED_360GIVING.exists():
    THREESIXTYGIVING_SCHEMA_URL = env("THREESIXTYGIVING_SCHEMA_URL", default=str(_SHARED_360GIVING))
