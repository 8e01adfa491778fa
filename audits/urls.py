"""The dashboard: overview, findings, accounts, users, runs, alerts, the practice."""

from __future__ import annotations

from django.urls import path

from audits import views

app_name = "audits"
urlpatterns = [
    path("findings/", views.finding_list, name="finding-list"),
    path("findings.csv", views.finding_list, name="findings-csv"),
    path("alerts/", views.alert_list, name="alert-list"),
    path("accounts/<str:account_id>/users/<str:name>/", views.principal_detail, name="principal-detail"),
    path("accounts/<str:account_id>/root-usage.csv", views.root_usage_csv, name="root-usage-csv"),
    path("accounts/<str:account_id>/runs.csv", views.runs_csv, name="runs-csv"),
    path("runs/", views.run_list, name="run-list"),
    path("runs/<int:run_id>/report.csv", views.run_report, name="run-report"),
    path("accounts/<str:account_id>/run", views.run_now, name="run-now"),
    path("accounts/<str:account_id>/import", views.report_upload, name="report-upload"),
    path("accounts/<str:account_id>/runs/", views.runs_partial, name="runs-partial"),
    path("run-all", views.run_all, name="run-all"),
]
