# Before 0016, a fetch run that also recorded CloudTrail events wrote a second "opened" event for each finding the
# report opened. Drop the copies (keep the first of each), then let the database refuse them.

from django.db import migrations, models
from django.db.models import Count, Min


def drop_repeated_events(apps, schema_editor):  # type: ignore[no-untyped-def]
    FindingEvent = apps.get_model("audits", "FindingEvent")
    repeated = (
        FindingEvent.objects.filter(kind__in=["opened", "resolved", "reopened"])
        .values("finding", "run", "kind")
        .annotate(n=Count("pk"), first=Min("pk"))
        .filter(n__gt=1)
    )
    for group in repeated.iterator():
        FindingEvent.objects.filter(finding=group["finding"], run=group["run"], kind=group["kind"]).exclude(pk=group["first"]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('audits', '0015_identity_center_runs'),
    ]

    operations = [
        migrations.RunPython(drop_repeated_events, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='findingevent',
            constraint=models.UniqueConstraint(condition=models.Q(('kind__in', ['opened', 'resolved', 'reopened'])), fields=('finding', 'run', 'kind'), name='one_run_event_per_finding'),
        ),
    ]
