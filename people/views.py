"""The people directory page and the owner links (a person's access and an account's owners are the dashboard's)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render

from accounts.selectors import account_or_404, in_accounts, visible_accounts
from people.directory import MAX_BYTES, DirectoryError, directory_import
from people.forms import DirectoryUploadForm, OwnerLinkForm
from people.models import OwnerLink, Person
from people.services import owner_link, owner_unlink
from staff.export import csv_response
from staff.forms import form_errors
from staff.roles import ORGANISATION_WIDE, READ_PERMISSION, actor_of, policy
from staff.uploads import accepts_upload

PAGE_SIZE = 100
PEOPLE_HEADER = ("employee_id", "first_name", "last_name", "email", "active")


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


# --- owners of one account ------------------------------------------------------------------------------


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
