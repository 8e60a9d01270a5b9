"""Impact reports: the public list and files, and the fund managers' pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("reports/", views.reports, name="reports"),
    path("reports/<int:pk>/v<int:number>/report.pdf", views.report_file, {"kind": "pdf"}, name="report_pdf"),
    path("reports/<int:pk>/v<int:number>/figures.csv", views.report_file, {"kind": "csv"}, name="report_csv"),
    path("reports/<int:pk>/v<int:number>/figures.xlsx", views.report_file, {"kind": "xlsx"}, name="report_xlsx"),
    path("manage/reports/", views.manage_reports, name="manage_reports"),
    path("manage/funds/<slug:slug>/reports/", views.fund_reports, name="fund_reports"),
    path("manage/funds/<slug:slug>/reports/new/", views.report_request, name="report_request"),
    path("manage/reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("manage/reports/<int:pk>/rebuild/", views.report_rebuild, name="report_rebuild"),
    path("manage/reports/<int:pk>/schedule/", views.report_schedule, name="report_schedule"),
    path("manage/reports/<int:pk>/v<int:number>/", views.report_version, name="report_version"),
    path("manage/reports/<int:pk>/v<int:number>/status.json", views.report_version_status,
         name="report_version_status"),
    path("manage/reports/<int:pk>/v<int:number>/preview/", views.report_version_preview,
         name="report_version_preview"),
    path("manage/reports/<int:pk>/v<int:number>/retry/", views.report_version_retry, name="report_version_retry"),
    path("manage/reports/<int:pk>/v<int:number>/publish/", views.report_version_publish,
         name="report_version_publish"),
    path("manage/reports/<int:pk>/v<int:number>/withdraw/", views.report_version_unpublish,
         name="report_version_unpublish"),
]
