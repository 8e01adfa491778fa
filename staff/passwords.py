"""Every login changes its own password (Django's PasswordChangeView), and a password an admin set must be changed
at the next login: until then no other page answers (the second factor comes first, the password change second).

Whether a change is due is read from the audit trail at login: the newest `user.added` or `user.password_set` of the
user by somebody else, with no `user.password_changed` by the user after it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from staff.models import ChangeRecord
from staff.roles import LOGIN, policy
from staff.trail import record_change

DUE_SESSION_KEY = "iamwatch_password_due"
SET_BY_OTHERS = ("user.added", "user.password_set")
ALWAYS_ALLOWED = ("/account/", "/logout/", "/static/")  # the password change itself, the second factor, logging out


def password_change_due(user: Any) -> bool:
    """Whether the user's password was last set by somebody else (an admin) and not changed by the user since."""
    name = user.get_username()
    set_by_other = (
        ChangeRecord.objects.filter(target=name, action__in=SET_BY_OTHERS).exclude(actor=name).order_by("-pk").values_list("pk", flat=True).first()
    )
    if set_by_other is None:
        return False
    return not ChangeRecord.objects.filter(target=name, action="user.password_changed", actor=name, pk__gt=set_by_other).exists()


@receiver(user_logged_in, dispatch_uid="iamwatch-password-due")
def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[DUE_SESSION_KEY] = password_change_due(user)


class PasswordChangeDueMiddleware:
    """Hold a login whose password an admin set at the password change page until it is changed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and request.session.get(DUE_SESSION_KEY) and not request.path.startswith(ALWAYS_ALLOWED):
            return redirect(f"{reverse('password-change')}?next={request.get_full_path()}")
        return self.get_response(request)


class PasswordChange(auth_views.PasswordChangeView):
    """Django's own view (old password, new one twice, the password validators); recorded in the trail."""

    template_name = "registration/password_change.html"

    def get_success_url(self) -> str:
        return reverse("password-change-done")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user = form.user
        record_change(actor=user.get_username(), action="user.password_changed", target=user.get_username())
        self.request.session[DUE_SESSION_KEY] = False
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["due"] = bool(self.request.session.get(DUE_SESSION_KEY))
        return context


password_change = policy(get=LOGIN, post=LOGIN)(PasswordChange.as_view())
password_change_done = policy(get=LOGIN)(
    auth_views.PasswordChangeDoneView.as_view(template_name="registration/password_change_done.html")
)
