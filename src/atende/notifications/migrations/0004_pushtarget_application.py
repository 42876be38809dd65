"""Push targets belong to the application that registered them (sandbox and production never
mix). Devices registered before this knew only their operator: they are given the
operator's production application, where the portal and the production apps registered
them; an operator without one has no application to send from, so its rows go."""

import django.db.models.deletion
from django.db import migrations, models

PRODUCTION = 2


def bind_to_production(apps, schema_editor):
    PushTarget = apps.get_model("notifications", "PushTarget")
    Application = apps.get_model("tenancy", "Application")
    for operator_id in PushTarget.objects.values_list("operator_id", flat=True).distinct():
        application = (
            Application.objects.filter(operator_id=operator_id)
            .order_by(models.Case(models.When(instance=PRODUCTION, then=0), default=1), "id")
            .first()
        )
        targets = PushTarget.objects.filter(operator_id=operator_id)
        if application is None:
            targets.delete()
        else:
            targets.update(application=application)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_delivery_key_constraint"),
        ("tenancy", "0004_report_max_days"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="pushtarget", name="push_target_owner"),
        migrations.AddField(
            model_name="pushtarget",
            name="application",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenancy.application",
            ),
        ),
        migrations.RunPython(bind_to_production, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="pushtarget",
            name="application",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenancy.application",
            ),
        ),
        migrations.AddIndex(
            model_name="pushtarget",
            index=models.Index(
                fields=["application", "beneficiary_identifier"], name="push_target_owner"
            ),
        ),
    ]
