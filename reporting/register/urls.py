"""The public register, its open data files and the read-only API."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import api, views

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/360giving.json", views.register_360giving, name="register_360giving"),
    path("register/awards.csv", views.register_csv, name="register_csv"),
    path("register/awards.xlsx", views.register_xlsx, name="register_xlsx"),
    path("register/<str:reference>/", views.award, name="award"),
    # The read-only open data API, its OpenAPI schema and the page describing it.
    path("api/v1/awards/", api.AwardViewSet.as_view({"get": "list"}), name="api_awards"),
    path("api/v1/awards/<str:reference>/", api.AwardViewSet.as_view({"get": "retrieve"}), name="api_award"),
    path("api/v1/calls/", api.CallViewSet.as_view({"get": "list"}), name="api_calls"),
    path("api/v1/calls/<slug:slug>/", api.CallViewSet.as_view({"get": "retrieve"}), name="api_call"),
    path("api/v1/reports/", api.ReportViewSet.as_view({"get": "list"}), name="api_reports"),
    path("api/v1/reports/<int:pk>/", api.ReportViewSet.as_view({"get": "retrieve"}), name="api_report"),
    path("api/v1/", api.api_root, name="api_root"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", views.api_docs, name="api_docs"),
]
