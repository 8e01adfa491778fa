"""The audit trail moves from the accounts app to staff, keeping its table accounts_changerecord and its triggers."""

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
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        # The tables stay where they are (db_table); only Django's idea of which app owns them changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ChangeRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('actor', models.CharField(help_text='user name, or the command that made the change', max_length=150)),
                        ('action', models.CharField(help_text='e.g. naming_standard.changed', max_length=64)),
                        ('target', models.CharField(max_length=300)),
                        ('before', models.JSONField(blank=True, null=True)),
                        ('after', models.JSONField(blank=True, null=True)),
                    ],
                    options={
                        'db_table': 'accounts_changerecord',
                        'ordering': ['-at', '-pk'],
                    },
                ),
            ],
        ),
        migrations.RunPython(_move_content_types("accounts", "staff", ("changerecord",)), _move_content_types("staff", "accounts", ("changerecord",))),
    ]
