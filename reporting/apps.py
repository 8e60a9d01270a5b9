from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Reporting: monitoring, impact reports and the public register"

    def ready(self) -> None:
        from governance.extensions import register_fund_section

        # Monitoring: the worker registers its tasks (autodiscovery only finds tasks.py).
        from . import monitoring_tasks  # noqa: F401

        # Impact reports: their permissions, and their section of each fund's page.
        from .impact import rules  # noqa: F401 - registers the permissions
        from .impact.ui import fund_section

        register_fund_section(fund_section)
