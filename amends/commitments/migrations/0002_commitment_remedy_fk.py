import django.db.models.deletion
from django.db import migrations, models


def forget_missing_remedies(apps, schema_editor):
    """A promise pointing at a remedy that no longer exists keeps no dangling id."""
    Commitment = apps.get_model("commitments", "Commitment")
    Remedy = apps.get_model("remedies", "Remedy")
    Commitment.objects.filter(remedy_id__isnull=False).exclude(
        remedy_id__in=Remedy.objects.values("pk")
    ).update(remedy_id=None)


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0001_commitments_escalations_notifications"),
        ("remedies", "0002_seed_remedy_kinds"),
    ]

    operations = [
        migrations.RunPython(forget_missing_remedies, migrations.RunPython.noop),
        # The column stays `remedy_id`: the integer becomes a foreign key in place.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="commitment", name="remedy_id"),
                migrations.AddField(
                    model_name="commitment",
                    name="remedy",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="commitments",
                        to="remedies.remedy",
                    ),
                ),
            ],
            database_operations=[
                migrations.AlterField(
                    model_name="commitment",
                    name="remedy_id",
                    field=models.ForeignKey(
                        blank=True,
                        db_column="remedy_id",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="commitments",
                        to="remedies.remedy",
                    ),
                ),
            ],
        ),
    ]
