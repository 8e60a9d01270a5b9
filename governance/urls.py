from django.urls import path

from . import account_views, organisation_request_views, views

app_name = "governance"

urlpatterns = [
    # Your account: sessions, signing out everywhere, the timeout warning's requests
    path("accounts/", account_views.account, name="account"),
    path("accounts/sign-out-everywhere/", account_views.account_sign_out_everywhere, name="account_sign_out_everywhere"),
    path("accounts/session/", account_views.session_status, name="session_status"),
    path("accounts/session/extend/", account_views.session_extend, name="session_extend"),
    path("organisations/request/", organisation_request_views.organisation_request_new, name="organisation_request_new"),
    path("organisations/requests/mine/", organisation_request_views.organisation_requests_mine,
         name="organisation_requests_mine"),
    path("manage/organisation-requests/", organisation_request_views.organisation_requests_list,
         name="organisation_requests"),
    path("manage/organisation-requests/<int:pk>/", organisation_request_views.organisation_request_decide,
         name="organisation_request_decide"),
    path("accounts/notifications/", views.notifications, name="notifications"),
    path("accounts/notifications/read/", views.notifications_mark_read, name="notifications_mark_read"),
    # Public
    path("calls/", views.call_list, name="calls"),
    path("calls/<slug:slug>/", views.call_public, name="call_public"),
    # Funds, pots and panels (fund managers and auditors)
    path("manage/funds/", views.fund_list, name="funds"),
    path("manage/funds/new/", views.fund_create, name="fund_create"),
    path("manage/funds/<slug:slug>/", views.fund_detail, name="fund_detail"),
    path("manage/funds/<slug:slug>/edit/", views.fund_edit, name="fund_edit"),
    path("manage/funds/<slug:slug>/audit/", views.fund_audit, name="fund_audit"),
    path("manage/funds/<slug:slug>/auditors/", views.fund_auditors_page, name="fund_auditors"),
    path("manage/funds/<slug:slug>/pots/new/", views.pot_create, name="pot_create"),
    path("manage/funds/<slug:slug>/pots/<int:pk>/", views.pot_budget, name="pot_budget"),
    path("manage/funds/<slug:slug>/pots/<int:pk>/edit/", views.pot_edit, name="pot_edit"),
    path("manage/funds/<slug:slug>/panels/new/", views.panel_create, name="panel_create"),
    path("manage/funds/<slug:slug>/panels/<int:pk>/", views.panel_detail, name="panel_detail"),
    path("manage/funds/<slug:slug>/panels/<int:pk>/edit/", views.panel_edit, name="panel_edit"),
    path("manage/funds/<slug:slug>/panels/<int:pk>/members/<int:member_pk>/", views.panel_member, name="panel_member"),
    path("manage/funds/<slug:slug>/calls/new/", views.call_create, name="call_create"),
    # Calls (fund managers and auditors)
    path("manage/calls/<slug:slug>/", views.call_manage, name="call_manage"),
    path("manage/calls/<slug:slug>/edit/", views.call_edit, name="call_edit"),
    path("manage/calls/<slug:slug>/copy/", views.call_copy, name="call_copy"),
    path("manage/calls/<slug:slug>/publish/", views.call_publish, name="call_publish"),
    path("manage/calls/<slug:slug>/close/", views.call_close, name="call_close"),
    path("manage/calls/<slug:slug>/extend/", views.call_extend, name="call_extend"),
    path("manage/calls/<slug:slug>/unpublish/", views.call_unpublish, name="call_unpublish"),
    path("manage/calls/<slug:slug>/status/", views.call_status, name="call_status"),
    path("manage/calls/<slug:slug>/criteria/new/", views.criterion_add, name="call_criterion_add"),
    path("manage/calls/<slug:slug>/criteria/weights/", views.criteria_weights, name="call_criteria_weights"),
    path("manage/calls/<slug:slug>/criteria/<int:pk>/", views.criterion_edit, name="call_criterion_edit"),
    path("manage/calls/<slug:slug>/criteria/<int:pk>/remove/", views.criterion_remove, name="call_criterion_remove"),
]
