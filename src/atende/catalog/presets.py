"""Ready-made catalogs from the seeds: what a new health-plan operator or sanitation company
starts with. Used by the demo data and the tests, through the catalog services."""

from datetime import date

from django.db import transaction

from atende.catalog.formdefs import FieldType
from atende.catalog.models import (
    OccurrenceType,
    ProtocolScheme,
    SlaPreset,
    SlaUnit,
)
from atende.catalog.services import (
    calendar_create,
    form_create,
    occurrence_type_create,
    outcome_reason_create,
    protocol_type_create,
    sla_policy_create,
    tab_create,
)
from atende.tenancy.models import Operator

REIMBURSEMENT = "Ocorrencia - Reembolso"

RECEIPT_FIELDS = [
    {"key": "numero", "label": "Número do recibo", "type": FieldType.TEXT, "required": True},
    {"key": "data", "label": "Data do atendimento", "type": FieldType.DATE, "required": True},
    {"key": "valor", "label": "Valor pago", "type": FieldType.MONEY, "required": True},
    {"key": "cpf_prestador", "label": "CPF do prestador", "type": FieldType.CPF},
    {
        "key": "tipo",
        "label": "Tipo de despesa",
        "type": FieldType.SELECT,
        "required": True,
        "options": ["Consulta", "Exame", "Terapia", "Outro"],
    },
    {"key": "comprovante", "label": "Comprovante", "type": FieldType.FILE},
]


def status_rows(*rows: tuple) -> list[dict]:
    keys = ("internal_description", "external_description", "color", "is_default")
    extra = ("starts_attendance", "closing", "visible_in_history")
    statuses = []
    for row in rows:
        status = dict(zip(keys, row[:4], strict=True))
        status.update(dict(zip(extra, row[4:], strict=False)))
        statuses.append(status)
    return statuses


@transaction.atomic
def install_health_catalog(operator: Operator) -> dict[str, OccurrenceType]:
    """The seed's types for a health-plan operator, ANS protocols and RN 623 deadlines."""
    ans = protocol_type_create(operator=operator, name="Padrão ANS", scheme=ProtocolScheme.ANS)
    calendar = calendar_create(
        operator=operator,
        name="Dias úteis",
        days_off=[(date(2024, 1, 25), "Aniversário da cidade", True)]
        if operator.municipality == "São Paulo"
        else [],
    )
    coverage = sla_policy_create(
        operator=operator,
        name="RN 623 — cobertura",
        preset=SlaPreset.RN623_COVERAGE,
        calendar=calendar,
    )
    high = sla_policy_create(
        operator=operator,
        name="RN 623 — alta complexidade",
        preset=SlaPreset.RN623_HIGH_COMPLEXITY,
        calendar=calendar,
    )
    other = sla_policy_create(
        operator=operator,
        name="RN 623 — demais solicitações",
        preset=SlaPreset.RN623_NON_COVERAGE,
        calendar=calendar,
    )
    for reason in ("Documentação completa", "Documentação incompleta", "Fora da cobertura"):
        outcome_reason_create(operator=operator, description=reason)
    reimbursement = occurrence_type_create(
        operator=operator,
        name=REIMBURSEMENT,
        protocol_type=ans,
        sla_policy=other,
        functionality_id="9365",
        functionality_description="Reembolso",
        request_template_id="120",
        request_template_description="Solicitação de reembolso",
        statuses=status_rows(
            ("Protocolado", "Recebemos sua solicitação", "#6e7781", True),
            ("Em análise", "Em análise", "#1f6feb", False, True),
            ("Aguardando documentos", "Aguardando seus documentos", "#bf8700", False),
            ("Aprovado", "Reembolso aprovado", "#1a7f37", False, False, "resolved"),
            ("Reprovado", "Reembolso não aprovado", "#cf222e", False, False, "closed"),
        ),
        subjects=["Solicitação de Reembolso", "Prévia de Reembolso"],
    )
    receipts = form_create(operator=operator, name="Recibos", fields=RECEIPT_FIELDS)
    tab_create(
        occurrence_type=reimbursement,
        name="Recibos",
        form=receipts,
        multiple_entries=True,
        display="grid",
        required=True,
    )
    simple_flow = status_rows(
        ("Aberta", "Recebemos sua solicitação", "#6e7781", True),
        ("Em atendimento", "Em atendimento", "#1f6feb", False, True),
        ("Concluída", "Concluída", "#1a7f37", False, False, "resolved"),
        ("Cancelada", "Cancelada", "#cf222e", False, False, "closed"),
    )
    return {
        REIMBURSEMENT: reimbursement,
        "Atualização Cadastral": occurrence_type_create(
            operator=operator,
            name="Atualização Cadastral",
            protocol_type=ans,
            sla_policy=other,
            statuses=simple_flow,
            subjects=["Endereço", "Telefone e e-mail", "Dependentes"],
        ),
        "Solicitação de Autorização": occurrence_type_create(
            operator=operator,
            name="Solicitação de Autorização",
            protocol_type=ans,
            sla_policy=coverage,
            statuses=status_rows(
                ("Solicitada", "Recebemos sua solicitação", "#6e7781", True),
                ("Em auditoria", "Em análise", "#1f6feb", False, True),
                ("Autorizada", "Autorizada", "#1a7f37", False, False, "resolved"),
                ("Negada", "Negada — veja a justificativa", "#cf222e", False, False, "closed"),
            ),
            subjects=["Exame", "Consulta", "Internação eletiva", "Terapia"],
        ),
        "Indicação de credenciamento": occurrence_type_create(
            operator=operator,
            name="Indicação de credenciamento",
            protocol_type=ans,
            sla_policy=high,
            statuses=simple_flow,
            subjects=["Médico", "Clínica", "Laboratório", "Hospital"],
        ),
    }


