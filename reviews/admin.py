"""Reviews, decisions and sign-offs in the admin: read-only (the review pages record every change)."""

from __future__ import annotations

from django.contrib import admin

from reviews.models import Disposition, Review, SignOff
from staff.admin import ReadOnlyAdmin


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ("title", "period_start", "period_end", "status", "created_by", "created_at")


@admin.register(Disposition)
class DispositionAdmin(ReadOnlyAdmin):
    list_display = ("review", "finding", "kind", "decided_by", "decided_at")


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyAdmin):
    """Sign-offs are never edited or deleted, here or anywhere (the model and the database refuse too)."""

    list_display = ("review", "signed_by", "prepared_by", "signed_at", "corrects", "snapshot_sha256")
