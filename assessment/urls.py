from django.urls import path

from . import views

app_name = "assessment"

urlpatterns = [
    path("", views.hub, name="hub"),
    path("assignments/<int:pk>/", views.assignment, name="assignment"),
    path("assignments/<int:pk>/declare/", views.declare, name="declare"),
    path("assignments/<int:pk>/sheet/", views.sheet, name="sheet"),
    path("assignments/<int:pk>/withdraw/", views.assignment_withdraw, name="assignment_withdraw"),
    path("assignments/<int:pk>/reopen/", views.sheet_reopen, name="sheet_reopen"),
    path("calls/<slug:slug>/", views.call_overview, name="call"),
    path("calls/<slug:slug>/start/", views.call_start, name="call_start"),
    path("calls/<slug:slug>/assign/", views.call_auto_assign, name="call_auto_assign"),
    path("calls/<slug:slug>/invitations/", views.invitations, name="invitations"),
    path("calls/<slug:slug>/packs/", views.packs, name="packs"),
    path("calls/<slug:slug>/ranking/", views.ranking, name="ranking"),
    path("calls/<slug:slug>/ranking.csv", views.ranking_csv, name="ranking_csv"),
    path("calls/<slug:slug>/release/", views.release, name="release"),
    path("calls/<slug:slug>/bids/<int:pk>/", views.bid_scores, name="bid_scores"),
    path("calls/<slug:slug>/bids/<int:pk>/assign/", views.bid_assign, name="bid_assign"),
    path("calls/<slug:slug>/bids/<int:pk>/moderate/<int:criterion_pk>/", views.moderate, name="moderate"),
    path("calls/<slug:slug>/bids/<int:pk>/decision/", views.decision, name="decision"),
    path("funds/<slug:slug>/conflicts/", views.conflicts, name="conflicts"),
    path("feedback/<int:pk>/", views.feedback, name="feedback"),
    path("bids/<int:pk>/clarifications/new/", views.clarification_ask, name="clarification_ask"),
    path("clarifications/<int:pk>/reply/", views.clarification_reply, name="clarification_reply"),
    path("clarifications/<int:pk>/file/", views.clarification_file, name="clarification_file"),
    path("pool/", views.pools, name="pools"),
    path("pool/<int:pk>/", views.pool, name="pool"),
    path("pool/<int:pk>/people/<int:entry_pk>/", views.pool_entry, name="pool_entry"),
    path("declaration/", views.declaration, name="declaration"),
    path("invitations/<uuid:token>/", views.invitation, name="invitation"),
    path("packs/<int:pk>/", views.pack, name="pack"),
    path("packs/<int:pk>/download/", views.pack_download, name="pack_download"),
]
