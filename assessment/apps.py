from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "assessment"
    verbose_name = "Assessment: scoring, moderation and panel decisions"

    def ready(self) -> None:
        from applications.extensions import register_bid_reader, register_bid_section
        from governance.extensions import register_call_section, register_fund_section

        from .dashboard import bid_section, call_section, fund_section
        from .selectors import panel_reads_bid

        # An assessor who declared no conflict (and the panel's chair) reads the bid's page and files.
        register_bid_reader(panel_reads_bid)
        # The call management page gains the assessment summary and links; the fund page, the
        # conflicts of interest register.
        register_call_section(call_section)
        register_fund_section(fund_section)
        # A bid's page shows the panel's clarification questions and the replies.
        register_bid_section(bid_section)

        # The lifecycle tables (assignments, score sheets, invitations, panel packs), in
        # ``governance.lifecycle.REGISTRY`` for the diagrams and the walk test.
        from . import lifecycle  # noqa: F401
