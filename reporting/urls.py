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
    path("reports/<int:pk>/v<int:number>/report.pdf", views_reports.report_file, {"kind": "pdf"}, name="report_pdf"),
    path("reports/<int:pk>/v<int:number>/figures.csv", views_reports.report_file, {"kind": "csv"}, name="report_csv"),
    path("reports/<int:pk>/v<int:number>/figures.xlsx", views_reports.report_file, {"kind": "xlsx"}, name="report_xlsx"),
    path("manage/reports/", views_reports.manage_reports, name="manage_reports"),
    path("manage/funds/<slug:slug>/reports/", views_reports.fund_reports, name="fund_reports"),
    path("manage/funds/<slug:slug>/reports/new/", views_reports.report_request, name="report_request"),
    path("manage/reports/<int:pk>/", views_reports.report_detail, name="report_detail"),
    path("manage/reports/<int:pk>/rebuild/", views_reports.report_rebuild, name="report_rebuild"),
    path("manage/reports/<int:pk>/schedule/", views_reports.report_schedule, name="report_schedule"),
    path("manage/reports/<int:pk>/v<int:number>/", views_reports.report_version, name="report_version"),
    path("manage/reports/<int:pk>/v<int:number>/status.json", views_reports.report_version_status,
         name="report_version_status"),
    path("manage/reports/<int:pk>/v<int:number>/preview/", views_reports.report_version_preview,
         name="report_version_preview"),
    path("manage/reports/<int:pk>/v<int:number>/retry/", views_reports.report_version_retry, name="report_version_retry"),
    path("manage/reports/<int:pk>/v<int:number>/publish/", views_reports.report_version_publish,
         name="report_version_publish"),
    path("manage/reports/<int:pk>/v<int:number>/withdraw/", views_reports.report_version_unpublish,
         name="report_version_unpublish"),
]

urlpatterns = monitoring_patterns + register_patterns + report_patterns
