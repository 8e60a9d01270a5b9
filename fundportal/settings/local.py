"""Local development: `make run`. SQLite and eager Celery unless the environment says otherwise."""

from .base import *

DEBUG = env.bool("DEBUG", default=True)
INTERNAL_IPS = ["127.0.0.1"]
