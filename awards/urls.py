from django.urls import path

from . import views

app_name = "awards"

urlpatterns = [
    path("", views.award_list, name="list"),
    path("decisions/", views.decisions_ready, name="decisions_ready"),
    path("decisions/<int:pk>/issue/", views.award_issue, name="award_issue"),
    path("funds/<slug:slug>/conditions/", views.fund_conditions, name="fund_conditions"),
    path("funds/<slug:slug>/ledger.csv", views.pot_ledger_csv, name="pot_ledger_csv"),
    path("<str:reference>/", views.award_detail, name="award_detail"),
    path("<str:reference>/respond/", views.offer_respond, name="offer_respond"),
    path("<str:reference>/letters/new/", views.letter_request, name="letter_request"),
    path("<str:reference>/letters/<int:version>/", views.letter_download, name="letter_download"),
    path("<str:reference>/conditions/<int:pk>/evidence/", views.condition_evidence, name="condition_evidence"),
    path("<str:reference>/conditions/<int:pk>/evidence/file/", views.condition_evidence_file, name="condition_evidence_file"),
    path("<str:reference>/conditions/<int:pk>/review/", views.condition_review, name="condition_review"),
    path("<str:reference>/instalments/<int:pk>/release/", views.instalment_release, name="instalment_release"),
    path("<str:reference>/instalments/<int:pk>/pay/", views.instalment_pay, name="instalment_pay"),
    path("<str:reference>/payments.csv", views.payments_csv, name="payments_csv"),
    path("<str:reference>/conditions/<int:pk>/schedule/", views.condition_schedule, name="condition_schedule"),
    path("<str:reference>/status/<slug:action>/", views.award_status, name="award_status"),
    path("<str:reference>/returns-frequency/", views.award_return_frequency, name="award_return_frequency"),
    path("<str:reference>/variations/new/", views.variation_request, name="variation_request"),
    path("<str:reference>/variations/<int:pk>/", views.variation_detail, name="variation_detail"),
]
