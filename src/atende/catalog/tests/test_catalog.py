from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from atende.catalog.calendars import sla_due
from atende.catalog.formdefs import entry_clean, fields_clean
from atende.catalog.models import ProtocolScheme, ProtocolSequence, SlaPreset, SlaUnit
from atende.catalog.presets import REIMBURSEMENT
from atende.catalog.protocols import ProtocolExhausted, protocol_issue
from atende.catalog.services import (
    calendar_create,
    form_version_publish,
    occurrence_type_create,
    protocol_type_create,
    sla_policy_create,
    status_create,
    status_update,
)

pytestmark = pytest.mark.django_db
SP = ZoneInfo("America/Sao_Paulo")

FLOW = [
    {"internal_description": "Aberta", "is_default": True},
    {"internal_description": "Resolvida", "closing": "resolved"},
]


@pytest.fixture
def ans(operator_a):
    return protocol_type_create(operator=operator_a, name="ANS", scheme=ProtocolScheme.ANS)


def _type(operator, protocol_type, statuses, name="Tipo"):
    return occurrence_type_create(
        operator=operator, name=name, protocol_type=protocol_type, statuses=statuses
    )


@pytest.mark.parametrize(
    ("statuses", "message"),
    [
        ([{"internal_description": "A", "closing": "resolved"}], "padrão"),
        (
            [
                {"internal_description": "A", "is_default": True},
                {"internal_description": "B", "is_default": True},
                {"internal_description": "C", "closing": "closed"},
            ],
            "A, B",
        ),
        ([{"internal_description": "A", "is_default": True}], "encerramento"),
        (
            [
                {"internal_description": "A", "is_default": True, "is_active": False},
                {"internal_description": "C", "closing": "closed"},
            ],
            "ativo",
        ),
        (
            [
                {"internal_description": "A", "is_default": True, "color": "azul"},
                {"internal_description": "C", "closing": "closed"},
            ],
            "#RRGGBB",
        ),
    ],
)
def test_a_broken_workflow_is_refused_with_what_to_fix_and_nothing_stays(
    operator_a, ans, statuses, message
):
    with pytest.raises(ValidationError, match=message):
        _type(operator_a, ans, statuses)
    assert not operator_a.occurrence_types.exists()


def test_a_status_change_that_breaks_the_type_is_refused(operator_a, ans):
    occurrence_type = _type(operator_a, ans, FLOW)
    closing = occurrence_type.statuses.get(closing="resolved")
    with pytest.raises(ValidationError, match="encerramento"):
        status_update(status=closing, is_active=False)
    closing.refresh_from_db()
    assert closing.is_active
    default = occurrence_type.statuses.get(is_default=True)
    with pytest.raises(ValidationError, match="ativo"):
        status_update(status=default, is_active=False)
    # A new default takes the mark from the old one, in the same change.
    new_default = status_create(
        occurrence_type=occurrence_type, internal_description="X", is_default=True
    )
    assert list(occurrence_type.statuses.filter(is_default=True)) == [new_default]


def test_ans_protocols_are_registration_date_and_a_daily_sequence(ans):
    at = datetime(2024, 6, 3, 14, 0, tzinfo=UTC)
    assert protocol_issue(protocol_type=ans, at=at) == "41750520240603000001"
    assert protocol_issue(protocol_type=ans, at=at) == "41750520240603000002"


def test_running_out_of_the_days_ans_sequence_is_a_clear_error(ans, operator_a):
    ProtocolSequence.objects.create(
        operator=operator_a, key="ans", period="20240603", last_value=999_999
    )
    with pytest.raises(ProtocolExhausted, match="20240603"):
        protocol_issue(protocol_type=ans, at=datetime(2024, 6, 3, 14, tzinfo=UTC))


def test_gsan_prefix_and_manual_numbers(operator_b):
    at = datetime(2024, 6, 3, 14, tzinfo=UTC)
    gsan = protocol_type_create(
        operator=operator_b, name="GSAN", scheme=ProtocolScheme.GSAN, origin_digit=3
    )
    assert protocol_issue(protocol_type=gsan, at=at) == "20243000000001"
    prefixed = protocol_type_create(
        operator=operator_b, name="RA", scheme=ProtocolScheme.PREFIX_YEARLY, prefix="ra"
    )
    assert protocol_issue(protocol_type=prefixed, at=at) == "RA2024000001"
    manual = protocol_type_create(operator=operator_b, name="Papel", scheme=ProtocolScheme.MANUAL)
    assert protocol_issue(protocol_type=manual, at=at, manual_number=" ab-12 ") == "AB-12"
    with pytest.raises(ValidationError):
        protocol_issue(protocol_type=manual, at=at, manual_number="1;drop")


def test_the_ans_scheme_needs_the_operators_registration(operator_b):
    with pytest.raises(ValidationError, match="ANS"):
        protocol_type_create(operator=operator_b, name="ANS", scheme=ProtocolScheme.ANS)


def test_five_business_days_skip_weekends_and_national_and_state_holidays(operator_a):
    calendar = calendar_create(operator=operator_a, name="SP", state="SP")
    policy = sla_policy_create(
        operator=operator_a, name="x", preset=SlaPreset.RN623_COVERAGE, calendar=calendar
    )
    # Thu 4 July 2024 in São Paulo; 9 July is the state's Revolução Constitucionalista.
    start = datetime(2024, 7, 4, 13, 0, tzinfo=UTC)
    due = sla_due(policy=policy, start=start, time_zone="America/Sao_Paulo").astimezone(SP)
    assert due.date() == date(2024, 7, 12)  # 5, 8, 10, 11, 12 (9 is a holiday)
    assert due.time() == time(18, 0)


