"""The dashboard's pages, by the namespace of the domain each shows: iamwatch.urls mounts each list into that
namespace, so that `audits:overview`, `accounts:standard-edit` and `people:person-detail` keep their names and URLs."""

from __future__ import annotations

from django.urls import path

from dashboard import views

audits = [
    path("", views.overview, name="overview"),
    path("findings/<int:finding_id>/", views.finding_detail, name="finding-detail"),
    path("changes/", views.changes, name="changes"),
    path("accounts/<str:account_id>/", views.account_detail, name="account-detail"),
    path("practice/", views.practice, name="practice"),
]
accounts = [
    path("standards/new/", views.standard_edit, name="standard-new"),
    path("standards/<int:standard_id>/", views.standard_edit, name="standard-edit"),
]
people = [
    path("people/<str:employee_id>/", views.person_detail, name="person-detail"),
    path("access.csv", views.access_csv, name="access-csv"),
    path("accounts/<str:account_id>/owners/", views.account_owners, name="account-owners"),
]
