"""Every route of the URLconf, every kind of login, GET and POST: the answer is the one the view's declared policy
gives, and a refused request changes nothing in the database.

The routes come from the URLconf itself (a new view without a declared policy fails here), filled in with real ids
of one account; POSTs carry a valid CSRF token and a plausible form. Scoped logins are limited to another account,
so every id in the URLs is outside their scope: whatever they may do, they change nothing of that account.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.middleware.csrf import _get_new_csrf_string  # type: ignore[attr-defined]
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import AccountScope, AwsAccount, NamingExemption, NamingStandard
from accounts.services import account_create
from audits.models import Finding
from audits.services import report_import
from people.models import OwnerLink, Person
from reviews.services import review_open
from staff.roles import ANYONE, LOGIN, READ_PERMISSION, Policy
from tests.conftest import SAMPLE_T, locked_out, member_of, staff_user

pytestmark = pytest.mark.django_db

# Every kind of login: (role, scoped to another account, superuser). None: no login at all.
PERSONAS: dict[str, tuple[str, bool, bool] | None] = {
    "anonymous": None,
    "no role": ("", False, False),
    "viewer": ("viewer", False, False),
    "reviewer": ("reviewer", False, False),
    "admin": ("admin", False, False),
    "scoped viewer": ("viewer", True, False),
    "scoped reviewer": ("reviewer", True, False),
    "scoped admin": ("admin", True, False),
    "superuser": ("", False, True),
}
# A plausible form for every route that takes a POST (by URL name); a route missing here fails the test.
FORMS: dict[str, dict[str, Any]] = {
    "login": {"username": "nobody", "password": "not the password"},
    "logout": {},
    "two-factor-setup": {"code": "000000"},
    "two-factor-verify": {"code": "000000"},
    "password-change": {"old_password": "not the password", "new_password1": "a-new-long-pass-2026", "new_password2": "a-new-long-pass-2026"},
    "accounts:test-connection": {},
    "accounts:account-standard": {"standard": ""},
    "accounts:standard-new": {"name": "Permissions", "preset": "initial_lastname", "custom_regex": "", "company_initials": ""},
    "accounts:standard-edit": {"name": "initial_lastname", "preset": "custom", "custom_regex": ".*", "is_default": "on"},
    "accounts:exemption-create": {"user_name": "networkAdmin", "reason": "nobody's"},
    "accounts:exemption-delete": {},
    "people:people-list": {"file": b"employee_id,first_name,last_name,email,active\n9,Eve,Mallory,,true\n"},
    "people:owner-link-create": {"user_name": "DbaAdmin", "employee_id": "1234", "reason": "hers"},
    "people:owner-link-delete": {},
    "audits:run-now": {},
    "audits:run-all": {},
    "identitycenter:identity-center-read": {},
    "reviews:review-new": {"period": "2026-12"},
    "reviews:disposition-save": {"kind": "false_positive", "justification": "not ours"},
    "reviews:dispositions-decide": {"kind": "false_positive", "justification": "not ours", "scope": "account", "account": "111122223333"},
    "reviews:dispositions-carry": {"account": "111122223333"},
    "audits:report-upload": {"generated_at": "2026-11-20T10:00"},
    "cloudtrail:trail-upload": {},
    "reviews:review-sign": {"comment": "signed"},
    "reviews:review-correct": {"reason": "a mistake"},
    "reviews:calendar-link": {},
    "accounts:login-list": {"username": "newcomer", "role": "viewer"},
    "accounts:login-role": {"role": "reviewer"},
    "accounts:login-two-factor-reset": {},
    "accounts:login-scope": {"accounts": "111122223333", "reason": "payments team"},
    "accounts:login-active": {"active": "1"},
    "accounts:lockout-clear": {},
}
# What a scoped login may still change, whatever the URL's ids: its own login, its own calendar link, and fleet
# actions that it limits to its own accounts (tests/accounts/test_account_scope.py checks what they cover).
OWN_OR_SCOPE_LIMITED = {"login", "logout", "two-factor-setup", "two-factor-verify", "password-change", "reviews:calendar-link", "audits:run-all", "reviews:review-new"}


@dataclass(frozen=True)
class Route:
    name: str
    url: str
    policy: Policy


def routes(values: dict[str, str]) -> Iterator[Route]:
    """Every route of the project (Django's admin excluded: tests/staff/test_admin_escalation.py), filled in."""

    def walk(patterns: list[URLPattern | URLResolver], prefix: str, namespace: str) -> Iterator[Route]:
        for p in patterns:
            route = str(p.pattern)
            if isinstance(p, URLResolver):
                if route != "admin/":
                    yield from walk(p.url_patterns, prefix + route, p.namespace or namespace)
                continue
            view = p.callback
            declared = getattr(view, "policy", None)
            name = f"{namespace}:{p.name}" if namespace and p.name else p.name or route
            assert isinstance(declared, Policy), f"{route} ({view.__module__}.{view.__name__}) declares no policy"
            if route.startswith("^admin/"):  # the moved models' old admin addresses
                route = route.replace("^", "").replace("(?P<model>", "").replace(")/(?P<rest>.*)$", "/")
                route = route.split("|")[0] + "/" if "|" in route else route
            for key, value in values.items():
                route = route.replace(f"<str:{key}>", value).replace(f"<int:{key}>", value)
            assert "<" not in route, f"fill in {route}"
            yield Route(name, "/" + prefix + route, declared)

    return walk(get_resolver().url_patterns, "", "")


# A statement that writes, and the table it writes to (quoted or not, as each backend's SQL names it).
WRITE = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+["`]?(\w+)', re.IGNORECASE)
UNWATCHED = ("django_session", "axes_")  # logins themselves write these


@contextmanager
def writes() -> Iterator[list[str]]:
    """The tables the project's code writes to while inside (every statement through Django's connection, raw SQL
    included), those of the sessions and the lockouts aside. Cheaper than digesting every table twice a request,
    and stricter: a write that is rolled back, or that changes nothing, is seen too."""
    tables: list[str] = []

    def spy(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        found = WRITE.match(sql)
        if found is not None and not found.group(1).startswith(UNWATCHED):
            tables.append(found.group(1))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        yield tables


@pytest.fixture
def fixture_ids(sandbox: AwsAccount, sample_bytes: bytes) -> dict[str, str]:
    run = report_import(account=sandbox, content=sample_bytes, generated_at=SAMPLE_T)
    finding = Finding.objects.get(account=sandbox, principal="networkAdmin", check_id="user.shared_account")
    standard = NamingStandard.objects.get()
    standard.is_default = True
    standard.save()
    exemption = NamingExemption.objects.create(standard=standard, user_name="ci-deploy", reason="deploy pipeline")
    person = Person.objects.create(employee_id="1234", first_name="John", last_name="Smith", email="john.smith@example.com")
    link = OwnerLink.objects.create(account=sandbox, user_name="BJones", person=person, linked_by="test")
    review = review_open(period_start=SAMPLE_T.date(), period_end=SAMPLE_T.date(), accounts=[sandbox], actor=staff_user("preparer"))
    return {
        "account_id": sandbox.account_id,
        "run_id": str(run.pk),
        "finding_id": str(finding.pk),
        "name": "networkAdmin",
        "standard_id": str(standard.pk),
        "exemption_id": str(exemption.pk),
        "employee_id": person.employee_id,
        "link_id": str(link.pk),
        "review_id": str(review.pk),
        "token": "not-a-real-token",
        "user_id": str(staff_user("preparer").pk),
        "attempt_id": str(locked_out().pk),
    }


def login(persona: str, other: AwsAccount) -> Client:
    """A client with a CSRF cookie, logged in (two-factor passed) as the persona."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = _get_new_csrf_string()
    kind = PERSONAS[persona]
    if kind is None:
        return client
    role, scoped, superuser = kind
    username = persona.replace(" ", "-")
    user = User.objects.filter(username=username).first()
    if user is None:
        user = (
            User.objects.create_superuser(username, password="correct horse battery")
            if superuser
            else member_of(role, username)
        )
        if scoped:
            AccountScope.objects.create(user=user, reason="another team").accounts.set([other])
        TOTPDevice.objects.create(user=user, name="test authenticator", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    return client


def expected_refusal(route: Route, persona: str, method: str, user: User | None) -> int | None:
    """The status the declared policy gives this request when it refuses it (None: it lets it through)."""
    if route.policy.public:
        return None if method in route.policy.methods else 405
    if user is None:
        return 302  # to the login page
    if not route.policy.allows(user, method):
        return 403
    if method not in route.policy.methods:
        return 405
    return None


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_every_route_answers_every_login_as_its_policy_declares(
    fixture_ids: dict[str, str], persona: str, aws: None
) -> None:
    other = account_create(account_id="444455556666", name="another team's account")
    seen = set()
    for route in routes(fixture_ids):
        seen.add(route.name)
        for method in ("GET", "POST"):
            client = login(persona, other)
            user = User.objects.filter(username=persona.replace(" ", "-")).first()
            refusal = expected_refusal(route, persona, method, user)
            with writes() as written:
                if method == "GET":
                    response = client.get(route.url)
                else:
                    assert route.name in FORMS or route.policy.post is None, f"add a plausible form for {route.name}"
                    data = dict(FORMS.get(route.name, {}))
                    data = {k: SimpleUploadedFile("upload.csv", v) if isinstance(v, bytes) else v for k, v in data.items()}
                    response = client.post(route.url, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})
            where = f"{persona} {method} {route.url} ({route.name})"
            if refusal is None:
                assert response.status_code not in (403, 405), where
            else:
                assert response.status_code == refusal, where
                if refusal == 302:
                    assert response["Location"].startswith("/login/"), where
                assert b"networkAdmin" not in response.content, where
            changed = bool(written)
            if method == "GET" and route.name != "two-factor-setup":  # enrolment makes the unconfirmed device it shows
                assert not changed, f"{where}: a GET wrote to {written}"
            if refusal is not None or ((PERSONAS[persona] or ("", False, False))[1] and route.name not in OWN_OR_SCOPE_LIMITED):
                assert not changed, f"{where} wrote to {written}"
    assert {"audits:overview", "reviews:review-sign", "staff:trail", "people:owner-link-delete"} <= seen


def test_no_route_lets_a_reader_change_anything_but_their_own_calendar_link(fixture_ids: dict[str, str]) -> None:
    """A write under the read permission would give every viewer (every auditor) a way to change the review."""
    for route in routes(fixture_ids):
        if route.policy.post == READ_PERMISSION:
            assert route.name == "reviews:calendar-link", route
        if route.policy.post in (LOGIN, ANYONE):
            assert route.name in {"login", "logout", "two-factor-setup", "two-factor-verify", "password-change"}, route


def test_the_write_spy_sees_every_write_of_the_project_and_not_the_logins_own() -> None:
    """The crawl's "changed nothing" rests on it: an ORM write, a bulk update, a delete and raw SQL are all seen."""
    from django.contrib.sessions.backends.db import SessionStore

    with writes() as written:
        person = Person.objects.create(employee_id="9", first_name="A", last_name="B", email="a.b@example.com")
        Person.objects.filter(pk=person.pk).update(first_name="C")
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {Person._meta.db_table} WHERE id = %s", [person.pk])  # noqa: S608 - the model's own table
        SessionStore().save()  # a login's own session row
    assert written == [Person._meta.db_table] * 3


def test_every_policy_is_pinned_in_the_reviewed_table(settings) -> None:  # type: ignore[no-untyped-def]
    """docs/route_policies.md is what a security review reads: a policy changed in the code without the table fails
    here (a weakened exemption_delete, say), and so does a route added or removed."""
    from django.conf import settings as django_settings

    from staff.management.commands.route_policies import table

    pinned = (django_settings.BASE_DIR / "docs" / "route_policies.md").read_text()
    assert table() == pinned, "a route's policy differs from docs/route_policies.md: review the change, then run manage.py route_policies > docs/route_policies.md"
    weakened = pinned.replace("| `accounts:exemption-delete` | - | accounts.delete_namingexemption |", "| `accounts:exemption-delete` | - | audits.add_auditrun |")
    assert weakened != pinned  # the row the red team weakened is in the table, so the comparison would catch it
