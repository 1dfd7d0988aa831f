from django.db import migrations, models

# The task each of Tianjin's seeded pass types is for: trucks and dangerous goods carry freight,
# muck carriers serve construction sites.
TIANJIN_TASKS = {"truck_day": "freight", "truck_night": "freight", "hazmat": "freight", "muck": "construction"}


def propose_tianjin_tasks(apps, schema_editor):
    TrafficPassType = apps.get_model("elicense", "TrafficPassType")
    for code, task in TIANJIN_TASKS.items():
        TrafficPassType.objects.filter(region_code="120000", code=code, default_vehicle_task="").update(
            default_vehicle_task=task
        )


class Migration(migrations.Migration):
    dependencies = [
        ("elicense", "0007_licence_indexes_without_pattern_ops"),
    ]

    operations = [
        migrations.AddField(
            model_name="trafficpasstype",
            name="default_vehicle_task",
            field=models.CharField(
                blank=True,
                choices=[
                    ("administration", "Administration"),
                    ("municipal", "Municipal management"),
                    ("business_production", "Business production"),
                    ("residents_life", "Residents' life"),
                    ("freight", "Freight"),
                    ("construction", "Construction"),
                ],
                max_length=32,
                verbose_name="proposed vehicle task",
            ),
        ),
        migrations.RunPython(propose_tianjin_tasks, migrations.RunPython.noop),
    ]
