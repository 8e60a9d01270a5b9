"""SITE_URL: required (and not local) with DEBUG off; in development links follow the request."""

from django.http import HttpResponse
from django.test import RequestFactory

from governance.siteurl import (
    SITE_URL_LOCAL,
    SITE_URL_UNSET,
    SiteUrlMiddleware,
    absolute_url,
    check_site_url,
)


def _ids(messages):
    return [m.id for m in messages]


def test_debug_off_needs_a_site_url(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["fund.example.nhs.uk"]
    settings.SITE_URL = ""
    assert _ids(check_site_url()) == [SITE_URL_UNSET]
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert _ids(check_site_url()) == [SITE_URL_LOCAL]
    settings.SITE_URL = "https://fund.example.nhs.uk"
    assert check_site_url() == []


def test_a_local_trial_that_answers_only_locally_may_link_locally(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    settings.SITE_URL = "http://localhost:8000"
    assert check_site_url() == []


def test_development_links_follow_the_request_when_site_url_is_unset(settings):
    settings.DEBUG = True
    settings.SITE_URL = ""
    seen = []
    middleware = SiteUrlMiddleware(lambda request: seen.append(absolute_url("/awards/X/")) or HttpResponse())
    middleware(RequestFactory().get("/", HTTP_HOST="localhost:8123"))
    assert seen == ["http://localhost:8123/awards/X/"]
    # Outside a request (a worker), the fallback.
    assert absolute_url("/awards/X/") == settings.SITE_URL_FALLBACK + "/awards/X/"


def test_a_configured_site_url_always_wins(settings):
    settings.DEBUG = True
    settings.SITE_URL = "https://fund.example.nhs.uk/"
    seen = []
    middleware = SiteUrlMiddleware(lambda request: seen.append(absolute_url("/x/")) or HttpResponse())
    middleware(RequestFactory().get("/", HTTP_HOST="localhost:8123"))
    assert seen == ["https://fund.example.nhs.uk/x/"]
