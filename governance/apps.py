from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance: people, organisations, funds, calls and the audit trail"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from . import (
            call_lifecycle,  # noqa: F401  (puts the call's table in the lifecycle registry)
            organisation_request_lifecycle,  # noqa: F401
            siteurl,  # noqa: F401  (registers the SITE_URL system check)
        )
        from .sessions import session_start

        # A session's idle and absolute clocks start when its person signs in.
        user_logged_in.connect(session_start, dispatch_uid="governance.sessions.session_start")
