"""Pages of the second factor: set up an authenticator app, enter a code at sign-in, recovery
codes, and signing in again before money, awards and decisions. Rules in ``second_factor.py``."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import second_factor as sf
from .access import is_staff_role
from .forms import ReauthenticationForm, SecondFactorCodeForm


def _next(request) -> str:
    return request.POST.get("next") or request.GET.get("next") or ""


def _with_next(url_name: str, next_url: str) -> str:
    url = reverse(url_name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


@never_cache
@require_http_methods(["GET", "POST"])
def second_factor_setup(request):
    """Scan the QR code (or type the secret), then confirm with a code from the app."""
    user = request.user
    next_url = _next(request)
    if sf.has_second_factor(user):
        messages.info(request, sf.ALREADY_SET_UP)
        return redirect(_with_next("second_factor_verify", next_url) if not sf.second_factor_passed(request)
                        else "second_factor")
    device = sf.pending_totp_device(user)
    form = SecondFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = sf.second_factor_confirm(actor=user, device=device, code=form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_error("code", exc.messages[0])
        else:
            sf.sign_in_second_factor(request, device)
            request.session[sf.NEW_RECOVERY_CODES] = codes
            messages.success(request, "Your authenticator app is set up.")
            return redirect(_with_next("second_factor", next_url))
    return render(request, "registration/second_factor_setup.html", {
        "form": form, "next": sf.safe_next(request, next_url) if next_url else "",
        "qr_svg": sf.qr_code_svg(device, title="QR code to add Fund Portal to your authenticator app"),
        "secret": sf.secret_base32(device), "required": is_staff_role(user),
    })


@never_cache
@require_http_methods(["GET", "POST"])
def second_factor_verify(request):
    """The second step of every sign-in for those who have (or must have) a second factor."""
    user = request.user
    next_url = _next(request)
    if sf.second_factor_passed(request):
        return redirect(sf.safe_next(request, next_url))
    if not sf.has_second_factor(user):
        return redirect(_with_next("second_factor_setup", next_url))
    form = SecondFactorCodeForm(request.POST or None, recovery_allowed=True)
    if request.method == "POST" and form.is_valid():
        try:
            device = sf.second_factor_verify(actor=user, code=form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_error("code", exc.messages[0])
        else:
            sf.sign_in_second_factor(request, device)
            if device.name == sf.RECOVERY_DEVICE_NAME:
                left = device.token_set.count()
                messages.warning(request, f"You used a recovery code; {left} left. If you have lost your phone, "
                                          "ask the site admin to reset your authenticator app.")
            return redirect(sf.safe_next(request, next_url))
    return render(request, "registration/second_factor_verify.html", {
        "form": form, "next": sf.safe_next(request, next_url) if next_url else "",
    })


@never_cache
@require_http_methods(["GET", "POST"])
def second_factor(request):
    """Your second factor: whether it is set up, new recovery codes (shown once), make new ones."""
    user = request.user
    next_url = _next(request)
    new_codes = request.session.pop(sf.NEW_RECOVERY_CODES, None)
    if request.method == "POST":
        if not sf.second_factor_passed(request):
            return redirect(_with_next("second_factor_verify", request.path))
        try:
            new_codes = sf.recovery_codes_regenerate(actor=user)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
            return redirect("second_factor")
    has_device = sf.has_second_factor(user)
    left = 0
    if has_device:
        from django_otp.plugins.otp_static.models import StaticToken

        left = StaticToken.objects.filter(device__user=user).count()
    return render(request, "registration/second_factor.html", {
        "new_codes": new_codes, "has_device": has_device, "codes_left": left,
        "required": is_staff_role(user), "next": sf.safe_next(request, next_url) if next_url else "",
    })


@never_cache
@require_http_methods(["GET", "POST"])
def reauthenticate(request):
    """Password and code again (or the single sign-on provider again), then back to ``next``."""
    user = request.user
    next_url = _next(request)
    ask_code = sf.has_second_factor(user)
    ask_password = user.has_usable_password()
    form = ReauthenticationForm(request.POST or None, ask_code=ask_code) if ask_password else None
    if request.method == "POST" and form is not None and form.is_valid():
        signed = authenticate(request, username=user.email, password=form.cleaned_data["password"])
        if signed is None or signed.pk != user.pk:
            if getattr(request, "axes_locked_out", False):
                return render(request, settings.AXES_LOCKOUT_TEMPLATE, status=429)
            form.add_error("password", sf.PASSWORD_WRONG)
        elif ask_code:
            try:
                device = sf.second_factor_verify(actor=user, code=form.cleaned_data.get("code", ""))
            except ValidationError as exc:
                form.add_error("code", exc.messages[0])
            else:
                sf.sign_in_second_factor(request, device)
        else:
            sf.mark_authenticated(request)
        if not form.errors:
            return redirect(sf.safe_next(request, next_url))
    sso_url = ""
    if settings.OIDC_ENABLED and request.session.get(sf.SSO):
        sso_url = reverse("oidc_authentication_init") + "?" + urlencode(
            {"next": sf.safe_next(request, next_url), "reauth": "1"})
    return render(request, "registration/reauthenticate.html", {
        "form": form, "next": sf.safe_next(request, next_url) if next_url else "", "sso_url": sso_url,
        "sso_label": settings.OIDC_BUTTON_LABEL, "minutes": settings.REAUTHENTICATION_MAX_AGE // 60,
    })
