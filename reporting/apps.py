from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Reporting: monitoring, impact reports and the public register"

    def ready(self) -> None:
        from governance.extensions import register_fund_section

        # Impact reports: their permissions, and their section of each fund's page.
        from .impact import rules  # noqa: F401 - registers the permissions
        from .impact.ui import fund_section

        register_fund_section(fund_section)

        # Monitoring: an award that starts, stops or is varied gets its return schedule now,
        # not at the next hourly run; and its page links to its returns.
        from awards.extensions import register_award_section, register_instalment_return_finder
        from awards.signals import award_changed

        from .monitoring.hooks import award_section, sync_schedule_after_change
        from .monitoring.selectors import returns_covering_quarter_before

        award_changed.connect(sync_schedule_after_change, dispatch_uid="reporting.sync_schedule_after_change")
        register_award_section(award_section)
        # Six- and twelve-monthly returns stand for the instalments of the quarters they cover.
        register_instalment_return_finder(returns_covering_quarter_before)

        # The register's read model follows every change that moves it, in the change's own
        # transaction; a database that never had it gets it after ``migrate``.
        from django.db.models.signals import post_migrate

        from .register import read_model as register_model

        register_model.connect()
        post_migrate.connect(register_model.build_if_never_built, sender=self, dispatch_uid="register.build_if_never_built")

        # The lifecycle tables (monitoring returns; impact report builds and publication), in
        # ``governance.lifecycle.REGISTRY`` for the diagrams and the walk test.
        from .impact import lifecycle as impact_lifecycle  # noqa: F401
        from .monitoring import lifecycle as monitoring_lifecycle  # noqa: F401
