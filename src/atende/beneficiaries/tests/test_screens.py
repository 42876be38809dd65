"""The registry's screens through the test client: search, a card's page (and its access
log), the configurator's import, groups, waiting periods and critique settings."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from atende.beneficiaries.imports import import_run
from atende.beneficiaries.models import (
    Access,
    Import,
    ImportState,
    Invoice,
    ProcedureGroup,
    RegistrySettings,
    WaitingPeriod,
)
from atende.beneficiaries.services import INVOICES, Source, children_upsert
from atende.catalog.presets import REIMBURSEMENT
from atende.tenancy.models import Role
from atende.testing.beneficiaries import card_upserted, cpf_numbers, csv_bytes
from atende.testing.factories import MembershipFactory
from atende.testing.occurrences import new_occurrence

pytestmark = pytest.mark.django_db

CPFS = cpf_numbers(4)


@pytest.fixture
def joao(operator_a):
    return card_upserted(
        operator_a,
        card="A1",
        cpf=CPFS[0],
        name="João da Silva",
        product_code="P1",
        product_name="Plano Ouro",
        contract_start="2026-01-10",
        emails=["joao@example.com"],
        phones=["+5511987654321", "+351 912 345 678"],
        addresses=[{"street": "Avenida Paulista", "number": "1000", "postal_code": "01310100"}],
    )


@pytest.fixture
def configurator(operator_a):
    return MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user


def test_the_search_page_finds_a_person_and_links_their_page(client, attendant_a, joao):
    client.force_login(attendant_a)

    response = client.get(reverse("beneficiaries:search"), {"q": "joao silva"})

    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("beneficiaries:detail", args=[joao.pk]) in page
    assert "Plano Ouro" in page and "Carteirinhas encontradas: 1" in page


def test_a_too_short_search_keeps_what_was_typed_and_says_why(client, attendant_a, joao):
    client.force_login(attendant_a)

    response = client.get(reverse("beneficiaries:search"), {"q": "jo"})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="jo"' in page and "pelo menos 3 caracteres" in page


def test_the_search_is_not_for_configurators_alone(client, configurator):
    client.force_login(configurator)

    assert client.get(reverse("beneficiaries:search")).status_code == 404


def test_a_cards_page_shows_the_record_and_logs_the_access(
    client, attendant_a, joao, app_a, catalog_a
):
    occurrence = new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=catalog_a[REIMBURSEMENT],
        beneficiary_identifier=CPFS[0],
        beneficiary_name="João da Silva",
    )
    client.force_login(attendant_a)

    response = client.get(reverse("beneficiaries:detail", args=[joao.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert occurrence.protocol in page and "joao@example.com" in page
    assert "(11) 98765-4321" in page and "+351 912 345 678" in page
    # The documents as people read them; what is stored stays digits.
    cpf = CPFS[0]
    assert f"<dd>{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}</dd>" in page
    assert "CEP 01310-100" in page
    access = Access.objects.get()
    assert (access.user, access.beneficiary, access.screen) == (
        attendant_a,
        joao,
        "beneficiary_page",
    )


def test_another_operators_card_is_not_found_nor_logged(client, attendant_b, joao):
    client.force_login(attendant_b)

    assert client.get(reverse("beneficiaries:detail", args=[joao.pk])).status_code == 404
    assert not Access.objects.exists()


def test_the_configurator_uploads_a_file_and_follows_it(client, configurator, operator_a):
    client.force_login(configurator)
    content = csv_bytes(
        [
            {"carteirinha": "B1", "cpf": CPFS[1], "nome": "Ana"},
            {"carteirinha": "B2", "cpf": "1", "nome": "Bia"},
        ]
    )
    url = reverse("beneficiaries:imports", args=[operator_a.pk])

    response = client.post(url, {"file": SimpleUploadedFile("lista.csv", content)})

    job = Import.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("beneficiaries:import", args=[operator_a.pk, job.pk])
    assert job.requested_by == configurator and job.state == ImportState.QUEUED
    queued = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in queued
    import_run(job_id=job.pk)
    done = client.get(response["Location"]).content.decode()
    assert "hx-trigger" not in done and "CPF inválido" in done
    problems = client.get(reverse("beneficiaries:import_problems", args=[operator_a.pk, job.pk]))
    assert b"".join(problems.streaming_content).decode().splitlines()[1].startswith("3;cpf;")


def test_a_file_that_is_not_csv_is_refused_on_the_form(client, configurator, operator_a):
    client.force_login(configurator)
    url = reverse("beneficiaries:imports", args=[operator_a.pk])

    response = client.post(url, {"file": SimpleUploadedFile("lista.xlsx", b"PK\x03\x04")})

    assert response.status_code == 400
    assert "arquivo .csv" in response.content.decode()
    assert not Import.objects.exists()


def test_imports_are_for_the_operators_configurators_only(client, attendant_a, operator_a):
    client.force_login(attendant_a)

    assert client.get(reverse("beneficiaries:imports", args=[operator_a.pk])).status_code == 404


def test_groups_waiting_periods_and_critique_settings_are_saved(
    client, configurator, operator_a, joao
):
    client.force_login(configurator)
    groups_url = reverse("beneficiaries:groups", args=[operator_a.pk])

    added = client.post(
        groups_url, {"code": "exc", "name": "Exames complexos", "ceiling": "demais"}
    )
    repeated = client.post(groups_url, {"code": "EXC", "name": "Outro", "ceiling": "demais"})
    group = ProcedureGroup.objects.get()
    product_url = reverse("beneficiaries:product", args=[operator_a.pk, joao.product_id])
    refused = client.post(product_url, {f"group_{group.pk}": "-1"})
    saved = client.post(product_url, {f"group_{group.pk}": "200"})
    settings = client.post(
        reverse("beneficiaries:critiques", args=[operator_a.pk]),
        {"overdue_days": "30", "suspended_blocks": "on"},
    )

    assert added.status_code == 302 and group.code == "EXC"
    assert repeated.status_code == 400 and 'value="Outro"' in repeated.content.decode()
    assert refused.status_code == 400 and 'value="-1"' in refused.content.decode()
    assert saved.status_code == 302
    assert WaitingPeriod.objects.get(product=joao.product).days == 200
    assert settings.status_code == 302
    stored = RegistrySettings.objects.get(operator=operator_a)
    assert (stored.overdue_days, stored.suspended_blocks, stored.cancelled_blocks) == (
        30,
        True,
        False,
    )
    page = client.get(reverse("beneficiaries:detail", args=[joao.pk]))
    assert page.status_code == 404  # a configurator alone does not read records


def test_the_cards_page_shows_the_waiting_period_and_its_flag(client, attendant_a, joao):
    group = ProcedureGroup.objects.create(
        operator=joao.operator, code="PAR", name="Parto", ceiling="parto"
    )
    WaitingPeriod.objects.create(product=joao.product, group=group, days=400)
    client.force_login(attendant_a)

    page = client.get(reverse("beneficiaries:detail", args=[joao.pk])).content.decode()

    end = date(2026, 1, 10).toordinal() + 399
    assert date.fromordinal(end).strftime("%d/%m/%Y") in page
    assert "acima do limite legal" in page


def test_a_supervisor_sees_the_history_and_who_saw_the_record(
    client, supervisor_a, attendant_a, joao
):
    client.force_login(attendant_a)
    as_attendant = client.get(reverse("beneficiaries:detail", args=[joao.pk])).content.decode()
    card_upserted(joao.operator, card="A1", cpf=CPFS[0], name="João da Silva Neto")
    client.force_login(supervisor_a)

    page = client.get(reverse("beneficiaries:detail", args=[joao.pk])).content.decode()

    assert "data-history" not in as_attendant and "data-accesses" not in as_attendant
    assert "data-history" in page and "João da Silva → João da Silva Neto" in page
    assert "<title>João da Silva Neto · Atende</title>" in page
    accesses = re.search(r"<table class=\"table\" data-accesses>.*?</table>", page, re.S)
    assert accesses.group(0).count("<tr>") == 3  # the header, the attendant, the supervisor


def test_the_history_shows_a_cards_rows_in_the_readers_words(client, supervisor_a, joao):
    invoice = {"card": "A1", "number": "F1", "competence": date(2026, 12, 1)}
    invoice |= {"due_on": date(2026, 12, 10), "amount": Decimal("389.90"), "paid_on": None}
    with transaction.atomic():
        children_upsert(operator=joao.operator, kind=INVOICES, items=[invoice], source=Source())
    client.force_login(supervisor_a)

    page = client.get(reverse("beneficiaries:detail", args=[joao.pk])).content.decode()

    history = re.search(r"<table class=\"table\" data-history>.*?</table>", page, re.S).group(0)
    assert (
        "<strong>fatura F1</strong>: — → número: F1, competência: 01/12/2026, "
        "vencimento: 10/12/2026, valor: 389,90, paga em: —"
    ) in history
    assert "{" not in history and "None" not in history


def test_a_supervisor_anonymises_a_person_after_typing_their_cpf(
    client, supervisor_a, attendant_a, joao
):
    url = reverse("beneficiaries:anonymise", args=[joao.pk])
    client.force_login(attendant_a)
    assert client.post(url, {"confirmation": CPFS[0]}).status_code == 404
    client.force_login(supervisor_a)

    wrong = client.post(url, {"confirmation": CPFS[1]})
    joao.refresh_from_db()
    assert joao.name == "João da Silva"
    # Refused on the person's page, with what was typed still in the field.
    assert wrong.status_code == 400
    page = wrong.content.decode()
    assert "nada foi feito" in page and "João da Silva" in page
    assert re.search(rf'name="confirmation" value="{re.escape(CPFS[1])}"', page)

    done = client.post(url, {"confirmation": CPFS[0]}, follow=True)
    joao.refresh_from_db()
    assert joao.anonymised_at is not None and joao.name == "Pessoa anonimizada"
    assert (
        "Anonimizar" not in done.content.decode().split("<main", 1)[1].split("Quem viu")[0][-200:]
    )


def test_an_occurrences_page_links_its_beneficiarys_card(
    client, attendant_a, joao, app_a, catalog_a
):
    of_joao = new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=catalog_a[REIMBURSEMENT],
        beneficiary_identifier=CPFS[0],
    )
    of_nobody = new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=catalog_a[REIMBURSEMENT],
        beneficiary_identifier=CPFS[3],
    )
    client.force_login(attendant_a)

    linked = client.get(reverse("occurrences:detail", args=[of_joao.protocol])).content.decode()
    unknown = client.get(reverse("occurrences:detail", args=[of_nobody.protocol])).content.decode()

    assert f'href="{reverse("beneficiaries:detail", args=[joao.pk])}" data-registry' in linked
    assert "data-registry" not in unknown


def test_the_cards_page_says_how_late_the_oldest_unpaid_invoice_is(client, attendant_a, joao):
    due = timezone.localdate() - timedelta(days=70)
    Invoice.objects.create(
        operator=joao.operator,
        beneficiary=joao,
        number="F70",
        competence=due.replace(day=1),
        due_on=due,
        amount=Decimal("10.00"),
    )
    client.force_login(attendant_a)

    page = client.get(reverse("beneficiaries:detail", args=[joao.pk])).content.decode()

    assert 'data-overdue="70"' in page
    assert 'data-critique="fatura_vencida"' in page
