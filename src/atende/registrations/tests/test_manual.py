"""Manual numbering (issue 21): a supervisor reserves numbers of the registration type's
sequence for a unit's paper forms; an attendant of that unit types one in later; a number
outside the unit's blocks, or used, is refused; issued protocols never repeat them."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from atende.occurrences.models import Occurrence
from atende.occurrences.services import NotAllowed, actor_for_user
from atende.registrations.models import ManualBlock
from atende.registrations.services import manual_block_reserve
from atende.registrations.tests.conftest import ADDRESS
from atende.registrations.tests.test_services import opened
from atende.tenancy.models import Role
from atende.testing.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_reserved_numbers_are_typed_once_by_their_unit(
    street_leak, water, supervisor_water, operator_b, app_b, desk_unit, field_unit
):
    boss = actor_for_user(user=supervisor_water, operator=operator_b)
    before = opened(boss, app_b, street_leak)
    block = manual_block_reserve(actor=boss, unit=desk_unit, occurrence_type=water, count=3)
    numbers = [block.number(i) for i in range(3)]
    assert int(numbers[0]) == int(before.protocol) + 1
    after = opened(boss, app_b, street_leak)
    assert int(after.protocol) == int(numbers[-1]) + 1  # the sequence skipped the block

    desk = MembershipFactory(operator=operator_b, role=Role.ATTENDANT)
    desk.units.add(desk_unit)
    clerk = actor_for_user(user=desk.user, operator=operator_b)
    typed = opened(clerk, app_b, street_leak, manual_protocol=f" {numbers[1]} ")
    assert typed.protocol == numbers[1]
    with pytest.raises(ValidationError) as used:
        opened(clerk, app_b, street_leak, manual_protocol=numbers[1])
    assert used.value.message_dict["manual_protocol"] == [f"{numbers[1]} já foi utilizado."]
    with pytest.raises(ValidationError) as outside:
        opened(clerk, app_b, street_leak, manual_protocol=after.protocol)
    assert "não está em um bloco" in outside.value.message_dict["manual_protocol"][0]
    crew = MembershipFactory(operator=operator_b, role=Role.ATTENDANT)
    crew.units.add(field_unit)
    with pytest.raises(ValidationError) as other_unit:
        opened(
            actor_for_user(user=crew.user, operator=operator_b),
            app_b,
            street_leak,
            manual_protocol=numbers[2],
        )
    assert "Atendimento" in other_unit.value.message_dict["manual_protocol"][0]
    assert Occurrence.objects.count() == 3


def test_only_a_supervisor_reserves(water, attendant_water, operator_b, desk_unit):
    with pytest.raises(NotAllowed):
        manual_block_reserve(
            actor=actor_for_user(user=attendant_water, operator=operator_b),
            unit=desk_unit,
            occurrence_type=water,
            count=5,
        )
    assert not ManualBlock.objects.exists()


def test_the_screens_reserve_list_and_use_a_number(
    street_leak, water, supervisor_water, attendant_water, operator_b, app_b, desk_unit, attendant_a
):
    boss = Client()
    boss.force_login(supervisor_water)
    refused = boss.post(
        "/registros/numeracao-manual/",
        {"occurrence_type": water.pk, "unit": desk_unit.pk, "count": 0},
    )
    assert refused.status_code == 400
    made = boss.post(
        "/registros/numeracao-manual/",
        {"occurrence_type": water.pk, "unit": desk_unit.pk, "count": 2},
    )
    assert made.status_code == 302
    block = ManualBlock.objects.get()
    desk = Client()
    desk.force_login(attendant_water)
    assert (
        desk.post(
            "/registros/numeracao-manual/",
            {"occurrence_type": water.pk, "unit": desk_unit.pk, "count": 2},
        ).status_code
        == 404
    )  # an attendant only reads the blocks
    saved = desk.post(
        "/registros/novo/",
        {
            "subject": street_leak.pk,
            "application": app_b.pk,
            "channel": "presencial",
            "description": "Formulário em papel",
            **ADDRESS,
            "requester_phone": "31988887777",
            "manual_protocol": block.number(0),
            "confirmed": "on",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    listed = desk.get("/registros/numeracao-manual/").content.decode()
    assert f"1/2: {block.number(0)}" in listed
    other = Client()
    other.force_login(attendant_a)
    assert block.number(0) not in other.get("/registros/numeracao-manual/").content.decode()
