"""LGPD anonymisation: the person's data gone from the registry, its history, their
occurrences, the messages about them, portal logins and devices; protocols, dates and
counts kept; the operation recorded."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction

from atende.beneficiaries.models import Beneficiary, Change, ChangeKind, Contact
from atende.beneficiaries.services import (
    ANONYMOUS_NAME,
    PLACEHOLDER,
    person_anonymise,
)
from atende.catalog.presets import REIMBURSEMENT
from atende.notifications.models import Channel, Delivery, Purpose, PushTarget
from atende.notifications.services import delivery_enqueue
from atende.occurrences.models import Event, Occurrence
from atende.portal.models import BeneficiaryLogin
from atende.testing.beneficiaries import card_upserted, cpf_numbers
from atende.testing.occurrences import new_occurrence

pytestmark = pytest.mark.django_db

CPF, OTHER = cpf_numbers(2)


@pytest.fixture
def person(operator_a, app_a, catalog_a, attendant_a):
    holder = card_upserted(
        operator_a, card="H1", cpf=CPF, name="Ana Clara", emails=["ana@example.com"]
    )
    card_upserted(operator_a, card="H1", cpf=CPF, name="Ana Clara Souza")  # a change, audited
    second = card_upserted(operator_a, card="H2", cpf=CPF, name="Ana Clara Souza")
    stranger = card_upserted(operator_a, card="X1", cpf=OTHER, name="Bruno Lima")
    occurrence = new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=catalog_a[REIMBURSEMENT],
        beneficiary_identifier=CPF,
        beneficiary_name="Ana Clara Souza",
        contact_email="ana@example.com",
        description="Reembolso da consulta da Ana",
    )
    unrelated = new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=catalog_a[REIMBURSEMENT],
        beneficiary_identifier=OTHER,
        beneficiary_name="Bruno Lima",
    )
    delivery_enqueue(
        key="t1",
        purpose=Purpose.PROTOCOL,
        channel=Channel.EMAIL,
        recipient="ana@example.com",
        subject="Protocolo da Ana",
        body="Olá, Ana",
        operator_id=operator_a.pk,
        occurrence=occurrence,
    )
    login = BeneficiaryLogin(operator=operator_a, login="h1", cpf=CPF, name="Ana", email="a@x.br")
    login.set_password("s3nh@-l0nga-d3m41s")
    login.save()
    PushTarget.objects.create(
        operator=operator_a, application=app_a, beneficiary_identifier=CPF, kind="fcm", token="t"
    )
    return {
        "cards": [holder, second],
        "stranger": stranger,
        "occurrence": occurrence,
        "unrelated": unrelated,
        "login": login,
    }


def test_the_persons_data_is_gone_everywhere_and_the_protocols_stay(
    operator_a, supervisor_a, person
):
    occurrence = person["occurrence"]
    events_before = Event.objects.filter(occurrence=occurrence).count()

    with transaction.atomic():
        counts = person_anonymise(operator=operator_a, cpf=CPF, user=supervisor_a)

    assert counts == {"cards": 2, "occurrences": 1, "deliveries": 1, "logins": 1, "devices": 1}
    for card in Beneficiary.objects.filter(pk__in=[c.pk for c in person["cards"]]):
        assert (card.name, card.cpf, card.card) == (ANONYMOUS_NAME, "00000000000", f"ANON{card.pk}")
        assert card.birth_date is None and card.anonymised_at is not None
    assert not Contact.objects.filter(beneficiary__in=person["cards"]).exists()
    assert not Beneficiary.objects.filter(cpf=CPF).exists()
    history = Change.objects.filter(beneficiary__in=person["cards"], kind=ChangeKind.UPDATED)
    assert history.exists()
    assert all(
        values == [PLACEHOLDER, PLACEHOLDER] for c in history for values in c.fields.values()
    )
    recorded = Change.objects.filter(kind=ChangeKind.ANONYMISED)
    assert {(c.user, c.beneficiary_id) for c in recorded} == {
        (supervisor_a, c.pk) for c in person["cards"]
    }

    occurrence.refresh_from_db()
    assert occurrence.protocol and occurrence.registered_at
    assert (occurrence.beneficiary_identifier, occurrence.beneficiary_name) == ("", ANONYMOUS_NAME)
    assert occurrence.contact_email == "" and occurrence.description == PLACEHOLDER
    assert Event.objects.filter(occurrence=occurrence).count() == events_before
    delivery = Delivery.objects.get(key="t1")
    assert (delivery.recipient, delivery.body, delivery.subject) == (PLACEHOLDER, "", PLACEHOLDER)
    login = BeneficiaryLogin.objects.get(pk=person["login"].pk)
    assert (login.cpf, login.email, login.is_active) == ("00000000000", "", False)
    assert not login.check_password("s3nh@-l0nga-d3m41s")
    assert not PushTarget.objects.filter(beneficiary_identifier=CPF).exists()

    # Nobody else is touched.
    stranger = Beneficiary.objects.get(pk=person["stranger"].pk)
    assert stranger.name == "Bruno Lima"
    assert Occurrence.objects.get(pk=person["unrelated"].pk).beneficiary_name == "Bruno Lima"


def test_an_unknown_cpf_is_refused(operator_a, operator_b, supervisor_a, person):
    with pytest.raises(ValidationError), transaction.atomic():
        person_anonymise(operator=operator_b, cpf=CPF, user=supervisor_a)
    assert Beneficiary.objects.filter(cpf=CPF).count() == 2


def test_the_command_anonymises_and_says_what(operator_a, supervisor_a, person, capsys):
    call_command(
        "beneficiaries",
        "anonymise",
        "--operator",
        str(operator_a.pk),
        "--cpf",
        f"{CPF[:3]}.{CPF[3:6]}.{CPF[6:9]}-{CPF[9:]}",
        "--by",
        supervisor_a.email,
    )

    assert "2 cards" in capsys.readouterr().out
    assert not Beneficiary.objects.filter(cpf=CPF).exists()


def test_only_a_supervisor_of_the_operator_anonymises(operator_a, attendant_a, person, capsys):
    with pytest.raises(ValidationError), transaction.atomic():
        person_anonymise(operator=operator_a, cpf=CPF, user=attendant_a)
    with pytest.raises(CommandError, match="supervisor"):
        call_command(
            "beneficiaries", "anonymise", "--operator", str(operator_a.pk),
            "--cpf", CPF, "--by", attendant_a.email,
        )  # fmt: skip
    assert Beneficiary.objects.filter(cpf=CPF).count() == 2
