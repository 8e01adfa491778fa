from __future__ import annotations

from django.urls import path

from audits import views, views_dashboard, views_people, views_reviews, views_runs

app_name = "audits"
urlpatterns = [
    path("", views_dashboard.overview, name="overview"),
    path("findings/", views_dashboard.finding_list, name="finding-list"),
    path("findings.csv", views_dashboard.finding_list, name="findings-csv"),
    path("findings/<int:finding_id>/", views_dashboard.finding_detail, name="finding-detail"),
    path("changes/", views_dashboard.changes, name="changes"),
    path("alerts/", views_dashboard.alert_list, name="alert-list"),
    path("accounts/<str:account_id>/", views.account_detail, name="account-detail"),
    path("accounts/<str:account_id>/users/<str:name>/", views_dashboard.principal_detail, name="principal-detail"),
    path("accounts/<str:account_id>/root-usage.csv", views.root_usage_csv, name="root-usage-csv"),
    path("accounts/<str:account_id>/runs.csv", views.runs_csv, name="runs-csv"),
    path("runs/<int:run_id>/report.csv", views.run_report, name="run-report"),
    path("accounts/<str:account_id>/run", views_runs.run_now, name="run-now"),
    path("accounts/<str:account_id>/runs/", views_runs.runs_partial, name="runs-partial"),
    path("accounts/<str:account_id>/test-connection", views_runs.test_connection, name="test-connection"),
    path("run-all", views_runs.run_all, name="run-all"),
    path("standards/", views_people.standard_list, name="standard-list"),
    path("standards/new/", views_people.standard_edit, name="standard-new"),
    path("standards/<int:standard_id>/", views_people.standard_edit, name="standard-edit"),
    path("standards/<int:standard_id>/exemptions", views_people.exemption_create, name="exemption-create"),
    path("exemptions/<int:exemption_id>/delete", views_people.exemption_delete, name="exemption-delete"),
    path("people/", views_people.people_list, name="people-list"),
    path("people/<str:employee_id>/", views_people.person_detail, name="person-detail"),
    path("access.csv", views_people.access_csv, name="access-csv"),
    path("accounts/<str:account_id>/owners/", views_people.account_owners, name="account-owners"),
    path("accounts/<str:account_id>/owners/link", views_people.owner_link_create, name="owner-link-create"),
    path("accounts/<str:account_id>/standard", views_people.account_standard_set, name="account-standard"),
    path("owner-links/<int:link_id>/delete", views_people.owner_link_delete, name="owner-link-delete"),
    path("practice/", views_people.practice, name="practice"),
    path("reviews/", views_reviews.review_list, name="review-list"),
    path("reviews/new", views_reviews.review_new, name="review-new"),
    path("reviews/calendar.ics", views_reviews.review_calendar, name="review-calendar"),
    path("reviews/calendar/link", views_reviews.calendar_link, name="calendar-link"),
    path("reviews/calendar/<str:token>.ics", views_reviews.review_calendar_feed, name="review-calendar-feed"),
    path("reviews/<int:review_id>/", views_reviews.review_detail, name="review-detail"),
    path("reviews/<int:review_id>/findings/<int:finding_id>", views_reviews.disposition_save, name="disposition-save"),
    path("reviews/<int:review_id>/sign", views_reviews.review_signoff, name="review-sign"),
    path("reviews/<int:review_id>/correct", views_reviews.review_correction, name="review-correct"),
    path("reviews/<int:review_id>/evidence.zip", views_reviews.review_evidence, name="review-evidence"),
    path("trail/", views_reviews.trail, name="trail"),
]
