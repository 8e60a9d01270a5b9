"""A person's own account: the account page, signing out everywhere, the session timeout
warning's two requests, and the throttled password reset."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, views as auth_views
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import services, sessions
from .access import is_staff_role, public
from .selectors import request_roles
from .signin import password_reset_allowed

SIGNED_OUT_EVERYWHERE = "You have been signed out on every device, this one included. Sign in again to carry on."


@require_GET
def account(request):
    user = request.user
    return render(request, "governance/account.html", {
        "roles": request_roles(request),
        "staff_role": is_staff_role(user),
        "idle_timeout": sessions.duration_label(sessions.idle_limit_for(user)),
        "absolute_lifetime": sessions.duration_label(settings.SESSION_ABSOLUTE_LIFETIME),
    })


@require_POST
def account_sign_out_everywhere(request):
    services.user_sign_out_everywhere(actor=request.user, user=request.user)
    logout(request)
    messages.success(request, SIGNED_OUT_EVERYWHERE)
    return redirect("login")


@public
@never_cache
@require_GET
def session_status(request):
    """How long the session has left, for the timeout warning. Not counted as activity (the
    middleware knows this address); once the session has run out, it signs the person out."""
    state = request.session_state
    return JsonResponse(state.as_json() if state else {"signed_in": False, "login_url": reverse("login")})


@public
@never_cache
@require_POST
def session_extend(request):
    """The warning's "stay signed in" button: JSON for the script, a redirect back without it."""
    state = sessions.session_extend(request)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(state.as_json() if state else {"signed_in": False, "login_url": reverse("login")})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = reverse("dashboard")
    return HttpResponseRedirect(target)


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, sending at most ``PASSWORD_RESET_LIMIT_PER_ACCOUNT`` emails an hour
    per email address and ``PASSWORD_RESET_LIMIT_PER_ADDRESS`` per client address. Every request
    gets the same page whether an email went, was held back, or no account uses the address."""

    def form_valid(self, form):
        if password_reset_allowed(self.request, form.cleaned_data["email"]):
            return super().form_valid(form)
        return HttpResponseRedirect(self.get_success_url())


password_reset = public(ThrottledPasswordResetView.as_view())