def test_an_operator_day_off_every_year_counts_as_a_holiday(operator_a):
    calendar = calendar_create(
        operator=operator_a,
        name="SP",
        state="SP",
        days_off=[(date(2020, 1, 25), "Aniversário de São Paulo", True)],
    )
    policy = sla_policy_create(
        operator=operator_a, name="x", unit=SlaUnit.BUSINESS_DAYS, amount=1, calendar=calendar
    )
    start = datetime(2027, 1, 22, 15, 0, tzinfo=UTC)  # Friday; Monday 25 is the city's day
    due = sla_due(policy=policy, start=start, time_zone="America/Sao_Paulo").astimezone(SP)
    assert due.date() == date(2027, 1, 26)


def test_business_hours_continue_the_next_business_day(operator_a):
    calendar = calendar_create(operator=operator_a, name="SP", state="SP")
    policy = sla_policy_create(
        operator=operator_a, name="x", unit=SlaUnit.BUSINESS_HOURS, amount=4, calendar=calendar
    )
    start = datetime(2024, 6, 7, 19, 0, tzinfo=UTC)  # Friday 16:00 in São Paulo
    due = sla_due(policy=policy, start=start, time_zone="America/Sao_Paulo")
    assert due.astimezone(SP).isoformat() == "2024-06-10T10:00:00-03:00"


def test_the_sac_preset_is_seven_calendar_days(operator_a):
    policy = sla_policy_create(operator=operator_a, name="SAC", preset=SlaPreset.SAC_DECREE)
    start = datetime(2024, 6, 7, 19, 0, tzinfo=UTC)
    assert sla_due(policy=policy, start=start, time_zone="America/Sao_Paulo") == datetime(
        2024, 6, 14, 19, 0, tzinfo=UTC
    )


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31)),
    amount=st.integers(min_value=1, max_value=15),
)
def test_a_business_day_deadline_always_lands_on_a_business_day_after_the_start(start, amount):
    from atende.catalog.calendars import WorkingCalendar
    from atende.catalog.models import BusinessCalendar, SlaPolicy

    policy = SlaPolicy(unit=SlaUnit.BUSINESS_DAYS, amount=amount)
    begin = start.replace(tzinfo=UTC)
    due = sla_due(policy=policy, start=begin, time_zone="America/Sao_Paulo", state="MG")
    due = due.astimezone(SP)
    calendar = WorkingCalendar(BusinessCalendar(), default_state="MG")
    assert calendar.is_business_day(due.date())
    assert due > begin
    local_start = begin.astimezone(due.tzinfo).date()
    assert (due.date() - local_start).days >= amount


def test_form_fields_are_checked_when_a_version_is_saved():
    with pytest.raises(ValidationError, match="opções"):
        fields_clean([{"key": "tipo", "label": "Tipo", "type": "select", "options": []}])
    with pytest.raises(ValidationError, match="repetida"):
        fields_clean(
            [
                {"key": "a", "label": "A", "type": "text"},
                {"key": "a", "label": "B", "type": "text"},
            ]
        )
    with pytest.raises(ValidationError, match="tipo"):
        fields_clean([{"key": "a", "label": "A", "type": "colour"}])


def test_an_entry_is_validated_field_by_field():
    fields = fields_clean(
        [
            {"key": "cpf", "label": "CPF", "type": "cpf", "required": True},
            {"key": "fone", "label": "Fone", "type": "phone"},
            {"key": "email", "label": "E-mail", "type": "email"},
            {"key": "valor", "label": "Valor", "type": "money"},
            {"key": "qtd", "label": "Qtd", "type": "number"},
            {"key": "dia", "label": "Dia", "type": "date"},
            {"key": "cores", "label": "Cores", "type": "multi_select", "options": ["a", "b"]},
            {"key": "ok", "label": "Ok", "type": "checkbox"},
            {"key": "obs", "label": "Obs", "type": "long_text"},
        ]
    )
    cleaned = entry_clean(
        fields,
        {
            "cpf": "529.982.247-25",
            "fone": "(11) 98765-4321",
            "email": "Maria@Exemplo.com.br",
            "valor": "1.234,5".replace(".", ""),
            "qtd": "3",
            "dia": "2024-06-03",
            "cores": ["b", "a"],
            "ok": True,
            "obs": "texto",
        },
    )
    assert cleaned == {
        "cpf": "52998224725",
        "fone": "+5511987654321",
        "email": "maria@exemplo.com.br",
        "valor": "1234.50",
        "qtd": "3",
        "dia": "2024-06-03",
        "cores": ["a", "b"],
        "ok": True,
        "obs": "texto",
    }
    with pytest.raises(ValidationError) as refused:
        entry_clean(fields, {"cpf": "111.111.111-11", "dia": "03/06/2024", "extra": 1})
    assert set(refused.value.message_dict) == {"cpf", "dia", "extra"}


def test_saving_a_form_makes_a_new_version_and_old_entries_keep_theirs(catalog_a):
    tab = catalog_a[REIMBURSEMENT].tabs.get()
    first = tab.form.versions.get()
    second = form_version_publish(
        form=tab.form, fields=[{"key": "numero", "label": "Número", "type": "text"}]
    )
    assert (first.number, second.number) == (1, 2)
    first.refresh_from_db()
    assert len(first.fields) == 6
