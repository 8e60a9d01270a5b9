from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = "Applications: bids"

    def ready(self) -> None:
        from governance.extensions import register_call_section
        from governance.signals import call_entered_assessment

        from .dashboard import call_section
        from .services import _on_call_entered_assessment

        register_call_section(call_section)
        # When a call enters assessment, its submitted bids go with it, whichever page started it.
        call_entered_assessment.connect(_on_call_entered_assessment, dispatch_uid="applications.bids_into_assessment")
