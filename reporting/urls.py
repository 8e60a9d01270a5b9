from django.urls import path

from . import views_monitoring, views_register, views_reports

app_name = "reporting"

# Each part of the reporting stage keeps its own block of patterns.
monitoring_patterns = [
    path("monitoring/", views_monitoring.portfolio_dashboard, name="portfolio"),
    path("monitoring/returns/", views_monitoring.return_list, name="return_list"),
    path("monitoring/awards/<str:reference>/", views_monitoring.award_returns, name="award_returns"),
    path("monitoring/awards/<str:reference>/schedule/", views_monitoring.schedule_sync, name="schedule_sync"),
    path("monitoring/returns/<int:pk>/", views_monitoring.return_detail, name="return_detail"),
    path("monitoring/returns/<int:pk>/submit/", views_monitoring.return_submit, name="return_submit"),
    path("monitoring/returns/<int:pk>/review/", views_monitoring.return_review, name="return_review"),
    path("monitoring/returns/<int:pk>/payment/", views_monitoring.return_release_payment, name="return_release_payment"),
    path("monitoring/returns/<int:pk>/<slug:section>/", views_monitoring.return_section, name="return_section"),
]

register_patterns = [
    path("register/", views_register.register, name="register"),
]

report_patterns = [
    path("reports/", views_reports.reports, name="reports"),
]

urlpatterns = monitoring_patterns + register_patterns + report_patterns
