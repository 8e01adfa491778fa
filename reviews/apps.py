"""reviews: the review meeting's decisions and their proof.

It owns reviews, dispositions (accepted risk, remediation planned, false positive) and acceptance expiry,
sign-off with four-eyes, frozen sign-off snapshots, the evidence pack, the meeting cadence and calendar, and
private calendar links. It is the top domain layer: it may import every other app, and none imports it
(pages elsewhere read it through reviews.selectors).
"""

from __future__ import annotations

from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Reviews and sign-off"
