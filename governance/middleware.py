"""The second factor gate: a signed-in person who must give a code and has not yet reaches only
the second-factor pages and sign-out (and the health check). The site admin at /admin/ too."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

from .second_factor import has_second_factor, second_factor_passed, second_factor_required

# URL names (with namespace) reachable before the second factor.
OPEN_BEFORE_SECOND_FACTOR = frozenset({
    "second_factor_setup", "second_factor_verify", "second_factor", "logout", "admin:logout", "healthz",
    "oidc_authentication_init", "oidc_authentication_callback",
})


class SecondFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_BEFORE_SECOND_FACTOR:
            return None
        if second_factor_passed(request) or not second_factor_required(user):
            return None
        target = "second_factor_verify" if has_second_factor(user) else "second_factor_setup"
        return redirect_to_login(request.get_full_path(), reverse(target), "next")
