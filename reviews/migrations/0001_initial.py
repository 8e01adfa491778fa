"""Reviews, decisions, sign-offs and calendar links move from the audits app to reviews, keeping their tables and the
sign-off triggers of audits migration 0005."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _move_content_types(from_app: str, to_app: str, models: tuple[str, ...]):
    """Permissions and admin history follow a moved model: its content type changes app, keeping its id."""

    def move(apps, schema_editor):  # type: ignore[no-untyped-def]
        content_types = apps.get_model("contenttypes", "ContentType").objects.using(schema_editor.connection.alias)
        for model in models:
            if not content_types.filter(app_label=to_app, model=model).exists():
                content_types.filter(app_label=from_app, model=model).update(app_label=to_app)

    return move


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0005_account_scope'),
        ('audits', '0008_current_principal_lower_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        # The tables stay where they are (db_table); only Django's idea of which app owns them changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CalendarFeed',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('token_sha256', models.CharField(max_length=64, unique=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='calendar_feed', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'audits_calendarfeed',
                    },
                ),
                migrations.CreateModel(
                    name='Review',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('title', models.CharField(max_length=200)),
                        ('period_start', models.DateField()),
                        ('period_end', models.DateField()),
                        ('status', models.CharField(choices=[('open', 'Open'), ('signed', 'Signed'), ('correcting', 'being corrected')], default='open', max_length=12)),
                        ('created_by', models.CharField(help_text='who prepared the review', max_length=150)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('accounts', models.ManyToManyField(related_name='reviews', to='accounts.awsaccount')),
                    ],
                    options={
                        'db_table': 'audits_review',
                        'ordering': ['-period_end', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='SignOff',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('signed_by', models.CharField(max_length=150)),
                        ('prepared_by', models.CharField(max_length=150)),
                        ('signed_at', models.DateTimeField()),
                        ('comment', models.TextField()),
                        ('snapshot', models.JSONField(help_text='runs and report SHA-256, findings and dispositions, thresholds, version')),
                        ('snapshot_sha256', models.CharField(max_length=64)),
                        ('corrects', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='corrected_by', to='reviews.signoff')),
                        ('review', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='signoffs', to='reviews.review')),
                    ],
                    options={
                        'db_table': 'audits_signoff',
                        'ordering': ['signed_at', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='Disposition',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('accepted_risk', 'accepted risk'), ('remediation_planned', 'remediation planned'), ('false_positive', 'false positive')], max_length=24)),
                        ('justification', models.TextField(blank=True)),
                        ('owner', models.CharField(blank=True, help_text='who owns the accepted risk', max_length=200)),
                        ('expires_on', models.DateField(blank=True, help_text='the acceptance ends after this day', null=True)),
                        ('ticket', models.CharField(blank=True, help_text='ticket reference of the remediation', max_length=200)),
                        ('due_on', models.DateField(blank=True, help_text='when the remediation is due', null=True)),
                        ('decided_by', models.CharField(max_length=150)),
                        ('decided_at', models.DateTimeField(auto_now=True)),
                        ('finding', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='dispositions', to='audits.finding')),
                        ('review', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='dispositions', to='reviews.review')),
                    ],
                    options={
                        'db_table': 'audits_disposition',
                        'constraints': [models.UniqueConstraint(fields=('review', 'finding'), name='one_disposition_per_finding_and_review')],
                    },
                ),
            ],
        ),
        migrations.RunPython(_move_content_types("audits", "reviews", ("review", "disposition", "signoff", "calendarfeed",)), _move_content_types("reviews", "audits", ("review", "disposition", "signoff", "calendarfeed",))),
    ]
