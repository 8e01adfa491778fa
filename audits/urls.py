from __future__ import annotations

from django.urls import path

from audits import views, views_runs

app_name = "audits"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("accounts.csv", views.overview_csv, name="overview-csv"),
    path("findings.csv", views.findings_export, name="findings-csv"),
    path("accounts/<str:account_id>/", views.account_detail, name="account-detail"),
    path("accounts/<str:account_id>/root-usage.csv", views.root_usage_csv, name="root-usage-csv"),
    path("accounts/<str:account_id>/runs.csv", views.runs_csv, name="runs-csv"),
    path("runs/<int:run_id>/report.csv", views.run_report, name="run-report"),
    path("accounts/<str:account_id>/run", views_runs.run_now, name="run-now"),
    path("accounts/<str:account_id>/runs/", views_runs.runs_partial, name="runs-partial"),
    path("accounts/<str:account_id>/test-connection", views_runs.test_connection, name="test-connection"),
    path("run-all", views_runs.run_all, name="run-all"),
]
