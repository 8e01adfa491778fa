"""Staff pages: the audit trail."""

from __future__ import annotations

from django.urls import path

from staff import views

app_name = "staff"
urlpatterns = [
    path("trail/", views.trail, name="trail"),
]
