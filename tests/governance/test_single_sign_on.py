"""NHS staff single sign-on, end to end against a real OpenID Connect provider.

The provider (oidc-provider-mock, an authlib-based OpenID provider) runs as an HTTP server on a
spare 127.0.0.1 port for the test session. The portal finds it through its discovery document,
redirects the browser to it, exchanges the code over HTTP, checks the signed ID token against the
provider's published keys, and reads userinfo: nothing is mocked on the portal's side.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from django_otp.plugins.otp_totp.models import TOTPDevice

from governance import oidc, second_factor as sf
from governance.models import AuditEvent, User
from tests.factories.governance import FundManagerFactory, MembershipFactory

pytestmark = pytest.mark.django_db

CLIENT_ID = "fund-portal-test"
CLIENT_SECRET = "a-client-secret-for-the-test-provider"


@pytest.fixture(scope="session")
def oidc_provider():
    """A real OpenID Connect provider on 127.0.0.1 for the whole session; yields its discovery."""
    from oidc_provider_mock import app as provider_app
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, provider_app(require_nonce=True), threaded=True)
    import threading

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        discovery = requests.get(f"{base}/.well-known/openid-configuration", timeout=10).json()
        yield {"base": base, **discovery}
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def sso(settings, oidc_provider):
    """Single sign-on configured from the provider's discovery, as a deployment's OIDC_* would."""
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_ISSUER = oidc_provider["issuer"]
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = oidc_provider["authorization_endpoint"]
    settings.OIDC_OP_TOKEN_ENDPOINT = oidc_provider["token_endpoint"]
    settings.OIDC_OP_USER_ENDPOINT = oidc_provider["userinfo_endpoint"]
    settings.OIDC_OP_JWKS_ENDPOINT = oidc_provider["jwks_uri"]
    settings.OIDC_TIMEOUT = 10
    return oidc_provider


def _provider_user(sso, sub: str, **claims) -> None:
    response = requests.put(f"{sso['base']}/users/{sub}", json=claims, timeout=10)
    assert response.status_code == 204, response.text


def _sign_on(client: Client, sso, sub: str, next_url: str = "/dashboard/"):
    """Click the button, sign in at the provider as ``sub``, come back; the callback's response."""
    start = client.get(reverse("oidc_authentication_init") + f"?next={next_url}")
    assert start.status_code == 302
    authorize = start["Location"]
    assert authorize.startswith(sso["authorization_endpoint"])
    params = parse_qs(urlsplit(authorize).query)
    assert params["client_id"] == [CLIENT_ID]
    assert "nonce" in params
    assert "code_challenge" in params
    # The person signs in at the provider, which sends the browser back with a code.
    at_provider = requests.post(authorize, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text[:500]
    back = urlsplit(at_provider.headers["Location"])
    assert back.path == reverse("oidc_authentication_callback")
    assert "code" in parse_qs(back.query)
    return client.get(f"{back.path}?{back.query}")


def _messages(client: Client) -> str:
    return client.get(reverse("login")).content.decode()


def test_the_sign_in_page_offers_nhsmail_only_when_configured(client, settings, sso):
    assert "Sign in with NHSmail" in client.get(reverse("login")).content.decode()
    settings.OIDC_ENABLED = False
    assert "Sign in with NHSmail" not in client.get(reverse("login")).content.decode()
    assert client.get(reverse("oidc_authentication_init")).status_code == 404


def test_an_existing_account_is_matched_on_its_verified_email_and_mfa_at_the_provider_is_honoured(sso):
    manager = FundManagerFactory(user__email="sam.trelawney@example.com").user
    assert not TOTPDevice.objects.filter(user=manager).exists()
    _provider_user(sso, "sub-sam", email="Sam.Trelawney@example.com", email_verified=True, amr=["pwd", "mfa"],
                   name="Sam Trelawney")
    client = Client()
    response = _sign_on(client, sso, "sub-sam")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert int(client.session["_auth_user_id"]) == manager.pk
    # A staff role, but the provider did MFA: the portal does not ask for its own code.
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/manage/funds/").status_code == 200
    # And it counts as a recent sign-in for money and decisions.
    assert sf.recently_authenticated(client.get("/dashboard/").wsgi_request)
    assert AuditEvent.objects.filter(action="signed in with single sign-on", actor=manager).exists()


def test_without_mfa_at_the_provider_staff_still_give_the_portals_code(sso):
    manager = FundManagerFactory(user__email="no.mfa@example.com").user
    _provider_user(sso, "sub-no-mfa", email="no.mfa@example.com", email_verified=True, amr=["pwd"])
    client = Client()
    assert _sign_on(client, sso, "sub-no-mfa").status_code == 302
    assert int(client.session["_auth_user_id"]) == manager.pk
    assert urlsplit(client.get("/dashboard/")["Location"]).path == reverse("second_factor_setup")


def test_an_unverified_email_is_refused(sso):
    FundManagerFactory(user__email="unverified@example.com")
    _provider_user(sso, "sub-unverified", email="unverified@example.com", email_verified=False, amr=["mfa"])
    client = Client()
    response = _sign_on(client, sso, "sub-unverified")
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    assert escape(oidc.SSO_EMAIL_NOT_VERIFIED) in _messages(client)


def test_a_missing_email_verified_claim_is_refused_too(sso):
    FundManagerFactory(user__email="silent@example.com")
    _provider_user(sso, "sub-silent", email="silent@example.com", amr=["mfa"])
    client = Client()
    _sign_on(client, sso, "sub-silent")
    assert "_auth_user_id" not in client.session


def test_no_account_is_created_for_someone_with_no_organisation_membership(sso):
    _provider_user(sso, "sub-stranger", email="stranger@nhs.net", email_verified=True, amr=["mfa"])
    client = Client()
    response = _sign_on(client, sso, "sub-stranger")
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(email__iexact="stranger@nhs.net").exists()
    assert escape(oidc.SSO_NO_ACCOUNT) in _messages(client)


def test_an_applicant_signs_on_and_is_not_asked_for_a_code(sso):
    applicant = MembershipFactory(user__email="applicant.sso@example.com").user
    _provider_user(sso, "sub-applicant", email="applicant.sso@example.com", email_verified=True)
    client = Client()
    _sign_on(client, sso, "sub-applicant")
    assert int(client.session["_auth_user_id"]) == applicant.pk
    assert client.get("/dashboard/").status_code == 200


def test_signing_on_again_from_the_confirm_page_asks_the_provider_to_sign_in_afresh(sso):
    manager = FundManagerFactory(user__email="again@example.com").user
    _provider_user(sso, "sub-again", email="again@example.com", email_verified=True, amr=["mfa"])
    client = Client()
    _sign_on(client, sso, "sub-again")
    page = client.get(reverse("reauthenticate") + "?next=/awards/").content.decode()
    assert "reauth=1" in page
    start = client.get(reverse("oidc_authentication_init") + "?next=/awards/&reauth=1")
    params = parse_qs(urlsplit(start["Location"]).query)
    assert params["prompt"] == ["login"]
    assert int(client.session["_auth_user_id"]) == manager.pk
