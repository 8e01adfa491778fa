"""The trail went to staff and the people directory to people (their migrations 0001): the tables stay, only
Django's state here forgets the models."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_account_scope"),
        ("people", "0001_initial"),
        ("staff", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ChangeRecord"),
                migrations.DeleteModel(name="OwnerLink"),
                migrations.DeleteModel(name="Person"),
            ],
        ),
    ]
