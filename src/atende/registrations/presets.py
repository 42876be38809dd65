"""The Registro de Atendimento of the demo's water company (seed 004): intake settings,
specifications with their deadlines, units and POP, unit-by-locality rules, and the SMS
that tells each requester the registration was attended."""

from django.db import transaction

from atende.catalog.models import ActionKind, Closing, OccurrenceType, SlaUnit
from atende.catalog.services import catalog_record_update, sla_policy_create, status_action_create
from atende.registrations.models import LocalityRule, RegistrationSettings, ServiceType
from atende.registrations.services import locality_rule_save, service_type_save
from atende.tenancy.models import Application, Operator

LEAK = "Vazamento de água"
ATTENDED_SMS = "{{ protocolo }}: sua solicitação foi atendida com sucesso."
POP_LEAK = (
    "1. Confirme o endereço e um ponto de referência.\n"
    "2. Pergunte se a água corre na calçada ou na rua e desde quando.\n"
    "3. Verifique na checagem de duplicidade se já há RA aberto no local.\n"
    "4. Informe o prazo ao solicitante."
)


@transaction.atomic
def install_registrations(
    operator: Operator, application: Application, *, units: dict, city: str
) -> RegistrationSettings:
    """``units`` names the operator's units by role: "field" (the network's maintenance)
    and "desk" (the attendance)."""
    leak = OccurrenceType.objects.get(operator=operator, name=LEAK)
    subjects = {s.name: s for s in leak.subjects.all()}
    shortage = sla_policy_create(
        operator=operator, name="Falta de água — 2 dias", unit=SlaUnit.CALENDAR_DAYS, amount=2
    )
    catalog_record_update(
        record=subjects["Vazamento na rua"],
        default_unit=units["field"],
        procedure=POP_LEAK,
    )
    catalog_record_update(
        record=subjects["Falta de água"], sla_policy=shortage, default_unit=units["desk"]
    )
    config = RegistrationSettings.objects.create(
        operator=operator, application=application, sms_type=leak
    )
    for neighbourhood in ("Centro", "Savassi"):
        locality_rule_save(
            rule=LocalityRule(
                operator=operator,
                subject=subjects["Vazamento na rua"],
                city=city,
                neighbourhood=neighbourhood,
                unit=units["field"],
            )
        )
    for name, hours in (("Reparo de rede", 8), ("Recomposição de pavimento", 48)):
        service_type_save(
            service_type=ServiceType(
                operator=operator,
                subject=subjects["Vazamento na rua"],
                name=name,
                default_unit=units["field"],
                expected_hours=hours,
            )
        )
    attended = leak.statuses.get(closing=Closing.RESOLVED)
    status_action_create(
        status=attended,
        description="SMS aos solicitantes: atendida",
        kind=ActionKind.SMS,
        body_template=ATTENDED_SMS,
    )
    return config
