from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = "Applications: bids"

    def ready(self) -> None:
        from governance.extensions import (
            register_bidder_source,
            register_call_bidder_source,
            register_call_section,
            register_public_call_facts,
        )
        from governance.signals import call_closed, call_closing_extended, call_entered_assessment

        from . import lifecycle  # noqa: F401  (puts the bid's and the EOI's tables in the lifecycle registry)
        from .dashboard import call_section, eoi_call_section, eoi_public_facts
        from .selectors import funds_bid_in_by
        from .services import (
            _on_call_closed,
            _on_call_closing_extended,
            _on_call_entered_assessment,
            call_bidder_organisations,
        )

        register_call_section(call_section)
        register_call_section(eoi_call_section)
        register_public_call_facts(eoi_public_facts)
        # A member of an organisation with a bid in a fund cannot audit it (governance asks).
        register_bidder_source(funds_bid_in_by)
        # When a call enters assessment, its submitted bids go with it, whichever page started it.
        call_entered_assessment.connect(_on_call_entered_assessment, dispatch_uid="applications.bids_into_assessment")
        # When a call's closing time moves later, the writers of its draft bids hear of it.
        call_closing_extended.connect(_on_call_closing_extended, dispatch_uid="applications.tell_drafts_of_extension")
        # When a call closes its fund managers hear how many bids came in.
        call_closed.connect(_on_call_closed, dispatch_uid="applications.tell_managers_call_closed")
        # Answers to questions on a call go to everyone with a bid on it.
        register_call_bidder_source(call_bidder_organisations)
