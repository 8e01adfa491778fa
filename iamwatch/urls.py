from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import include, path

from accounts import twofactor


@login_not_required
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin sits behind the same login (and two-factor step) as every other page."""
    query = request.META.get("QUERY_STRING", "")
    return redirect(f"/login/?{query}" if query else "/login/")


urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/2fa/setup/", twofactor.setup, name="two-factor-setup"),
    path("account/2fa/verify/", twofactor.verify, name="two-factor-verify"),
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("", include("audits.urls")),
]
