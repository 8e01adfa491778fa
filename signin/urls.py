"""Single sign-on: the provider's way in and back (mozilla-django-oidc's views, with IAMWatch's settings) and the
refusal page. The callback's and the start's names are the library's own."""

from __future__ import annotations

from django.urls import path

from signin import oidc, views
from staff.roles import ANYONE, policy

urlpatterns = [
    path("oidc/authenticate/", policy(get=ANYONE)(oidc.SsoRequestView.as_view()), name="oidc_authentication_init"),
    path("oidc/callback/", policy(get=ANYONE)(oidc.SsoCallbackView.as_view()), name="oidc_authentication_callback"),
    path("signin/refused/", views.refused, name="signin-refused"),
]
