"""Monitoring returns: the portfolio, each award's returns, their sections, review and payment."""

from django.urls import path

from . import views

urlpatterns = [
    path("monitoring/", views.portfolio_dashboard, name="portfolio"),
    path("monitoring/returns/", views.return_list, name="return_list"),
    path("monitoring/awards/<str:reference>/", views.award_returns, name="award_returns"),
    path("monitoring/awards/<str:reference>/schedule/", views.schedule_sync, name="schedule_sync"),
    path("monitoring/returns/<int:pk>/", views.return_detail, name="return_detail"),
    path("monitoring/returns/<int:pk>/submit/", views.return_submit, name="return_submit"),
    path("monitoring/returns/<int:pk>/review/", views.return_review, name="return_review"),
    path("monitoring/returns/<int:pk>/payment/", views.return_release_payment, name="return_release_payment"),
    path("monitoring/returns/<int:pk>/<slug:section>/", views.return_section, name="return_section"),
]
