"""An alert for each new root session: when, where from, MFA, failed attempts, what root did and how bad it was, to the
security distribution list at once (audits.alerts sends it, once per session)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Max, Min
from django.utils import timezone

from accounts.models import AwsAccount
from audits.models import Alert, AuditRun
from cloudtrail.models import EventConflict, RootEvent
from cloudtrail.selectors import sessions_since
from cloudtrail.sessions import RootSession

# An event older than this when first stored (history from imported files, or LookupEvents' first 90 days) is
# news to nobody's incident response: such events go out as one summary per run, not one message each.
ALERT_EACH_WITHIN = timedelta(days=7)


def root_event_alerts(run: AuditRun) -> list[Alert]:
    """The alerts of the root events `run` stored first: one per recent event, one summary for the older ones."""
    account = run.account
    where = f"{account.name} ({account.account_id})"
    stored = RootEvent.objects.filter(run=run)
    cutoff = (run.generated_at or timezone.now()) - ALERT_EACH_WITHIN
    drafts = []
    older = stored.filter(at__lt=cutoff).aggregate(n=Count("pk"), first=Min("at"), last=Max("at"))
    if older["n"]:
        drafts.append(
            Alert(
                account=account,
                run=run,
                kind=Alert.Kind.ROOT_EVENT,
                key=f"root-events-of-run:{run.pk}",
                subject=f"[IAMWatch] {older['n']} earlier root event{'s' if older['n'] != 1 else ''} found in {where}",
                body=(
                    f"Run {run.pk} stored {older['n']} root event{'s' if older['n'] != 1 else ''} in {where} from "
                    f"{older['first']:%Y-%m-%d %H:%M} to {older['last']:%Y-%m-%d %H:%M} UTC, each older than "
                    f"{ALERT_EACH_WITHIN.days} days when found. They are listed on the Root activity page; each one's "
                    "findings wait for the review."
                ),
            )
        )
    conflicts = {c.event_id: c for c in EventConflict.objects.filter(aws_run=run).select_related("file")}
    for c in conflicts.values():
        drafts.append(
            Alert(
                account=account,
                run=run,
                kind=Alert.Kind.ROOT_EVENT,
                key=f"evidence-conflict:{c.event_id}:{c.file_id}",
                subject=f"[IAMWatch] critical: a CloudTrail file contradicts AWS about a root event in {where}",
                body=(
                    f"CloudTrail event {c.event_id} in {where}: AWS's own record (LookupEvents, run {run.pk}) differs from "
                    f"the one in {c.file} in: {', '.join(c.differences)}.\nAWS's record is stored and decided on; the "
                    "file's version is kept as evidence. Ask whoever uploaded the file where it came from."
                ),
            )
        )
    recent = {e.event_id for e in stored.filter(at__gte=cutoff)}
    if recent:
        for session in sessions_since(within=AwsAccount.objects.filter(pk=account.pk), since=cutoff).get(account.pk, []):
            if recent.intersection(session.event_ids):
                drafts.append(_session_alert(run, session, where, conflicts))
    return drafts


KIND_SAID = {"console": "root signed in", "access key": "root's access key was used", "calls": "root called AWS", "failed": "root sign-ins failed"}


def _session_alert(run: AuditRun, session: RootSession, where: str, conflicts: dict[str, EventConflict]) -> Alert:
    """One alert per root session: when, where from, MFA, known network, failed attempts, what root did, and why it is
    as bad as it is; each event listed with its time."""
    what = KIND_SAID[session.kind]
    flags = [] if not session.outside_known else ["from OUTSIDE the known networks"]
    mfa = {True: "yes", False: "NO", None: "not recorded"}[session.mfa]
    lines = [
        f"{what[0].upper()}{what[1:]} in {where}: a {session.severity.value} root session.",
        f"Time: {session.start:%Y-%m-%d %H:%M:%S} UTC" + (f" to {session.end:%Y-%m-%d %H:%M:%S} UTC" if session.end > session.start else ""),
        f"Address: {', '.join(session.addresses) or 'unknown'}{' (' + flags[0] + ')' if flags else ''}",
        f"MFA: {mfa}",
        f"Failed sign-ins: {session.failed_attempts}",
        f"Why {session.severity.value}: {'; '.join(session.reasons)}",
        "Events:",
        *(
            f"  {e.at:%Y-%m-%d %H:%M:%S} UTC {('sign-in' if e.success else 'failed sign-in') if e.is_sign_in else e.action} "
            f"from {e.source_ip} in {e.region or 'no region'} ({e.user_agent or 'no user agent'}){'' if e.success else ': ' + (e.error or 'failed')}"
            f" [CloudTrail event id {e.event_id}]"
            for e in session.events
        ),
        "Root is for break-glass only: find out who used it and why, and record it for the review.",
    ]  # fmt: skip
    return Alert(
        account=run.account,
        run=run,
        kind=Alert.Kind.ROOT_EVENT,
        key=f"root-session:{session.subject}" + (":aws-record" if conflicts.keys() & set(session.event_ids) else ""),
        subject=f"[IAMWatch] {session.severity.value}: {what} in {where} at {session.start:%Y-%m-%d %H:%M:%S} UTC" + (f" {flags[0]}" if flags else ""),
        body="\n".join(lines),
    )
