from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from governance import oidc, second_factor_views as two_step
from governance.account_views import password_reset
from governance.forms import EmailAuthenticationForm

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("livez", views.livez, name="livez"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("privacy/", views.privacy, name="privacy"),
    path("how-it-works/lifecycles/", views.lifecycles, name="lifecycles"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True),
        name="login",
    ),
    # Throttled per account and per address (governance/signin.py).
    path("accounts/password_reset/", password_reset, name="password_reset"),
    # The second factor, and signing in again before money, awards and decisions.
    path("accounts/two-step/", two_step.second_factor, name="second_factor"),
    path("accounts/two-step/set-up/", two_step.second_factor_setup, name="second_factor_setup"),
    path("accounts/two-step/verify/", two_step.second_factor_verify, name="second_factor_verify"),
    path("accounts/confirm/", two_step.reauthenticate, name="reauthenticate"),
    # NHS staff single sign-on (404 unless OIDC_* is configured).
    path("accounts/sso/start/", oidc.SignOnStart.as_view(), name="oidc_authentication_init"),
    path("accounts/sso/callback/", oidc.SignOnCallback.as_view(), name="oidc_authentication_callback"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("governance.urls")),
    path("bids/", include("applications.urls")),
    path("assessment/", include("assessment.urls")),
    path("awards/", include("awards.urls")),
    path("", include("reporting.urls")),
]
