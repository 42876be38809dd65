"""The Registro de Atendimento of the demo's water company (seed 004): intake settings,
specifications with their deadlines, units and POP, unit-by-locality rules, and the SMS
that tells each requester the registration was attended."""

from django.db import transaction

from atende.catalog.formdefs import FieldType
from atende.catalog.models import (
    ActionKind,
    Closing,
    OccurrenceType,
    ProtocolScheme,
    ProtocolType,
    SlaPolicy,
    SlaPreset,
    SlaUnit,
)
from atende.catalog.presets import status_rows
from atende.catalog.services import (
    catalog_record_update,
    form_create,
    occurrence_type_create,
    sla_policy_create,
    status_action_create,
    subject_create,
)
from atende.registrations.models import LocalityRule, RegistrationSettings, ServiceType
from atende.registrations.services import locality_rule_save, service_type_save
from atende.tenancy.models import Application, Operator, Unit

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
    operator: Operator,
    application: Application,
    *,
    units: dict,
    city: str,
    attended_sms: bool = True,
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
    if attended_sms:
        install_attended_sms(leak)
    return config


def install_attended_sms(leak: OccurrenceType) -> None:
    """Each requester told by SMS that the registration was attended."""
    status_action_create(
        status=leak.statuses.get(closing=Closing.RESOLVED),
        description="SMS aos solicitantes: atendida",
        kind=ActionKind.SMS,
        body_template=ATTENDED_SMS,
    )


REFUND = "Devolução"
BANK = [
    {"key": "banco", "label": "Banco", "type": FieldType.TEXT, "required": True},
    {"key": "agencia", "label": "Agência", "type": FieldType.TEXT, "required": True},
    {"key": "conta", "label": "Conta", "type": FieldType.TEXT, "required": True},
    {
        "key": "cpf_titular",
        "label": "CPF do titular da conta",
        "type": FieldType.CPF,
        "required": True,
    },
]
REFUND_FORMS = {
    # Seed 004's three refunds, each with what the commercial area checks.
    "Pagamento em duplicidade": [
        {
            "key": "documento",
            "label": "Número do documento",
            "type": FieldType.TEXT,
            "required": True,
        },
        {
            "key": "valor_pago",
            "label": "Valor pago em cada pagamento",
            "type": FieldType.MONEY,
            "required": True,
        },
        {
            "key": "data_primeiro",
            "label": "Data do primeiro pagamento",
            "type": FieldType.DATE,
            "required": True,
        },
        {
            "key": "data_segundo",
            "label": "Data do segundo pagamento",
            "type": FieldType.DATE,
            "required": True,
        },
    ],
    "Pagamento com valor maior que o documento": [
        {
            "key": "documento",
            "label": "Número do documento",
            "type": FieldType.TEXT,
            "required": True,
        },
        {
            "key": "valor_documento",
            "label": "Valor do documento",
            "type": FieldType.MONEY,
            "required": True,
        },
        {"key": "valor_pago", "label": "Valor pago", "type": FieldType.MONEY, "required": True},
        {
            "key": "data_pagamento",
            "label": "Data do pagamento",
            "type": FieldType.DATE,
            "required": True,
        },
    ],
    "Valor cobrado indevidamente em documento pago": [
        {
            "key": "documento",
            "label": "Número do documento",
            "type": FieldType.TEXT,
            "required": True,
        },
        {
            "key": "valor_indevido",
            "label": "Valor cobrado indevidamente",
            "type": FieldType.MONEY,
            "required": True,
        },
        {
            "key": "data_pagamento",
            "label": "Data do pagamento",
            "type": FieldType.DATE,
            "required": True,
        },
        {
            "key": "motivo",
            "label": "Por que a cobrança é indevida",
            "type": FieldType.LONG_TEXT,
            "required": True,
        },
    ],
}


@transaction.atomic
def install_refunds(operator: Operator, *, unit: Unit) -> OccurrenceType:
    """Devolução de valores (seed 004): the type with its three specifications, each with
    its form checked at opening and the payment receipt required."""
    gsan = ProtocolType.objects.get(operator=operator, scheme=ProtocolScheme.GSAN)
    sac = SlaPolicy.objects.filter(operator=operator, preset=SlaPreset.SAC_DECREE).first()
    refund = occurrence_type_create(
        operator=operator,
        name=REFUND,
        protocol_type=gsan,
        sla_policy=sac,
        has_place=True,
        statuses=status_rows(
            ("Registrado", "Registrado", "#6e7781", True),
            ("Em análise", "Em análise", "#1f6feb", False, True),
            ("Devolvido", "Valor devolvido", "#1a7f37", False, False, "resolved"),
            ("Indeferido", "Devolução indeferida", "#cf222e", False, False, "closed"),
        ),
    )
    for name, fields in REFUND_FORMS.items():
        form = form_create(operator=operator, name=f"Devolução — {name}", fields=fields + BANK)
        subject_create(
            occurrence_type=refund,
            name=name,
            default_unit=unit,
            required_document="Comprovante de pagamento",
            form=form,
        )
    return refund
