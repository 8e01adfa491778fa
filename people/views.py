"""The people directory, a person's access across the fleet ("who has access where"), an account's owners and owner links."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render

from accounts.forms import AccountStandardForm
from accounts.models import AwsAccount
from accounts.selectors import account_or_404, account_standard, in_accounts, visible_accounts
from audits.selectors import AccessRow, access_rows, person_access
from identitycenter.selectors import person_paths
from people.directory import MAX_BYTES, DirectoryError, directory_import
from people.forms import DirectoryUploadForm, OwnerLinkForm
from people.matching import PersonFacts
from people.models import OwnerLink, Person
from people.selectors import directory_loaded
from people.services import owner_link, owner_unlink
from staff.export import csv_response
from staff.forms import form_errors
from staff.roles import ORGANISATION_WIDE, READ_PERMISSION, actor_of, policy
from staff.uploads import accepts_upload

PAGE_SIZE = 100
ACCESS_HEADER = (
    "employee_id", "person", "person_active", "owner_match", "account_id", "account_name", "user_name", "arn",
    "password_enabled", "password_last_used", "mfa_active", "key1_active", "key1_last_used", "key2_active",
    "key2_last_used", "state_since",
)  # fmt: skip
PEOPLE_HEADER = ("employee_id", "first_name", "last_name", "email", "active")


def _access_csv_row(row: AccessRow) -> tuple[object, ...]:
    s, owner = row.state, row.owner
    if owner is not None:
        who: tuple[object, ...] = (owner.employee_id, owner.name, owner.active, owner.how)
    elif row.owners:
        who = ("", "", "", f"ambiguous: {len(row.owners)} people")
    else:
        who = ("", "", "", "no owner")
    return (
        *who, s.account.account_id, s.account.name, s.name, s.arn, s.password_enabled, s.password_last_used,
        s.mfa_active, s.key1_active, s.key1_last_used, s.key2_active, s.key2_last_used, s.valid_from,
    )  # fmt: skip


# --- naming standards -------------------------------------------------------------------------------


# --- people directory ---------------------------------------------------------------------------------


@accepts_upload(MAX_BYTES)
@policy(get=READ_PERMISSION, post="people.change_person", unscoped=ORGANISATION_WIDE)
def people_list(request: HttpRequest) -> HttpResponseBase:
    if request.method == "POST":
        upload = DirectoryUploadForm(request.POST, request.FILES)
        if upload.is_valid():
            try:
                result = directory_import(content=upload.cleaned_data["file"].read(), actor=actor_of(request))
            except DirectoryError as exc:
                messages.error(request, f"Directory not imported: {exc}")
            else:
                messages.success(request, f"Directory imported: {result.summary()}. Owner checks use it from the next run.")
            return redirect("people:people-list")
    else:
        upload = DirectoryUploadForm()
    people = Person.objects.all()
    q = request.GET.get("q", "").strip()
    if q:
        people = people.filter(
            Q(employee_id__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(email__icontains=q)
        )
    if request.GET.get("format") == "csv":
        rows = ((p.employee_id, p.first_name, p.last_name, p.email, p.active) for p in people.iterator())
        return csv_response(PEOPLE_HEADER, rows, "iamwatch-people.csv")
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "people/people_list.html", {"page": page, "q": q, "upload": upload})


@policy(get=READ_PERMISSION)
def person_detail(request: HttpRequest, employee_id: str) -> HttpResponseBase:
    """Who has access where: every IAM user this person owns across all accounts, with MFA, keys and last use."""
    person = get_object_or_404(Person, employee_id=employee_id)
    rows = person_access(person=person, within=visible_accounts(request.user))
    if request.GET.get("format") == "csv":
        return csv_response(ACCESS_HEADER, (_access_csv_row(r) for r in rows), f"iamwatch-access-{person.employee_id}.csv")
    facts = PersonFacts(person.pk, person.employee_id, person.first_name, person.last_name, person.email, person.active)
    paths = person_paths(person_id=facts.person_id, within=visible_accounts(request.user))
    return render(request, "people/person_detail.html", {"person": person, "rows": rows, "paths": paths})


@policy(get=READ_PERMISSION)
def access_csv(request: HttpRequest) -> HttpResponseBase:
    """Who has access where, for the whole fleet: every current IAM user with its owner (or none)."""
    rows = access_rows(visible_accounts(request.user))
    return csv_response(ACCESS_HEADER, (_access_csv_row(r) for r in rows), "iamwatch-access.csv")


# --- owners of one account ------------------------------------------------------------------------------


def _owner_rows(account: AwsAccount) -> Iterable[AccessRow]:
    return access_rows(AwsAccount.objects.filter(pk=account.pk))


@policy(get=READ_PERMISSION)
def account_owners(request: HttpRequest, account_id: str) -> HttpResponseBase:
    account = account_or_404(request, account_id)
    rows = list(_owner_rows(account))
    if request.GET.get("format") == "csv":
        return csv_response(ACCESS_HEADER, (_access_csv_row(r) for r in rows), f"iamwatch-owners-{account.account_id}.csv")
    standard = account_standard(account=account)
    context = {
        "account": account,
        "rows": rows,
        "standard": standard,
        "directory_loaded": directory_loaded(),
        "links": OwnerLink.objects.filter(account=account).select_related("person").order_by("user_name"),
        "link_form": OwnerLinkForm(),
        "standard_form": AccountStandardForm(initial={"standard": account.naming_standard_id}),
    }
    return render(request, "people/account_owners.html", context)


@policy(post="people.add_ownerlink")
def owner_link_create(request: HttpRequest, account_id: str) -> HttpResponse:
    account = account_or_404(request, account_id)
    form = OwnerLinkForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        owner_link(
            account=account,
            user_name=data["user_name"],
            person=data["employee_id"],
            reason=data["reason"],
            actor=actor_of(request),
        )
        messages.success(
            request, f"{data['user_name']} now belongs to {data['employee_id']}; the owner checks use it from the next run."
        )
    else:
        messages.error(request, form_errors(form))
    return redirect("people:account-owners", account_id=account.account_id)


@policy(post="people.delete_ownerlink")
def owner_link_delete(request: HttpRequest, link_id: int) -> HttpResponse:
    links = in_accounts(OwnerLink.objects.select_related("account", "person"), visible_accounts(request.user))
    link = get_object_or_404(links, pk=link_id)
    owner_unlink(link=link, actor=actor_of(request))
    messages.success(request, f"{link.user_name} is no longer linked to {link.person}.")
    return redirect("people:account-owners", account_id=link.account.account_id)


