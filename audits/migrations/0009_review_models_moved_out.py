"""Reviews, decisions, sign-offs and calendar links went to the reviews app (its migration 0001): the tables and
the sign-off triggers stay, only Django's state here forgets the models."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0008_current_principal_lower_name"),
        ("reviews", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="disposition", name="finding"),
                migrations.RemoveField(model_name="disposition", name="review"),
                migrations.RemoveField(model_name="review", name="accounts"),
                migrations.RemoveField(model_name="signoff", name="review"),
                migrations.RemoveField(model_name="signoff", name="corrects"),
                migrations.DeleteModel(name="CalendarFeed"),
                migrations.DeleteModel(name="Disposition"),
                migrations.DeleteModel(name="Review"),
                migrations.DeleteModel(name="SignOff"),
            ],
        ),
    ]
