from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0011_case_search_prefix_index'),
        ('cases', '0011_case_sla_sweep_markers'),
    ]

    operations = []
