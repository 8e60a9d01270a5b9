"""Browser tests: Playwright driving Debian's chromium against the live test server.

Given/when/then tests sign people in by session cookie (``sign_in``), and call
``check_accessibility(page)`` on every page they visit (axe-core, WCAG 2.2 A and AA).
"""

from __future__ import annotations

import os
import shutil

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from playwright.sync_api import Error as PlaywrightError

from tests.conftest import SignedInClient

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the tests
# themselves (to set up data) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
AXE_ATTEMPTS = 3
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
_axe = Axe()


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-dev-shm-usage"],
    }


@pytest.fixture
def sign_in(page, live_server):
    """Sign a user in by session cookie rather than through the sign-in page, with both factors
    given (staff roles must pass the second factor; see tests/conftest.py SignedInClient)."""

    def _sign_in(user):
        client = SignedInClient()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
        )
        return user

    return _sign_in


def check_accessibility(page) -> None:
    """Fail with axe's report if the page has any WCAG 2.2 A/AA violation."""
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    for attempt in range(AXE_ATTEMPTS):
        # A click that follows a link returns before the next document has arrived, so axe can
        # start in a document that is being replaced. Wait for the page to load, and run again.
        page.wait_for_load_state("load")
        try:
            results = _axe.run(page, options=options)
            break
        except PlaywrightError:
            if attempt == AXE_ATTEMPTS - 1:
                raise
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


@pytest.fixture
def axe():
    return check_accessibility
