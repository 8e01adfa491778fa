"""Naming standards, exemptions, an account's standard and its connection test."""

from __future__ import annotations

from django.urls import path

from accounts import logins, views

app_name = "accounts"
urlpatterns = [
    path("accounts/<str:account_id>/test-connection", views.test_connection, name="test-connection"),
    path("accounts/<str:account_id>/standard", views.account_standard_set, name="account-standard"),
    path("standards/", views.standard_list, name="standard-list"),
    path("standards/<int:standard_id>/exemptions", views.exemption_create, name="exemption-create"),
    path("exemptions/<int:exemption_id>/delete", views.exemption_delete, name="exemption-delete"),
    path("users/", logins.login_list, name="login-list"),
    path("users/<int:user_id>/role", logins.login_role, name="login-role"),
    path("users/<int:user_id>/two-factor-reset", logins.login_two_factor_reset, name="login-two-factor-reset"),
    path("users/<int:user_id>/scope", logins.login_scope, name="login-scope"),
    path("users/<int:user_id>/active", logins.login_active, name="login-active"),
    path("users/lockouts/<int:attempt_id>/clear", logins.lockout_clear, name="lockout-clear"),
]
