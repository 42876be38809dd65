"""What a health-plan operator's call center starts with: seed 002's classification lists
and scales, the type its manifestations are issued as, and seed 003's request types."""

from django.db import transaction

from atende.callcenter.models import CallCenterSettings
from atende.catalog.models import (
    Classification,
    ClassificationLevel,
    Level,
    OccurrenceType,
    ProtocolScheme,
    ProtocolType,
    Scale,
    SlaPolicy,
)
from atende.catalog.presets import REIMBURSEMENT, status_rows
from atende.catalog.services import occurrence_type_create, protocol_type_create
from atende.tenancy.models import Application, Operator

CALL_TYPE = "Atendimento ao beneficiário"
CARD_COPY = "Segunda via do cartão"
REFUND_AUTHORISATION = "Autorização de reembolso"
INDICATION = "Indicação de credenciamento"

CLASSIFICATIONS = {
    "Solicitação": {
        "Autorização": ["Consulta", "Exame", "Internação", "Terapia"],
        "Reembolso": ["Solicitação de reembolso", "Prévia de reembolso"],
        "Cadastro": ["Segunda via do cartão", "Atualização cadastral"],
    },
    "Informação": {
        "Rede credenciada": ["Consulta à rede", "Indicação de credenciamento"],
        "Cobertura": ["Carência", "Cobertura contratual"],
        "Financeiro": ["Boleto", "Reajuste"],
    },
    "Reclamação": {
        "Atendimento": ["Demora", "Cordialidade"],
        "Rede credenciada": ["Negativa de prestador", "Descredenciamento"],
    },
    "Elogio": {"Atendimento": ["Atendente", "Prestador"]},
}

SCALES = {
    Scale.URGENCY: ["Eletiva", "Urgência", "Emergência"],
    Scale.SENTIMENT: [
        "Muito insatisfeito",
        "Insatisfeito",
        "Neutro",
        "Satisfeito",
        "Muito satisfeito",
    ],
    Scale.PRIORITY: ["Baixa", "Normal", "Alta", "Crítica"],
}


@transaction.atomic
def install_call_center(operator: Operator, application: Application) -> dict[str, OccurrenceType]:
    """Idempotent per operator: nothing is made twice."""
    if CallCenterSettings.objects.filter(operator=operator).exists():
        return {}
    for type_name, categories in CLASSIFICATIONS.items():
        kind = Classification.objects.create(
            operator=operator, level=ClassificationLevel.TYPE, name=type_name
        )
        for category_name, subcategories in categories.items():
            category = Classification.objects.create(
                operator=operator,
                parent=kind,
                level=ClassificationLevel.CATEGORY,
                name=category_name,
            )
            Classification.objects.bulk_create(
                Classification(
                    operator=operator,
                    parent=category,
                    level=ClassificationLevel.SUBCATEGORY,
                    name=name,
                )
                for name in subcategories
            )
    Level.objects.bulk_create(
        Level(operator=operator, scale=scale, name=name, rank=rank)
        for scale, names in SCALES.items()
        for rank, name in enumerate(names, start=1)
    )
    protocols = ProtocolType.objects.filter(operator=operator, scheme=ProtocolScheme.ANS).first()
    if protocols is None:
        protocols = protocol_type_create(
            operator=operator, name="Padrão ANS", scheme=ProtocolScheme.ANS
        )
    sla = SlaPolicy.objects.filter(operator=operator).order_by("id").last()
    simple_flow = status_rows(
        ("Aberta", "Recebemos sua solicitação", "#6e7781", True),
        ("Em atendimento", "Em atendimento", "#1f6feb", False, True),
        ("Concluída", "Concluída", "#1a7f37", False, False, "resolved"),
        ("Cancelada", "Cancelada", "#cf222e", False, False, "closed"),
    )
    made = {
        CALL_TYPE: occurrence_type_create(
            operator=operator,
            name=CALL_TYPE,
            protocol_type=protocols,
            sla_policy=sla,
            offered_in_portal=False,
            statuses=status_rows(
                ("Registrado", "Recebemos seu contato", "#6e7781", True),
                ("Em atendimento", "Em atendimento", "#1f6feb", False, True),
                ("Concluído", "Atendimento concluído", "#1a7f37", False, False, "resolved"),
                ("Abandonado", "Atendimento interrompido", "#cf222e", False, False, "closed"),
            ),
        ),
        CARD_COPY: occurrence_type_create(
            operator=operator,
            name=CARD_COPY,
            protocol_type=protocols,
            sla_policy=sla,
            statuses=simple_flow,
            subjects=["Perda ou roubo", "Cartão danificado", "Mudança de dados"],
        ),
        REFUND_AUTHORISATION: occurrence_type_create(
            operator=operator,
            name=REFUND_AUTHORISATION,
            protocol_type=protocols,
            sla_policy=sla,
            statuses=simple_flow,
            subjects=["Prévia de reembolso"],
        ),
    }
    named = {t.name: t for t in OccurrenceType.objects.filter(operator=operator)}
    CallCenterSettings.objects.create(
        operator=operator,
        application=application,
        occurrence_type=made[CALL_TYPE],
        refund_type=named.get(REIMBURSEMENT),
        refund_authorisation_type=made[REFUND_AUTHORISATION],
        card_copy_type=made[CARD_COPY],
        indication_type=named.get(INDICATION),
    )
    return made
