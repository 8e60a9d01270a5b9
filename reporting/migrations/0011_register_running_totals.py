"""The register's running totals on its version row: every row of the read model counted, its
amounts and payments added up, once, for the data already there; ``register_sync`` keeps them
from then on (by the difference each change makes)."""

from decimal import Decimal

from django.db import migrations, models
from django.db.models import Count, Sum


def fill(apps, schema_editor):
    RegisterEntry = apps.get_model("reporting", "RegisterEntry")
    RegisterVersion = apps.get_model("reporting", "RegisterVersion")
    sums = RegisterEntry.objects.order_by().aggregate(
        entries=Count("pk"), awarded=Sum("amount"), paid=Sum("paid")
    )
    RegisterVersion.objects.filter(pk=1).update(
        entries=sums["entries"] or 0,
        awarded=sums["awarded"] or Decimal("0.00"),
        paid=sums["paid"] or Decimal("0.00"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0010_register_totals_covering_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="registerversion",
            name="awarded",
            field=models.DecimalField(decimal_places=2, default=Decimal("0.00"), max_digits=18),
        ),
        migrations.AddField(
            model_name="registerversion",
            name="entries",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="registerversion",
            name="paid",
            field=models.DecimalField(decimal_places=2, default=Decimal("0.00"), max_digits=18),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
