from django.urls import path

from . import views

app_name = "applications"

urlpatterns = [
    path("", views.bid_list, name="bids"),
    path("start/<slug:slug>/", views.bid_start, name="bid_start"),
    path("calls/<slug:slug>/", views.call_bids, name="call_bids"),
    path("interest/<slug:slug>/", views.eoi_start, name="eoi_start"),
    path("expressions-of-interest/<int:pk>/", views.eoi_detail, name="eoi_detail"),
    path("calls/<slug:slug>/expressions-of-interest/", views.call_eois, name="call_eois"),
    path("calls/<slug:slug>/expressions-of-interest/<int:pk>/", views.eoi_decide, name="eoi_decide"),
    path("<int:pk>/pdf/", views.bid_pdf, name="bid_pdf"),
    path("calls/<slug:slug>/export.csv", views.call_bids_export, name="call_bids_export"),
    path("<int:pk>/", views.bid_detail, name="bid_detail"),
    path("<int:pk>/sections/attachments/", views.bid_attachments, name="bid_attachments"),
    path("<int:pk>/sections/<slug:section>/", views.bid_section, name="bid_section"),
    path("<int:pk>/partners/search/", views.partner_search, name="partner_search"),
    path("<int:pk>/partners/add/<int:organisation_pk>/", views.partner_add, name="partner_add"),
    path("<int:pk>/partners/<int:partner_pk>/", views.partner_change, name="partner_change"),
    path("<int:pk>/partners/<int:partner_pk>/remove/", views.partner_remove, name="partner_remove"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="attachment_download"),
    path("<int:pk>/attachments/<int:attachment_pk>/remove/", views.attachment_remove, name="attachment_remove"),
    path("<int:pk>/endorsement/request/", views.endorsement_request, name="endorsement_request"),
    path("<int:pk>/endorsement/", views.bid_endorse, name="bid_endorse"),
    path("<int:pk>/endorsement/record/", views.endorsement_record, name="endorsement_record"),
    path("<int:pk>/check/", views.bid_check, name="bid_check"),
    path("<int:pk>/submitted/", views.bid_submitted, name="bid_submitted"),
    path("<int:pk>/withdraw/", views.bid_withdraw, name="bid_withdraw"),
    path("<int:pk>/ineligible/", views.bid_ineligible, name="bid_ineligible"),
    path("<int:pk>/team/", views.bid_team, name="bid_team"),
    path("<int:pk>/team/<int:member_pk>/remove/", views.bid_team_remove, name="bid_team_remove"),
    path("<int:pk>/sign-off/", views.bid_sign_off, name="bid_sign_off"),
    path("<int:pk>/comments/<slug:section>/", views.bid_comments, name="bid_comments"),
    path("team/join/<uuid:token>/", views.team_join, name="team_join"),
]
