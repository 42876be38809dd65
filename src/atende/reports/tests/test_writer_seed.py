"""Seed 000's example, field by field: the occurrence 41750520240603701646 of type 582
"Ocorrencia - Reembolso", made through the real services at the seed's times, must give
the seed's 00, 01, 02, 03 and 99 lines. The one deliberate difference is ``estadoAnterior``
of the 03 line: the seed shows 1, but its own 02 line left the occurrence in 3."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from atende.catalog.models import (
    Closing,
    OccurrenceType,
    OutcomeReason,
    ProtocolScheme,
    ProtocolType,
    SlaPolicy,
    SlaUnit,
    Status,
    Subject,
)
from atende.catalog.protocols import protocol_reserve
from atende.occurrences.models import Channel, Nature, Occurrence
from atende.occurrences.services import (
    actor_for_application,
    occurrence_close,
    occurrence_create,
    occurrence_start_attendance,
)
from atende.reports.params import ReportParams
from atende.reports.writer import report_write
from atende.tenancy.models import Instance, Role
from atende.testing.factories import ApplicationFactory, MembershipFactory, OperatorFactory

pytestmark = pytest.mark.django_db

SP = ZoneInfo("America/Sao_Paulo")


def seed_time(text: str) -> datetime:
    return datetime.strptime(text, "%d/%m/%Y %H:%M:%S").replace(tzinfo=SP)


@pytest.fixture
def seed_world():
    operator = OperatorFactory(pk=69, name="Operadora do exemplo", ans_registration="417505")
    application = ApplicationFactory(
        pk=113,
        operator=operator,
        bundle="br.com.mobilesaude.rannyzyzz",
        instance=Instance.PRODUCTION,
    )
    ans = ProtocolType.objects.create(
        operator=operator, name="Padrão ANS", scheme=ProtocolScheme.ANS
    )
    sla = SlaPolicy.objects.create(
        operator=operator, name="3 dias", unit=SlaUnit.CALENDAR_DAYS, amount=3
    )
    refund = OccurrenceType.objects.create(
        pk=582,
        operator=operator,
        name="Ocorrencia - Reembolso",
        protocol_type=ans,
        sla_policy=sla,
        functionality_id="9365",
        functionality_description="Solicitação de Reembolso",
    )
    subject = Subject.objects.create(
        pk=390, occurrence_type=refund, name="Solicitação de Reembolso"
    )
    statuses = {}
    for pk, name, default, starts, closing in [
        (1501, "Protocolado", True, False, Closing.NONE),
        (1502, "Em análise", False, True, Closing.NONE),
        (1503, "Aguardando documentos", False, False, Closing.NONE),
        (1504, "Aprovado", False, False, Closing.RESOLVED),
        (1505, "Reprovado", False, False, Closing.CLOSED),
    ]:
        statuses[pk] = Status.objects.create(
            pk=pk,
            occurrence_type=refund,
            internal_description=name,
            external_description=name,
            color="#1f6feb",
            is_default=default,
            starts_attendance=starts,
            closing=closing,
        )
    # The seed's reason shows no description.
    reason = OutcomeReason.objects.create(pk=3446, operator=operator, description="")
    attendant = MembershipFactory(operator=operator, role=Role.ATTENDANT).user
    return operator, application, refund, subject, statuses, reason, attendant


def test_the_seeds_example_comes_out_field_by_field(seed_world):
    _operator, application, refund, subject, statuses, reason, attendant = seed_world
    created_at = seed_time("03/06/2024 11:10:55")
    # 701,645 numbers of that day were issued before this one.
    protocol_reserve(protocol_type=refund.protocol_type, at=created_at, count=701645)
    system = actor_for_application(application=application)
    occurrence = occurrence_create(
        actor=system,
        application=application,
        occurrence_type=refund,
        subject=subject,
        channel=Channel.APP,
        nature=Nature.ATTENDANCE,
        requester_name="RANNIER REIS",
        beneficiary_name="RANNIER REIS",
        contract_number="0001001",
        at=created_at,
    )
    # The seed's CPF is an illustration whose check digits do not verify, so the services
    # refuse it; it is written in the row directly (the report copies what the row holds).
    Occurrence.objects.filter(pk=occurrence.pk).update(
        requester_identifier="12122233340", beneficiary_identifier="12122233340"
    )
    occurrence_start_attendance(
        actor=system,
        occurrence=occurrence,
        assignee=attendant,
        expected_version=occurrence.version,
        at=seed_time("03/06/2024 13:21:01"),
    )
    occurrence_close(
        actor=system,
        occurrence=occurrence,
        status=statuses[1504],
        outcome_text="Seu reembolso foi aprovado.",
        reason=reason,
        expected_version=occurrence.version,
        at=seed_time("07/06/2024 14:04:01"),
    )
    out = io.StringIO(newline="")
    params = ReportParams(
        operator_id=69, application_id=113, start=date(2024, 4, 2), end=date(2024, 7, 2)
    )

    lines = report_write(params, out)

    assert lines == 5
    rows = [line.split(";") for line in out.getvalue().split("\n")]
    assert rows[-1] == [""]  # the file ends with a line end
    header, created, changed, closed, footer = rows[:-1]
    assert header == [
        "00",
        "Relatório ocorrência",
        "02/04/2024 00:00:00",
        "02/07/2024 23:59:59",
        "br.com.mobilesaude.rannyzyzz",
        "2",
        "113",
        "69",
    ]
    assert created == [
        "01",
        "41750520240603701646",
        "Padrão ANS",
        "",  # protocoloOrigem
        "582",
        "Ocorrencia - Reembolso",
        "",  # idAtendente: registered by the app
        "",
        "390",
        "Solicitação de Reembolso",
        "1501",
        "Protocolado",
        "12122233340",
        "RANNIER REIS",
        "12122233340",
        "RANNIER REIS",
        "0001001",
        "9365",
        "Solicitação de Reembolso",
        "03/06/2024 11:10:55",
        "07/06/2024 14:04:01",
        "06/06/2024 11:10:55",
        "07/06/2024 14:04:01",
        "",
        "",
        "br.com.mobilesaude.rannyzyzz",
        "2",
        "2",
        "1",
        "appMobile",
        "1",
    ]
    assert changed == [
        "02",
        "41750520240603701646",
        "",
        "",
        "1501",
        "Protocolado",
        "1502",
        "Em análise",
        "1",
        "3",
        "03/06/2024 13:21:01",
        "07/06/2024 14:04:01",
        "1",
        "1",
    ]
    assert closed == [
        "03",
        "41750520240603701646",
        "",
        "",
        "1502",
        "Em análise",
        "1504",
        "Aprovado",
        "3",  # the seed shows 1; the true previous state is 3 (in attendance)
        "4",
        "07/06/2024 14:04:01",
        "07/06/2024 14:04:01",
        "Seu reembolso foi aprovado.",
        "",
        "3446",
        "",
        "1",
        "1",
        "1",
    ]
    assert footer == ["99", *header[1:]]
