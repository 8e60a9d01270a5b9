import logging

from django.apps import AppConfig


class AwardsConfig(AppConfig):
    name = "awards"
    verbose_name = "Awards: offers, commitments and payments"

    def ready(self) -> None:
        # WeasyPrint logs every layout step of every letter at INFO; keep its warnings only.
        logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

        from governance.extensions import register_commitment_source, register_fund_section

        # The lifecycle tables join governance.lifecycle.REGISTRY (diagrams, the walk test).
        from . import lifecycle  # noqa: F401
        from .dashboard import fund_sections
        from .selectors import committed_by_pot_year

        # Governance's pot budget table shows money committed by awards, from the pot ledger.
        register_commitment_source(committed_by_pot_year)
        # The fund page gains the pot ledger (budget, committed, paid, released, remaining).
        register_fund_section(fund_sections)
