"""Alerts to the security distribution list: new root use, a root access key, a new critical finding.

Each alert is keyed by the event it reports (a root-usage event, a finding's opening), with a unique
constraint, so a re-run or a re-import of the same report never sends it twice. Sending happens
after the run's transaction commits; a failure to send is recorded on the alert, never fails the run.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import AwsAccount
from audits.checks import EVENT_CHECK_IDS, Severity
from audits.models import REPORT_SOURCES, Alert, AuditRun, FindingEvent, RootUsageEvent

log = logging.getLogger(__name__)

# Alerts that apps above audits draft for a run (cloudtrail: each new root event), registered from their ready().
ALERT_SOURCES: list[Callable[[AuditRun], list[Alert]]] = []


def register_alert_source(source: Callable[[AuditRun], list[Alert]]) -> None:
    if source not in ALERT_SOURCES:
        ALERT_SOURCES.append(source)


def _recipients(account: AwsAccount) -> list[str]:
    address = account.alert_email or settings.IAMWATCH_ALERT_EMAIL
    return [address] if address else []


def _drafts(run: AuditRun) -> list[Alert]:
    account = run.account
    where = f"{account.name} ({account.account_id})"
    drafts = [
        Alert(
            account=account,
            run=run,
            kind=Alert.Kind.ROOT_USAGE,
            key=f"root-usage:{e.pk}",
            subject=f"[IAMWatch] root {e.get_credential_display().lower()} used in {where}",
            body=f"The root user's {e.get_credential_display().lower()} was used at {e.used_at:%Y-%m-%d %H:%M} UTC in {where}.\n"
            f"Root is for break-glass only: find out who used it and why, and record it for the review.",
        )
        for e in RootUsageEvent.objects.filter(first_seen_run=run)
    ]
    # Only root keys and critical findings alert: ask the database for those events, not all of the run's. The
    # findings of root events are left out: the event's own alert (ALERT_SOURCES) says it all, once per event.
    opened = (
        FindingEvent.objects.filter(
            Q(finding__check_id="root.access_key_exists") | Q(finding__severity=Severity.CRITICAL),
            run=run,
            kind__in=[FindingEvent.Kind.OPENED, FindingEvent.Kind.REOPENED],
        )
        .exclude(finding__check_id__in=EVENT_CHECK_IDS)
        .select_related("finding__account")
    )
    # A run of one account's report, or of Identity Center (whose findings are in every account it reaches).
    seen = "the report" if run.source in REPORT_SOURCES else f"the {run.get_source_display()} read"
    for event in opened:
        finding = event.finding
        where = f"{finding.account.name} ({finding.account.account_id})"
        if finding.check_id == "root.access_key_exists":
            kind = Alert.Kind.ROOT_ACCESS_KEY
        elif finding.severity == Severity.CRITICAL:
            kind = Alert.Kind.CRITICAL_FINDING
        else:
            continue
        drafts.append(
            Alert(
                account=finding.account,
                run=run,
                kind=kind,
                key=f"finding-event:{event.pk}",
                subject=f"[IAMWatch] critical: {finding.check_id} in {where}",
                body=f"{finding.check_id} ({finding.principal or 'the account'}): {finding.detail}\nSeen in {seen} of {event.at:%Y-%m-%d %H:%M} UTC.",
            )
        )
    for source in ALERT_SOURCES:
        drafts.extend(source(run))
    return drafts


def alerts_for_run(*, run_id: int) -> list[Alert]:
    """Record and send the alerts a finished run calls for; each event is alerted once, ever."""
    run = AuditRun.objects.select_related("account").get(pk=run_id)
    sent = []
    for draft in _drafts(run):
        draft.recipients = ", ".join(_recipients(draft.account))
        try:
            with transaction.atomic():
                draft.save()
        except IntegrityError:
            continue  # this event was alerted on already
        _deliver(draft)
        sent.append(draft)
    return sent


def _deliver(alert: Alert) -> None:
    """E-mail the alert and post it to the webhook; `sent_at` only when one of them took it, else the errors."""
    errors = []
    delivered = False
    subject = " ".join(alert.subject.split())  # a line break in a subject is a header injection: never sent as one
    if alert.recipients:
        try:
            send_mail(subject, alert.body, settings.DEFAULT_FROM_EMAIL, alert.recipients.split(", "), fail_silently=False)
            delivered = True
        except Exception as exc:  # an SMTP outage must not fail the run: record it on the alert
            errors.append(f"e-mail: {type(exc).__name__}: {exc}")
    else:
        errors.append("no security distribution list configured (IAMWATCH_ALERT_EMAIL or the account's alert address)")
    if settings.IAMWATCH_ALERT_WEBHOOK_URL:
        payload = json.dumps({"text": f"{alert.subject}\n{alert.body}"}).encode()
        # The URL is checked at start-up: https, or http on loopback only (settings).
        url = settings.IAMWATCH_ALERT_WEBHOOK_URL
        request = urllib.request.Request(url, data=payload, headers={"Content-Type": "application/json"})  # noqa: S310  # nosec B310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310
                response.read()
            delivered = True
        except Exception as exc:
            errors.append(f"webhook: {type(exc).__name__}: {exc}")
    Alert.objects.filter(pk=alert.pk).update(
        sent_at=timezone.now() if delivered else None, error="; ".join(errors)
    )
    if errors:
        log.warning("alert %s: %s", alert.pk, "; ".join(errors))
