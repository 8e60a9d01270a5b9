from django.urls import path

from . import views

app_name = "governance"

urlpatterns = [
    path("accounts/notifications/", views.notifications, name="notifications"),
    path("accounts/notifications/read/", views.notifications_mark_read, name="notifications_mark_read"),
    path("calls/", views.call_list, name="calls"),
    path("calls/<slug:slug>/", views.call_public, name="call_public"),
    path("manage/funds/", views.fund_list, name="funds"),
    path("manage/funds/<slug:slug>/", views.fund_detail, name="fund_detail"),
]
