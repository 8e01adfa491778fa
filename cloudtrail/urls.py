"""Root activity from CloudTrail: the fleet's page and the account page's upload."""

from __future__ import annotations

from django.urls import path

from cloudtrail import views

app_name = "cloudtrail"
urlpatterns = [
    path("root-activity/", views.root_activity, name="root-activity"),
    path("accounts/<str:account_id>/cloudtrail", views.trail_upload, name="trail-upload"),
]
