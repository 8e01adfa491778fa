"""An alert for each new root event: time, address, MFA and user agent, to the security distribution list at once
(audits.alerts sends it, once per event id)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max, Min
from django.utils import timezone

from audits.models import Alert, AuditRun
from cloudtrail.checks import known_networks, outside
from cloudtrail.models import EventConflict, RootEvent

# An event older than this when first stored (history from imported files, or LookupEvents' first 90 days) is
# news to nobody's incident response: such events go out as one summary per run, not one message each.
ALERT_EACH_WITHIN = timedelta(days=7)


def root_event_alerts(run: AuditRun) -> list[Alert]:
    """The alerts of the root events `run` stored first: one per recent event, one summary for the older ones."""
    account = run.account
    where = f"{account.name} ({account.account_id})"
    known = known_networks(settings.IAMWATCH_KNOWN_NETWORKS)
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
    for e in stored.filter(at__gte=cutoff).order_by("at", "pk"):
        what = ("root signed in" if e.success else "a root sign-in failed") if e.is_sign_in else f"root called {e.action}"
        mfa = {True: "yes", False: "NO", None: "not recorded"}[e.mfa_used]
        flags = [] if not known or not outside(e.source_ip, known) else ["from OUTSIDE the known networks"]
        drafts.append(
            Alert(
                account=account,
                run=run,
                kind=Alert.Kind.ROOT_EVENT,
                key=f"root-event:{e.event_id}" + (":aws-record" if e.event_id in conflicts else ""),
                subject=f"[IAMWatch] {what} in {where} at {e.at:%Y-%m-%d %H:%M:%S} UTC" + (f" {flags[0]}" if flags else ""),
                body=(
                    f"{what[0].upper()}{what[1:]} in {where}.\n"
                    f"Time: {e.at:%Y-%m-%d %H:%M:%S} UTC\nAddress: {e.source_ip}{' (' + flags[0] + ')' if flags else ''}\n"
                    f"MFA: {mfa}\nUser agent: {e.user_agent}\nOutcome: {'success' if e.success else e.error or 'failed'}\n"
                    f"Region: {e.region}\nCloudTrail event id: {e.event_id}\n"
                    "Root is for break-glass only: find out who used it and why, and record it for the review."
                ),
            )
        )
    return drafts
