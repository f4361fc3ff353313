from django.db import migrations

DEFAULT_CONDITIONS = [
    ("new", "New"),
    ("as-new", "As new"),
    ("fine", "Fine"),
    ("very-good", "Very good"),
    ("good", "Good"),
    ("fair", "Fair"),
    ("poor", "Poor"),
]


def create_conditions(apps, schema_editor):
    Condition = apps.get_model("catalog", "Condition")
    for rank, (slug, name) in enumerate(DEFAULT_CONDITIONS, start=1):
        Condition.objects.get_or_create(slug=slug, defaults={"name": name, "rank": rank})


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(create_conditions, migrations.RunPython.noop)]