@transaction.atomic
def install_sanitation_catalog(operator: Operator) -> dict[str, OccurrenceType]:
    """A water utility: GSAN-style protocols, the consumer SAC deadline."""
    gsan = protocol_type_create(
        operator=operator, name="GSAN", scheme=ProtocolScheme.GSAN, origin_digit=1
    )
    calendar = calendar_create(
        operator=operator,
        name="Expediente",
        days_off=[
            (date(2024, 8, 15), "Assunção de Nossa Senhora", True),
            (date(2024, 12, 8), "Imaculada Conceição", True),
        ]
        if operator.municipality == "Belo Horizonte"
        else [],
    )
    sac = sla_policy_create(operator=operator, name="SAC", preset=SlaPreset.SAC_DECREE)
    urgent = sla_policy_create(
        operator=operator,
        name="Vazamento — 24 horas úteis",
        unit=SlaUnit.BUSINESS_HOURS,
        amount=24,
        calendar=calendar,
    )
    outcome_reason_create(operator=operator, description="Reparo executado")
    outcome_reason_create(operator=operator, description="Vazamento não localizado")
    leak = occurrence_type_create(
        operator=operator,
        name="Vazamento de água",
        protocol_type=gsan,
        sla_policy=urgent,
        statuses=status_rows(
            ("Registrado", "Registrado", "#6e7781", True),
            ("Equipe designada", "Equipe a caminho", "#1f6feb", False, True),
            ("Reparo concluído", "Reparo concluído", "#1a7f37", False, False, "resolved"),
            ("Improcedente", "Não procede", "#cf222e", False, False, "closed"),
        ),
        subjects=["Vazamento na rua", "Vazamento no cavalete", "Falta de água"],
        # A Registro de Atendimento (seed 004): place of occurrence and requesters.
        has_place=True,
    )
    account = occurrence_type_create(
        operator=operator,
        name="Segunda via de conta",
        protocol_type=gsan,
        sla_policy=sac,
        statuses=status_rows(
            ("Registrado", "Registrado", "#6e7781", True),
            ("Em atendimento", "Em atendimento", "#1f6feb", False, True),
            ("Enviada", "Enviada", "#1a7f37", False, False, "resolved"),
        ),
        subjects=["Conta por e-mail", "Conta impressa"],
    )
    return {leak.name: leak, account.name: account}
