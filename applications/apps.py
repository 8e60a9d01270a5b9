from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = "Applications: bids"

    def ready(self) -> None:
        from governance.extensions import register_call_section

        from .dashboard import call_section

        register_call_section(call_section)
