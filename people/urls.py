"""The people directory, who has access where, and owners."""

from __future__ import annotations

from django.urls import path

from people import views

app_name = "people"
urlpatterns = [
    path("people/", views.people_list, name="people-list"),
    path("accounts/<str:account_id>/owners/link", views.owner_link_create, name="owner-link-create"),
    path("owner-links/<int:link_id>/delete", views.owner_link_delete, name="owner-link-delete"),
]
