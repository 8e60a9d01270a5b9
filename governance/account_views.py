"""A person's own account: the throttled password reset."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect

from .access import public
from .signin import password_reset_allowed

class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, sending at most ``PASSWORD_RESET_LIMIT_PER_ACCOUNT`` emails an hour
    per email address and ``PASSWORD_RESET_LIMIT_PER_ADDRESS`` per client address. Every request
    gets the same page whether an email went, was held back, or no account uses the address."""

    def form_valid(self, form):
        if password_reset_allowed(self.request, form.cleaned_data["email"]):
            return super().form_valid(form)
        return HttpResponseRedirect(self.get_success_url())


password_reset = public(ThrottledPasswordResetView.as_view())
