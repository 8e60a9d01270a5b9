"""NHS staff single sign-on: OpenID Connect through mozilla-django-oidc.

Configured from the environment (``OIDC_*`` in settings, for NHSmail's Microsoft Entra ID tenant
or any OpenID Connect provider); everything here is inert while ``OIDC_ENABLED`` is false.

- An existing account is matched on its email address, and only when the provider says it has
  verified that address (``OIDC_EMAIL_VERIFIED_CLAIM``, ``email_verified`` by default).
- No account is created: a person the portal does not know has no organisation membership, so
  they are refused with a message saying who can add them.
- When the provider did multi-factor authentication (``amr`` contains ``mfa``), the portal does
  not ask for its own code again; otherwise staff give their code as after a password.
"""

from __future__ import annotations

import logging
import time

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from .access import public
from .audit import audit_record
from .second_factor import IDP_MFA, SSO, mark_authenticated

LOGGER = logging.getLogger(__name__)

# Messages that tests import.
SSO_EMAIL_NOT_VERIFIED = ("Your single sign-on account did not confirm that your email address is verified, so it "
                          "cannot be matched to a Fund Portal account. Sign in with your email and password instead.")
SSO_NO_ACCOUNT = ("There is no Fund Portal account for this email address. Accounts are only made for people in an "
                  "organisation on the portal: ask your organisation's fund manager or the site admin to add you, "
                  "then sign in again.")
SSO_FAILED = "Single sign-on did not complete. Try again, or sign in with your email and password."


def _claim_true(value) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _refuse(request, message: str) -> None:
    if request is not None:
        request._sso_refusal = message


class PortalOIDCBackend(OIDCAuthenticationBackend):
    """Signs in existing accounts by verified email; never creates one."""

    def __init__(self, *args, **kwargs):
        # Django makes every backend for every sign-in; without the OIDC settings the parent's
        # constructor would refuse, so this backend stays idle until single sign-on is configured.
        self.enabled = bool(getattr(settings, "OIDC_ENABLED", False))
        if self.enabled:
            super().__init__(*args, **kwargs)
        else:
            from django.contrib.auth import get_user_model

            self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        if not self.enabled or request is None or "code" not in request.GET:
            return None
        return super().authenticate(request, **kwargs)

    def retrieve_matching_jwk(self, token):
        """The provider's signing key for this token: by its ``kid`` (Entra ID always names one);
        a token naming none is accepted only when the provider publishes exactly one key for its
        algorithm. The signature is checked against the key either way."""
        header = jwt.get_unverified_header(token)
        if "kid" in header:
            return super().retrieve_matching_jwk(token)
        response = requests.get(self.OIDC_OP_JWKS_ENDPOINT, verify=self.get_settings("OIDC_VERIFY_SSL", True),
                                timeout=self.get_settings("OIDC_TIMEOUT", None))
        response.raise_for_status()
        keys = [key for key in response.json().get("keys", [])
                if key.get("alg", header.get("alg")) == header.get("alg") and key.get("use", "sig") == "sig"]
        if len(keys) != 1:
            raise SuspiciousOperation("The ID token names no key and the provider publishes several")
        return jwt.PyJWK(keys[0])

    def verify_token(self, token, **kwargs):
        """The signature and nonce (parent), then the issuer, audience and expiry."""
        payload = super().verify_token(token, **kwargs)
        issuer = getattr(settings, "OIDC_OP_ISSUER", "")
        if issuer and payload.get("iss") != issuer:
            raise SuspiciousOperation("ID token from another issuer")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token for another client")
        if float(payload.get("exp", 0)) < time.time():
            raise SuspiciousOperation("ID token expired")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        """The userinfo claims, with ``amr`` and ``email_verified`` from the signed ID token when
        it carries them (Entra ID puts them there rather than in userinfo)."""
        claims = dict(super().get_userinfo(access_token, id_token, payload))
        verified_claim = settings.OIDC_EMAIL_VERIFIED_CLAIM
        for name in ("amr", verified_claim):
            if name in payload:
                claims[name] = payload[name]
        if "email" not in claims and payload.get("email"):
            claims["email"] = payload["email"]
        return claims

    def verify_claims(self, claims) -> bool:
        if not claims.get("email"):
            _refuse(self.request, SSO_EMAIL_NOT_VERIFIED)
            return False
        if not _claim_true(claims.get(settings.OIDC_EMAIL_VERIFIED_CLAIM)):
            _refuse(self.request, SSO_EMAIL_NOT_VERIFIED)
            return False
        return True

    def filter_users_by_claims(self, claims):
        email = (claims.get("email") or "").strip()
        return self.UserModel.objects.filter(email__iexact=email, is_active=True)

    def create_user(self, claims):
        # Never reached while OIDC_CREATE_USER is False; refuse here too in case it is set.
        _refuse(self.request, SSO_NO_ACCOUNT)
        raise SuspiciousOperation("Single sign-on does not create accounts")

    def get_or_create_user(self, access_token, id_token, payload):
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is None and not getattr(self.request, "_sso_refusal", None):
            _refuse(self.request, SSO_NO_ACCOUNT)
        if user is not None:
            amr = self._claims_amr(access_token, id_token, payload)
            self.request._sso_mfa = "mfa" in amr
        return user

    def _claims_amr(self, access_token, id_token, payload) -> list[str]:
        amr = payload.get("amr") or []
        return [str(value) for value in (amr if isinstance(amr, list) else [amr])]

    def update_user(self, user, claims):
        return user


@public
class SignOnStart(OIDCAuthenticationRequestView):
    """Sends the browser to the provider; ``?reauth=1`` asks it to sign the person in afresh."""

    def __init__(self, *args, **kwargs):
        if not getattr(settings, "OIDC_ENABLED", False):
            raise Http404("Single sign-on is not configured")
        super().__init__(*args, **kwargs)

    def get_extra_params(self, request):
        params = dict(super().get_extra_params(request))
        if request.GET.get("reauth"):
            params.update({"prompt": "login", "max_age": "0"})
        return params


@public
class SignOnCallback(OIDCAuthenticationCallbackView):
    """Signs the person in, records how (and whether the provider did MFA), or says why not."""

    def __init__(self, *args, **kwargs):
        if not getattr(settings, "OIDC_ENABLED", False):
            raise Http404("Single sign-on is not configured")
        super().__init__(*args, **kwargs)

    def login_failure(self):
        messages.error(self.request, getattr(self.request, "_sso_refusal", None) or SSO_FAILED)
        return super().login_failure()

    def login_success(self):
        response = super().login_success()
        session = self.request.session
        session[SSO] = True
        mfa = bool(getattr(self.request, "_sso_mfa", False))
        session[IDP_MFA] = mfa
        if mfa:
            # Signed in with two factors at the provider just now: this counts as a recent sign-in.
            mark_authenticated(self.request)
        audit_record(actor=self.user, action="signed in with single sign-on", target=self.user,
                     message="Signed in through single sign-on" + (" with multi-factor authentication" if mfa else ""))
        return response
