from django.urls import path

from . import views

app_name = "reporting"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("reports/", views.reports, name="reports"),
]
