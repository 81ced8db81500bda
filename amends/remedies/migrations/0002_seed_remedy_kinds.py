from django.db import migrations

KINDS = [
    ("refund", "Refund", True),
    ("service_credit", "Service credit", True),
    ("rebate", "Rebate", True),
    ("voucher", "Voucher", True),
    ("replacement", "Replacement", False),
    ("repair", "Repair", False),
    ("fee_waiver", "Fee waiver", True),
    ("goodwill_gesture", "Goodwill gesture", False),
    ("other", "Other", False),
]


def seed(apps, schema_editor):
    RemedyKind = apps.get_model("remedies", "RemedyKind")
    for position, (code, name, monetary) in enumerate(KINDS):
        RemedyKind.objects.get_or_create(
            code=code, defaults={"name": name, "monetary": monetary, "position": position}
        )


def unseed(apps, schema_editor):
    RemedyKind = apps.get_model("remedies", "RemedyKind")
    RemedyKind.objects.filter(code__in=[k[0] for k in KINDS], remedies__isnull=True, authority_rules__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("remedies", "0001_remedies_authority_approvals")]

    operations = [migrations.RunPython(seed, unseed)]
