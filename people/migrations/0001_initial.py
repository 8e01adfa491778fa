"""The people directory and owner links move from the accounts app to people, keeping their tables."""

import django.core.validators
import django.db.models.deletion
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
                    name='Person',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('employee_id', models.CharField(max_length=64, unique=True)),
                        ('first_name', models.CharField(max_length=100)),
                        ('last_name', models.CharField(max_length=100)),
                        ('email', models.EmailField(blank=True, max_length=254)),
                        ('active', models.BooleanField(default=True, help_text='false once the person has left')),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        'db_table': 'accounts_person',
                        'ordering': ['last_name', 'first_name', 'employee_id'],
                    },
                ),
                migrations.CreateModel(
                    name='OwnerLink',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('user_name', models.CharField(max_length=64, validators=[django.core.validators.RegexValidator('^[\\w+=,.@-]{1,64}$', 'IAM user names are 1-64 of A-Z a-z 0-9 and +=,.@_-')])),
                        ('reason', models.TextField(blank=True)),
                        ('linked_by', models.CharField(max_length=150)),
                        ('linked_at', models.DateTimeField(auto_now_add=True)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='owner_links', to='accounts.awsaccount')),
                        ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='owner_links', to='people.person')),
                    ],
                    options={
                        'db_table': 'accounts_ownerlink',
                        'constraints': [models.UniqueConstraint(fields=('account', 'user_name'), name='one_owner_link_per_user')],
                    },
                ),
            ],
        ),
        migrations.RunPython(_move_content_types("accounts", "people", ("person", "ownerlink",)), _move_content_types("people", "accounts", ("person", "ownerlink",))),
    ]
