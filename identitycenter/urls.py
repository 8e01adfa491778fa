"""IAM Identity Center: the fleet's permission sets and every access path (CSV)."""

from __future__ import annotations

from django.urls import path

from identitycenter import views

app_name = "identitycenter"
urlpatterns = [
    path("identity-center/", views.identity_center, name="identity-center"),
    path("identity-center/read", views.identity_center_read, name="identity-center-read"),
]
