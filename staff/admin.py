"""The admin's shared behaviour (every change recorded in the trail; read-only records), staff users and roles,
and the trail itself, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db import models, transaction
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.models import ChangeRecord
from staff.roles import ADMIN, REVIEWER, VIEWER
from staff.trail import record_change
from staff.twofactor import two_factor_reset


def _values(obj: models.Model) -> dict[str, Any]:
    """A row's fields and many-to-many members (a user's groups) as the trail records them (staff.trail keeps only
    whether a secret field, a password hash or an ExternalId, changed)."""
    values: dict[str, Any] = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.name != "id"}
    if obj.pk:
        for m2m in obj._meta.many_to_many:
            values[m2m.name] = sorted(str(member) for member in getattr(obj, m2m.name).all())
    return values


def _name(obj: models.Model) -> str:
    return obj._meta.model_name or type(obj).__name__.lower()


class TrailedAdmin(admin.ModelAdmin):
    """Record every add, change and delete made in the admin, with the values before and after.

    The admin saves a row, then its many-to-many fields and inlines, in one transaction; the record is
    written after all of them, so that a user's new groups are in its "after".
    """

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        old = type(obj).objects.get(pk=obj.pk) if change else None
        request._iamwatch_before = _values(old) if old else None  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        before, after = getattr(request, "_iamwatch_before", None), _values(obj)
        action = f"{_name(obj)}.{'changed' if change else 'added'}"
        record_change(actor=request.user.get_username(), action=action, target=str(obj), before=before, after=after)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            record_change(actor=request.user.get_username(), action=f"{_name(obj)}.removed", target=str(obj), before=_values(obj))
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            for obj in queryset:
                record_change(
                    actor=request.user.get_username(), action=f"{_name(obj)}.removed", target=str(obj), before=_values(obj)
                )
            super().delete_queryset(request, queryset)

    def save_formset(self, request: HttpRequest, form: Any, formset: BaseInlineFormSet, change: bool) -> None:
        actor = request.user.get_username()
        with transaction.atomic():
            for deleted in formset.deleted_forms:
                if deleted.instance.pk:
                    record_change(
                        actor=actor,
                        action=f"{_name(deleted.instance)}.removed",
                        target=str(deleted.instance),
                        before=_values(deleted.instance),
                    )
            before = {
                f.instance.pk: {name: f.initial.get(name) for name in f.changed_data} for f in formset.forms if f.instance.pk
            }
            super().save_formset(request, form, formset, change)
            for obj in formset.new_objects:
                record_change(actor=actor, action=f"{_name(obj)}.added", target=str(obj), after=_values(obj))
            for obj, fields in formset.changed_objects:
                record_change(
                    actor=actor,
                    action=f"{_name(obj)}.changed",
                    target=str(obj),
                    before=before.get(obj.pk),
                    after={name: getattr(obj, name) for name in fields},
                )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Readable in the admin; nobody adds, edits or deletes here (the pages that change it record every change)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChangeRecord)
class ChangeRecordAdmin(ReadOnlyAdmin):
    """The audit trail, read-only."""

    list_display = ("at", "actor", "action", "target")
    list_filter = ("action",)
    search_fields = ("actor", "action", "target")


def is_privileged(user: Any) -> bool:
    """Superusers, staff (who may use the admin) and admins: only a superuser manages them."""
    return bool(user.is_superuser or user.is_staff or user.groups.filter(name=ADMIN).exists())


class TrailedUserAdmin(TrailedAdmin, UserAdmin):
    """Users and their roles (groups): who granted what is in the audit trail.

    No escalation: an admin who is not a superuser manages viewers and reviewers only. They cannot change, delete
    or set the password of a superuser, a staff member or an admin (themselves included), nor grant superuser,
    staff, user permissions or any role but viewer and reviewer; superusers manage admins.
    """

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        return (*fields, "is_superuser", "is_staff", "user_permissions", "last_login", "date_joined")

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=(VIEWER, REVIEWER))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not request.user.is_superuser and is_privileged(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not request.user.is_superuser and is_privileged(obj):
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = self.get_object(request, id)
            record_change(actor=request.user.get_username(), action="user.password_set", target=str(user))
        return response


class TrailedGroupAdmin(TrailedAdmin, GroupAdmin):
    """Roles and their permissions."""


class EnrolledDeviceAdmin(admin.ModelAdmin):
    """Two-factor devices, for superusers only, as "enrolled on DATE": never the key, the QR code or a recovery code.

    Deleting one is the reset: the user's devices all go (authenticator and recovery codes), and at their next login
    they enrol again. Each reset is in the audit trail.
    """

    list_display = ("user", "name", "confirmed", "enrolled_on", "last_used_at")
    fields = ("user", "name", "confirmed", "enrolled_on", "last_used_at")
    readonly_fields = fields
    search_fields = ("user__username",)

    @admin.display(description="enrolled on")
    def enrolled_on(self, device: Any) -> str:
        return f"{device.created_at:%Y-%m-%d}" if device.created_at else "before dates were kept"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        two_factor_reset(user=obj.user, actor=request.user.get_username())

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for user in {device.user for device in queryset.select_related("user")}:
            two_factor_reset(user=user, actor=request.user.get_username())


for model, model_admin in ((User, TrailedUserAdmin), (Group, TrailedGroupAdmin)):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
for model in (TOTPDevice, StaticDevice):  # django-otp's own admin shows keys, QR codes and recovery codes
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, EnrolledDeviceAdmin)
