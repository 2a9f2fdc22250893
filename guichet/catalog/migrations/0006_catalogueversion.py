from django.db import migrations, models


def first_stamp(apps, schema_editor):
    apps.get_model("catalog", "CatalogueVersion").objects.using(schema_editor.connection.alias).create(
        id=1, stamp="initial"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_prefecture_proconnect"),
    ]

    operations = [
        migrations.CreateModel(
            name="CatalogueVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("stamp", models.CharField(max_length=32)),
            ],
            options={
                "verbose_name": "catalogue version",
                "verbose_name_plural": "catalogue versions",
            },
        ),
        # The triggers that change it are installed after every migrate (guichet/catalog/versioning.py).
        migrations.RunPython(first_stamp, migrations.RunPython.noop),
    ]
