"""Rendered parts of public pages, kept in Django's cache under the public version.

The register's list (its filters, totals, rows and page links), an award's page and a page of the
API's award list are the same for everyone who asks for the same query while nothing public has
changed. They are kept under the public version's token (``reporting/public_version.py``: it moves
with every change to anything public, with the register's read model, and at the next scheduled
release or call opening or closing) and the request's query, reduced to the parameters the page
reads, so a later request with the same query reuses them without running a query or rendering a
form. A change moves the token, so the next request renders afresh; nothing is ever shown from an
older version. ``FRAGMENT_SECONDS`` bounds how long a part is kept even if nothing moved it (the
fund filter's names are read from funds, whose own changes do not move the token when the fund
has no award yet).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache

from .public_version import public_version

FRAGMENT_SECONDS = 600
PREFIX = "public-part:"


def version_token(request) -> str:
    """The public version of this request: the one the caching middleware already read for a
    visitor (no second query), else read now."""
    cached = getattr(request, "_public_cache", None)
    return cached[2].token if cached else public_version().token


def normalised_query(query, names: Iterable[str]) -> str:
    """The request's values of ``names`` (in that order, empty ones left out): two queries that
    mean the same page give the same text, and unknown parameters (``utm_source``...) none."""
    pairs = [(name, value) for name in names for value in query.getlist(name) if value != ""]
    return urlencode(pairs)


def part_key(kind: str, token: str, *parts: str) -> str:
    return PREFIX + hashlib.sha256("|".join([kind, token, *parts]).encode()).hexdigest()


def cached_part(kind: str, request, parts: Iterable[str], build: Callable[[], Any]) -> Any:
    """The part kept for this version and query, else ``build()`` kept for the next request
    (``build`` returns None for something not to keep, like a 404)."""
    key = part_key(kind, version_token(request), *parts)
    hit = cache.get(key)
    if hit is not None:
        return hit
    made = build()
    if made is not None:
        cache.set(key, made, FRAGMENT_SECONDS)
    return made
