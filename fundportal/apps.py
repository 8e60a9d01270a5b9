from django.apps import AppConfig


class FundPortalConfig(AppConfig):
    name = "fundportal"
    verbose_name = "Fund Portal site"
