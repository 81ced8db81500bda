from django.db import migrations

KINDS = [
    ("flight_delay", "Flight delay", "delay minutes"),
    ("cancellation", "Cancellation", "hours of notice"),
    ("network_outage", "Network outage", "outage hours"),
    ("service_outage", "Service outage", "outage hours"),
    ("billing_error", "Billing error", "amount overcharged"),
    ("missed_appointment", "Missed appointment", "hours late"),
    ("product_defect", "Product defect", "units affected"),
]

TEMPLATES = [
    (
        "initial",
        "{incident_title}: we are sorry, and here is what we are doing",
        "Dear {customer_name},\n\n"
        "{what_happened}\n\n"
        "We are sorry. This is our failure, not yours, and we know it has cost you time and "
        "trouble.\n\n"
        "What we are doing: {latest_update}\n\n"
        "What we offer you:\n{choices}\n\n"
        "See your options and choose here: {portal_link}\n\n"
        "Reference: {incident_ref}\n",
    ),
    (
        "update",
        "Update on {incident_title}",
        "Dear {customer_name},\n\n"
        "An update on {incident_title}: {latest_update}\n\n"
        "Your options are still here: {portal_link}\n\n"
        "Reference: {incident_ref}\n",
    ),
    (
        "resolved",
        "{incident_title} is resolved",
        "Dear {customer_name},\n\n"
        "{incident_title} is now resolved. {latest_update}\n\n"
        "We are sorry again for the disruption. If you have not chosen yet, your options are "
        "here: {portal_link}\n\n"
        "Reference: {incident_ref}\n",
    ),
]


def seed(apps, schema_editor):
    IncidentKind = apps.get_model("incidents", "IncidentKind")
    NotificationTemplate = apps.get_model("incidents", "NotificationTemplate")
    for position, (code, name, unit) in enumerate(KINDS):
        IncidentKind.objects.get_or_create(
            code=code, defaults={"name": name, "magnitude_unit": unit, "position": position}
        )
    for round_kind, subject, body in TEMPLATES:
        NotificationTemplate.objects.get_or_create(
            kind=None, round_kind=round_kind, defaults={"subject": subject, "body": body}
        )


def unseed(apps, schema_editor):
    apps.get_model("incidents", "NotificationTemplate").objects.filter(kind=None).delete()
    apps.get_model("incidents", "IncidentKind").objects.filter(
        code__in=[k[0] for k in KINDS], incidents__isnull=True, policies__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_incidents_policies_impacts_rounds")]

    operations = [migrations.RunPython(seed, unseed)]
