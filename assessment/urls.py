from django.urls import path  # noqa: F401 - the stage's pages are added here

app_name = "assessment"

urlpatterns: list = []
