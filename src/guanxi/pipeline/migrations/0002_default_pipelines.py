"""Seed the two default pipelines: new business (新业务) and renewals (续约)."""

from django.db import migrations

from guanxi.pipeline.defaults import DEFAULT_PIPELINES


def seed(apps, schema_editor):
    Pipeline = apps.get_model("pipeline", "Pipeline")
    Stage = apps.get_model("pipeline", "Stage")
    for data in DEFAULT_PIPELINES:
        fields = {k: v for k, v in data.items() if k != "stages"}
        pipeline, created = Pipeline.objects.get_or_create(name=fields.pop("name"), defaults=fields)
        if not created:
            continue
        for position, (name, name_en, kind, probability, category) in enumerate(data["stages"], start=1):
            Stage.objects.create(
                pipeline=pipeline,
                name=name,
                name_en=name_en,
                position=position,
                kind=kind,
                probability=probability,
                forecast_category=category,
            )


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
