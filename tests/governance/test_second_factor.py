"""The second factor: every staff role must set up an authenticator app at first sign-in and give
a code at every sign-in, and reaches nothing else (the site admin included) until then;
applicants and commissioners may opt in; recovery codes work once; a site admin resets a lost
device, audited.

These tests sign in through the real sign-in page with ``django.test.Client`` (password only),
not the suite's ``client`` whose ``force_login`` passes the second factor too."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from governance import second_factor as sf
from governance.access import is_staff_role
from governance.demo import DEMO_PASSWORD
from governance.models import AuditEvent, FundRoleKind, PanelRole, User
from tests.factories.governance import (
    FundFactory,
    FundManagerFactory,
    FundRoleFactory,
    ICBFactory,
    MembershipFactory,
    PanelMemberFactory,
)

pytestmark = pytest.mark.django_db

STAFF_ROLES = ["fund manager", "panel chair", "deputy chair", "assessor", "lay member", "auditor", "site admin"]


def _person(role: str) -> User:
    if role == "fund manager":
        return FundManagerFactory().user
    if role in ("panel chair", "deputy chair", "assessor", "lay member"):
        kind = {"panel chair": PanelRole.CHAIR, "deputy chair": PanelRole.DEPUTY_CHAIR,
                "assessor": PanelRole.ASSESSOR, "lay member": PanelRole.LAY_MEMBER}[role]
        return PanelMemberFactory(role=kind).user
    if role == "auditor":
        return FundRoleFactory(fund=FundFactory(), role=FundRoleKind.AUDITOR).user
    if role == "site admin":
        return User.objects.create_superuser(f"admin-{User.objects.count()}@example.com", DEMO_PASSWORD,
                                             full_name="Site Admin")
    if role == "applicant":
        return MembershipFactory().user
    if role == "commissioner":
        return MembershipFactory(organisation=ICBFactory()).user
    raise ValueError(role)


def _sign_in(user: User, *, next_url: str = "") -> tuple[Client, object]:
    """Password through the sign-in page; returns the client and the response."""
    client = Client()
    url = reverse("login") + (f"?next={next_url}" if next_url else "")
    response = client.post(url, {"username": user.email, "password": DEMO_PASSWORD, "next": next_url})
    assert response.status_code == 302, response.content.decode()[:500]
    return client, response


def _code(device: TOTPDevice, *, at: float | None = None) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = at if at is not None else timezone.now().timestamp()
    return f"{totp.token():06d}"


def _enrolled(user: User) -> TOTPDevice:
    device = TOTPDevice.objects.create(user=user, name=sf.TOTP_DEVICE_NAME, confirmed=True)
    sf._new_recovery_codes(user)
    return device


def _path(response) -> str:
    return urlsplit(response["Location"]).path


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_every_staff_role_reaches_nothing_but_set_up_and_sign_out_until_enrolled(role):
    user = _person(role)
    assert is_staff_role(user)
    client, response = _sign_in(user)
    dashboard = client.get(reverse("dashboard"))
    assert _path(dashboard) == reverse("second_factor_setup")
    assert parse_qs(urlsplit(dashboard["Location"]).query)["next"] == [reverse("dashboard")]
    for path in ["/calls/", "/manage/funds/", "/admin/", "/admin/governance/user/", "/awards/",
                 reverse("reauthenticate"), reverse("governance:notifications")]:
        assert _path(client.get(path)) == reverse("second_factor_setup"), path
    assert client.get(reverse("second_factor_setup")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_an_enrolled_staff_member_is_asked_for_a_code_before_anything(role):
    user = _person(role)
    _enrolled(user)
    client, _ = _sign_in(user)
    for path in [reverse("dashboard"), "/admin/", "/calls/"]:
        assert _path(client.get(path)) == reverse("second_factor_verify"), path


@pytest.mark.parametrize("role", ["applicant", "commissioner"])
def test_applicants_and_commissioners_are_not_asked_for_a_code_unless_they_opt_in(role):
    user = _person(role)
    assert not is_staff_role(user)
    client, _ = _sign_in(user)
    assert client.get(reverse("dashboard")).status_code == 200
    page = client.get(reverse("second_factor")).content.decode()
    assert "Set up an authenticator app" in page
    # They opt in: from the next sign-in on they give a code too.
    device = sf.pending_totp_device(user)
    assert client.post(reverse("second_factor_setup"), {"code": _code(device)}).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    again, _ = _sign_in(user)
    assert _path(again.get(reverse("dashboard"))) == reverse("second_factor_verify")


def test_enrolment_shows_a_qr_code_and_the_secret_confirms_with_a_code_and_shows_recovery_codes_once():
    user = _person("fund manager")
    client, _ = _sign_in(user, next_url="/manage/funds/")
    page = client.get(reverse("second_factor_setup") + "?next=/manage/funds/")
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert "<svg" in html  # the QR code, inline
    assert "otpauth" not in html  # the address is in the picture, not the page text
    assert sf.secret_base32(device) in html  # for those who cannot scan
    assert sf.secret_base32(device).replace(" ", "") == sf.secret_base32(device).replace(" ", "").upper()
    # A wrong code is refused and nothing is confirmed.
    wrong = client.post(reverse("second_factor_setup"), {"code": "000000", "next": "/manage/funds/"})
    assert wrong.status_code == 200
    assert sf.CODE_SETUP_WRONG in wrong.content.decode()
    assert wrong.content.decode().count("<title>Error: ") == 1
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    # The right code confirms the app, signs the second factor in, and shows the recovery codes once.
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=3), tick=True):  # past the throttle
        done = client.post(reverse("second_factor_setup"), {"code": _code(device), "next": "/manage/funds/"})
    assert done.status_code == 302
    assert _path(done) == reverse("second_factor")
    codes = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(codes) == sf.RECOVERY_CODE_COUNT
    shown = client.get(done["Location"]).content.decode()
    assert all(code in shown for code in codes)
    assert 'href="/manage/funds/"' in shown
    assert not any(code in client.get(reverse("second_factor")).content.decode() for code in codes)
    assert client.get("/manage/funds/").status_code == 200
    assert AuditEvent.objects.filter(action="second factor set up", target_id=str(user.pk)).count() == 1


def test_the_code_at_sign_in_wrong_then_right_and_a_used_code_cannot_be_replayed():
    user = _person("assessor")
    device = _enrolled(user)
    client, _ = _sign_in(user)
    verify = reverse("second_factor_verify") + "?next=/dashboard/"
    wrong = client.post(verify, {"code": "123456", "next": "/dashboard/"})
    assert wrong.status_code == 200
    assert sf.CODE_WRONG in wrong.content.decode()
    assert _path(client.get(reverse("dashboard"))) == reverse("second_factor_verify")
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=3), tick=True):  # past the throttle
        code = _code(device)
        right = client.post(verify, {"code": code, "next": "/dashboard/"})
        assert right.status_code == 302
        assert right["Location"] == "/dashboard/"
        assert client.get(reverse("dashboard")).status_code == 200
        # Someone who saw the code over the shoulder signs in with the password: the code is spent.
        other, _ = _sign_in(user)
        replay = other.post(verify, {"code": code, "next": "/dashboard/"})
        assert replay.status_code == 200
        assert sf.CODE_WRONG in replay.content.decode()
        assert _path(other.get(reverse("dashboard"))) == reverse("second_factor_verify")


def test_next_after_the_code_stays_on_this_site():
    user = _person("auditor")
    device = _enrolled(user)
    client, _ = _sign_in(user)
    response = client.post(reverse("second_factor_verify"), {"code": _code(device), "next": "https://evil.example/"})
    assert response["Location"] == reverse("dashboard")


def test_a_recovery_code_works_once_and_new_codes_replace_the_old_ones():
    user = _person("panel chair")
    _enrolled(user)
    first, second = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))[:2]
    client, _ = _sign_in(user)
    assert client.post(reverse("second_factor_verify"), {"code": first.upper()}).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    assert AuditEvent.objects.filter(action="recovery code used", target_id=str(user.pk)).exists()
    again, _ = _sign_in(user)
    used = again.post(reverse("second_factor_verify"), {"code": first})
    assert used.status_code == 200
    assert sf.CODE_WRONG in used.content.decode()
    # New codes: the page shows them once; the old unused one stops working.
    page = client.post(reverse("second_factor"))
    assert page.status_code == 200
    new_codes = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert second not in new_codes
    assert all(code in page.content.decode() for code in new_codes)
    assert AuditEvent.objects.filter(action="recovery codes replaced", target_id=str(user.pk)).count() == 1
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=5), tick=True):  # past the throttle
        third, _ = _sign_in(user)
        assert third.post(reverse("second_factor_verify"), {"code": second}).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=10), tick=True):  # past the throttle again
        assert third.post(reverse("second_factor_verify"), {"code": new_codes[0]}).status_code == 302


def test_a_site_admin_resets_a_lost_device_from_the_admin_and_it_is_audited(client):
    admin = _person("site admin")
    person = _person("fund manager")
    _enrolled(person)
    client.force_login(admin)  # both factors
    response = client.post(reverse("admin:governance_user_changelist"),
                           {"action": "reset_second_factor", "_selected_action": [person.pk]})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=person).exists()
    assert not StaticToken.objects.filter(device__user=person).exists()
    event = AuditEvent.objects.get(action="second factor reset", target_id=str(person.pk))
    assert event.actor == admin
    # The manager sets up a new app at their next sign-in.
    again, _ = _sign_in(person)
    assert _path(again.get(reverse("dashboard"))) == reverse("second_factor_setup")
    # Only a site admin may reset.
    with pytest.raises(ValidationError):
        sf.second_factor_reset(actor=person, user=admin)


def test_the_site_admin_reaches_the_admin_only_after_the_code():
    admin = _person("site admin")
    device = _enrolled(admin)
    client = Client()
    response = client.post(reverse("admin:login") + "?next=/admin/",
                           {"username": admin.email, "password": DEMO_PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    assert _path(client.get("/admin/")) == reverse("second_factor_verify")
    client.post(reverse("second_factor_verify"), {"code": _code(device)})
    assert client.get("/admin/").status_code == 200


def test_the_demo_staff_accounts_share_the_published_secret_and_demo_code_prints_the_code(capsys):
    call_command("seed_demo", verbosity=0)
    manager = User.objects.get(email="manager.southwest@example.com")
    applicant = User.objects.get(email="applicant.devon@example.com")
    device = sf.totp_device(manager)
    assert device.key == sf.demo_key_hex()
    assert sf.totp_device(applicant) is None  # applicants are not asked, unless they opt in
    call_command("demo_code", "Manager.Southwest@example.com")
    code = capsys.readouterr().out.strip()
    assert code == _code(device)
    client, _ = _sign_in(manager)
    assert client.post(reverse("second_factor_verify"), {"code": code}).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200


def test_production_settings_give_the_demo_no_known_secret(settings):
    settings.DEMO_TOTP_SECRET = ""
    user = _person("fund manager")
    assert sf.demo_second_factor_seed([user]) == 0
    assert sf.totp_device(user) is None
