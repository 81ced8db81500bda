"""Copy the reading of cases scored before the case carried it (attention, upset, churn intent,
repeat failure) from insight's rows onto the cases, set-based, so the queue filters see them."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Case = apps.get_model("cases", "Case")
    CaseInsight = apps.get_model("insight", "CaseInsight")
    row = CaseInsight.objects.filter(case_id=OuterRef("pk"))
    Case.objects.filter(pk__in=CaseInsight.objects.values("case_id")).update(
        attention=Subquery(row.values("priority")[:1]),
        upset=Subquery(row.values("upset")[:1]),
        churn_intent=Subquery(row.values("churn_intent")[:1]),
        repeat_failure=Subquery(row.values("repeat")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("insight", "0001_insight_scores_triage_repeats_coach"),
        ("cases", "0008_case_attention_flags"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
