"""Reviews, decisions, sign-off, evidence and the meeting calendar."""

from __future__ import annotations

from django.urls import path

from reviews import views

app_name = "reviews"
urlpatterns = [
    path("reviews/", views.review_list, name="review-list"),
    path("reviews/new", views.review_new, name="review-new"),
    path("reviews/calendar.ics", views.review_calendar, name="review-calendar"),
    path("reviews/calendar/link", views.calendar_link, name="calendar-link"),
    path("reviews/calendar/<str:token>.ics", views.review_calendar_feed, name="review-calendar-feed"),
    path("reviews/<int:review_id>/", views.review_detail, name="review-detail"),
    path("reviews/<int:review_id>/findings/<int:finding_id>", views.disposition_save, name="disposition-save"),
    path("reviews/<int:review_id>/decide", views.dispositions_decide, name="dispositions-decide"),
    path("reviews/<int:review_id>/carry", views.dispositions_carry_over, name="dispositions-carry"),
    path("reviews/<int:review_id>/sign", views.review_signoff, name="review-sign"),
    path("reviews/<int:review_id>/correct", views.review_correction, name="review-correct"),
    path("reviews/<int:review_id>/evidence.zip", views.review_evidence, name="review-evidence"),
]
