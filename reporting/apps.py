from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Reporting: monitoring, impact reports and the public register"

    def ready(self) -> None:
        # Monitoring: the worker registers its tasks (autodiscovery only finds tasks.py).
        from . import monitoring_tasks  # noqa: F401
