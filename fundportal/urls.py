from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

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
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("governance.urls")),
    path("bids/", include("applications.urls")),
    path("assessment/", include("assessment.urls")),
    path("awards/", include("awards.urls")),
    path("", include("reporting.urls")),
]
