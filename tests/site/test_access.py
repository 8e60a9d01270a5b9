"""Every view needs sign-in unless it is explicitly public: walk every URL pattern."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

SAMPLE_VALUES = {"int": "1", "slug": "some-slug", "str": "SOME-REF-1", "path": "some/path", "uuid": "00000000-0000-0000-0000-000000000001"}


def _patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # the admin has its own sign-in
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _sample_path(route: str) -> str:
    import re

    path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_VALUES.get(m.group(1) or "str", "x"), route)
    path = path.lstrip("^").rstrip("$").replace("\\Z", "")
    return "/" + path


def _is_public(callback) -> bool:
    return getattr(callback, "login_required", True) is False


ALL_PATTERNS = list(_patterns())


def test_the_walk_finds_the_site_urls():
    routes = {route for route, _ in ALL_PATTERNS}
    assert {"", "dashboard/", "calls/<slug:slug>/"} <= routes


@pytest.mark.parametrize(("route", "pattern"), ALL_PATTERNS, ids=[route or "/" for route, _ in ALL_PATTERNS])
def test_no_private_page_answers_an_anonymous_visitor(client, route, pattern):
    response = client.get(_sample_path(route))
    if _is_public(pattern.callback):
        # Public pages answer, or say the object does not exist: never a server error.
        assert response.status_code in (200, 301, 302, 304, 400, 404, 405), response.status_code
    else:
        assert response.status_code != 200
        assert response.status_code in (302, 403, 404, 405)
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/")
