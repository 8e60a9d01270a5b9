from django.urls import path

from . import views_register, views_reports

app_name = "reporting"

# Each part of the reporting stage keeps its own block of patterns.
monitoring_patterns: list = []

register_patterns = [
    path("register/", views_register.register, name="register"),
]

report_patterns = [
    path("reports/", views_reports.reports, name="reports"),
]

urlpatterns = monitoring_patterns + register_patterns + report_patterns
