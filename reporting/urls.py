from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import api, views_monitoring, views_register, views_reports

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
    path("register/360giving.json", views_register.register_360giving, name="register_360giving"),
    path("register/awards.csv", views_register.register_csv, name="register_csv"),
    path("register/awards.xlsx", views_register.register_xlsx, name="register_xlsx"),
    path("register/<str:reference>/", views_register.award, name="award"),
    # The read-only open data API, its OpenAPI schema and the page describing it.
    path("api/v1/awards/", api.AwardViewSet.as_view({"get": "list"}), name="api_awards"),
    path("api/v1/awards/<str:reference>/", api.AwardViewSet.as_view({"get": "retrieve"}), name="api_award"),
    path("api/v1/calls/", api.CallViewSet.as_view({"get": "list"}), name="api_calls"),
    path("api/v1/calls/<slug:slug>/", api.CallViewSet.as_view({"get": "retrieve"}), name="api_call"),
    path("api/v1/reports/", api.ReportViewSet.as_view({"get": "list"}), name="api_reports"),
    path("api/v1/reports/<int:pk>/", api.ReportViewSet.as_view({"get": "retrieve"}), name="api_report"),
    path("api/v1/", api.api_root, name="api_root"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", views_register.api_docs, name="api_docs"),
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
