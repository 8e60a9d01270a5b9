from django.conf import settings

from governance.selectors import unread_notification_count

from .providers import navigation


def site(request) -> dict:
    context = {
        "portal_name": settings.PORTAL_NAME,
        "open_data_licence_name": settings.OPEN_DATA_LICENCE_NAME,
        # NHS staff single sign-on: the sign-in page shows its button when it is configured.
        "sso_enabled": settings.OIDC_ENABLED,
        "sso_label": settings.OIDC_BUTTON_LABEL,
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["nav_items"] = navigation(request)
        context["unread_notifications"] = unread_notification_count(user)
    else:
        context["nav_items"] = [
            {"label": "Funding calls", "url": "/calls/", "current": request.path.startswith("/calls/")},
            {"label": "Award register", "url": "/register/", "current": request.path.startswith("/register/")},
            {"label": "Impact reports", "url": "/reports/", "current": request.path.startswith("/reports/")},
        ]
    return context
