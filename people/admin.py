"""The people directory and owner links in the admin; every change lands in the audit trail."""

from __future__ import annotations

from django.contrib import admin

from people.models import OwnerLink, Person
from staff.admin import TrailedAdmin


@admin.register(Person)
class PersonAdmin(TrailedAdmin):
    list_display = ("employee_id", "first_name", "last_name", "email", "active")
    list_filter = ("active",)
    search_fields = ("employee_id", "first_name", "last_name", "email")


@admin.register(OwnerLink)
class OwnerLinkAdmin(TrailedAdmin):
    list_display = ("account", "user_name", "person", "linked_by", "linked_at")
    search_fields = ("user_name", "person__last_name", "person__employee_id")
