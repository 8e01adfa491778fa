from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import include, path, re_path
from django.views.generic import RedirectView

import accounts.urls
import audits.urls
import people.urls
from dashboard import urls as dashboard
from signin import views as signin_views
from signin.forms import LocalLoginForm
from staff import passwords, twofactor
from staff.roles import ANYONE, LOGIN, policy


@policy(get=ANYONE)
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin sits behind the same login (and two-factor step) as every other page; a login it is not for (all
    but superusers, issue 24) is told so on the agenda, not sent round to a login page it has passed already."""
    if request.user.is_authenticated:
        if admin.site.has_permission(request):
            return redirect("admin:index")
        messages.error(
            request,
            "The admin site is for superusers not limited to some accounts: logins, their account scopes and lockouts"
            " are on the Users page.",
        )
        return redirect("/")
    query = request.META.get("QUERY_STRING", "")
    return redirect(f"/login/?{query}" if query else "/login/")


# Admin pages of models that moved to an app of their own keep answering at their old address.
MOVED_ADMIN = [
    (r"^admin/accounts/(?P<model>changerecord)/(?P<rest>.*)$", "staff"),
    (r"^admin/accounts/(?P<model>person|ownerlink)/(?P<rest>.*)$", "people"),
    (r"^admin/audits/(?P<model>review|disposition|signoff|calendarfeed)/(?P<rest>.*)$", "reviews"),
]

urlpatterns = [
    *(
        re_path(old, policy(get=LOGIN)(RedirectView.as_view(url=f"/admin/{new}/%(model)s/%(rest)s", query_string=True)))
        for old, new in MOVED_ADMIN
    ),
    path(
        "login/",
        policy(get=ANYONE, post=ANYONE)(auth_views.LoginView.as_view(authentication_form=LocalLoginForm)),
        name="login",
    ),
    path("logout/", signin_views.logout, name="logout"),
    path("", include("signin.urls")),
    path("account/2fa/setup/", twofactor.setup, name="two-factor-setup"),
    path("account/2fa/verify/", twofactor.verify, name="two-factor-verify"),
    path("account/password/", passwords.password_change, name="password-change"),
    path("account/password/done/", passwords.password_change_done, name="password-change-done"),
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("", include("staff.urls")),
    # The dashboard's composed pages keep the names (and URLs) of the domain each shows.
    path("", include((dashboard.accounts + accounts.urls.urlpatterns, "accounts"))),
    path("", include((dashboard.people + people.urls.urlpatterns, "people"))),
    path("", include((dashboard.audits + audits.urls.urlpatterns, "audits"))),
    path("", include("cloudtrail.urls")),
    path("", include("identitycenter.urls")),
    path("", include("reviews.urls")),
]
