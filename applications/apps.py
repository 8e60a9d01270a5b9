from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = "Applications: bids"

    def ready(self) -> None:
        from governance.extensions import (
            register_bidder_source,
            register_call_section,
            register_public_call_facts,
        )
        from governance.signals import call_closing_extended, call_entered_assessment

        from .dashboard import call_section, eoi_call_section, eoi_public_facts
        from .selectors import funds_bid_in_by
        from .services import _on_call_closing_extended, _on_call_entered_assessment

        register_call_section(call_section)
        register_call_section(eoi_call_section)
        register_public_call_facts(eoi_public_facts)
        # A member of an organisation with a bid in a fund cannot audit it (governance asks).
        register_bidder_source(funds_bid_in_by)
        # When a call enters assessment, its submitted bids go with it, whichever page started it.
        call_entered_assessment.connect(_on_call_entered_assessment, dispatch_uid="applications.bids_into_assessment")
        # When a call's closing time moves later, the writers of its draft bids hear of it.
        call_closing_extended.connect(_on_call_closing_extended, dispatch_uid="applications.tell_drafts_of_extension")
