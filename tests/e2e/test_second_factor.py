"""Given a fund manager signing in for the first time, when they set up their authenticator app
and sign in again, then they give a code each time; every page passes the accessibility check."""

import base64
import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from governance.demo import DEMO_PASSWORD
from tests.e2e.conftest import check_accessibility
from tests.factories.governance import FundManagerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = timezone.now().timestamp()
    return f"{totp.token():06d}"


def _password(page, live_server, email):
    page.goto(live_server.url + "/dashboard/")
    page.fill("#id_username", email)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")


def test_a_fund_manager_sets_up_an_authenticator_app_and_signs_in_with_a_code(page, live_server):
    manager = FundManagerFactory(user__email="new.manager@example.com", user__full_name="Nia Manager").user
    # Given the password, they are asked to set up an authenticator app before anything else.
    _password(page, live_server, manager.email)
    expect(page.locator("h1")).to_have_text("Set up your authenticator app")
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    assert secret.replace(" ", "") in base64.b32encode(device.bin_key).decode()
    check_accessibility(page)
    # A wrong code is shown as an error, the NHS way.
    page.fill("#id_code", "000000")
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    check_accessibility(page)
    # The code the app shows confirms it, and the recovery codes are shown once.
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=3), tick=True):
        page.fill("#id_code", _code(device))
        page.get_by_role("button", name="Confirm and continue").click()
        expect(page.locator("h1")).to_have_text("Two-step sign-in")
        expect(page.locator("#recovery-codes li")).to_have_count(10)
        check_accessibility(page)
        page.get_by_role("link", name="I have saved my codes: continue").click()
        expect(page.locator("h1")).to_have_text("Your dashboard")
        page.get_by_role("button", name="Sign out").click()
    # When they sign in again (a new code: the one used is spent), they give a code after the password.
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=40), tick=True):
        _password(page, live_server, manager.email)
        expect(page.locator("h1")).to_have_text("Enter the code from your authenticator app")
        check_accessibility(page)
        device.refresh_from_db()
        page.fill("#id_code", _code(device))
        page.get_by_role("button", name="Continue").click()
        expect(page.locator("h1")).to_have_text("Your dashboard")
        check_accessibility(page)
