"""The attendant panel's pages: the queue (scoped, filtered, searched, counted), the
occurrence page offering only what the person may do, and each action through the
services, conflicts included."""

import re

import pytest
from validate_docbr import CPF

from atende.occurrences.models import Occurrence, State
from atende.occurrences.services import (
    actor_for_user,
    occurrence_fill_tab,
    occurrence_start_attendance,
)
from atende.testing.occurrences import (
    new_occurrence,
    receipts_filled,
    refund_approved,
    status_named,
    submission_key_of,
)

pytestmark = pytest.mark.django_db

CPF_MARIA = CPF().generate()


@pytest.fixture
def occurrence(app_a, catalog_a, attendant_a):
    from atende.catalog.presets import REIMBURSEMENT

    return new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=catalog_a[REIMBURSEMENT],
        beneficiary_name="Maria da Silva",
        beneficiary_identifier=CPF_MARIA,
    )


@pytest.fixture
def other(app_b, catalog_b, attendant_b):
    kind = catalog_b["Segunda via de conta"]
    return new_occurrence(user=attendant_b, application=app_b, occurrence_type=kind)


def test_the_queue_shows_only_the_operators_occurrences(client, attendant_a, occurrence, other):
    client.force_login(attendant_a)
    page = client.get("/painel/").content.decode()
    assert f'data-protocol="{occurrence.protocol}"' in page
    assert f'data-protocol="{other.protocol}"' not in page
    assert 'data-state-count="1">Novo <strong>1</strong>' in page  # B's is not counted
    assert client.get(f"/painel/{other.protocol}/").status_code == 404
    assert client.post(f"/painel/{other.protocol}/iniciar/", {"version": 1}).status_code == 404


def test_search_by_cpf_name_and_protocol(client, attendant_a, occurrence, app_a, catalog_a):
    from atende.catalog.presets import REIMBURSEMENT

    someone_else = new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=catalog_a[REIMBURSEMENT],
        beneficiary_name="João Souza",
    )
    client.force_login(attendant_a)
    for query in (
        CPF_MARIA,
        f"{CPF_MARIA[:3]}.{CPF_MARIA[3:6]}.{CPF_MARIA[6:9]}-{CPF_MARIA[9:]}",
        "maria da",
        occurrence.protocol,
    ):
        page = client.get("/painel/", {"q": query}).content.decode()
        assert f'data-protocol="{occurrence.protocol}"' in page, query
        assert f'data-protocol="{someone_else.protocol}"' not in page, query


def test_keyset_pages_go_on_from_the_last_row(client, attendant_a, occurrence, app_a, catalog_a):
    from atende.catalog.presets import REIMBURSEMENT
    from atende.occurrences import views

    newer = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
    )
    client.force_login(attendant_a)
    views.PAGE_SIZE, size = 1, views.PAGE_SIZE
    try:
        first = client.get("/painel/").content.decode()
        assert f'data-protocol="{newer.protocol}"' in first
        assert f"after=~{newer.pk}" in first
        second = client.get("/painel/", {"after": newer.pk}).content.decode()
        assert f'data-protocol="{occurrence.protocol}"' in second
    finally:
        views.PAGE_SIZE = size


def test_an_attendant_starts_changes_and_closes_from_the_page(
    client, attendant_a, occurrence, catalog_a
):
    client.force_login(attendant_a)
    page = client.get(f"/painel/{occurrence.protocol}/").content.decode()
    assert "Iniciar atendimento" in page
    assert "Alterar status" not in page  # only after starting
    client.post(f"/painel/{occurrence.protocol}/iniciar/", {"version": occurrence.version})
    occurrence.refresh_from_db()
    assert occurrence.state == State.IN_ATTENDANCE
    waiting = status_named(occurrence.occurrence_type, "Aguardando documentos")
    response = client.post(
        f"/painel/{occurrence.protocol}/status/",
        {"version": occurrence.version, "status": waiting.pk},
        follow=True,
    )
    assert "Status alterado." in response.content.decode()
    occurrence.refresh_from_db()
    approved = status_named(occurrence.occurrence_type, "Aprovado")
    refused = client.post(
        f"/painel/{occurrence.protocol}/encerrar/",
        {"version": occurrence.version, "status": approved.pk, "outcome_text": ""},
    )
    assert refused.status_code == 400
    assert "Este campo é obrigatório." in refused.content.decode()
    closing = {"version": occurrence.version, "status": approved.pk, "outcome_text": "Aprovado."}
    response = client.post(f"/painel/{occurrence.protocol}/encerrar/", closing, follow=True)
    # The receipts tab is required: the service refuses, and the page says which tab.
    assert "Preencha as abas obrigatórias antes de encerrar: Recibos." in response.content.decode()
    # The form comes back as it was typed.
    assert response.status_code == 400
    assert re.search(r"<textarea[^>]*>\s*Aprovado\.</textarea>", response.content.decode())
    occurrence.refresh_from_db()
    assert occurrence.state == State.IN_ATTENDANCE
    occurrence_fill_tab(
        actor=actor_for_user(user=attendant_a, operator=occurrence.operator_id),
        occurrence=occurrence,
        tab=occurrence.occurrence_type.tabs.get(name="Recibos"),
        data={"numero": "123", "data": "2026-11-20", "valor": "150.00", "tipo": "Consulta"},
    )
    occurrence.refresh_from_db()
    closing["version"] = occurrence.version
    response = client.post(f"/painel/{occurrence.protocol}/encerrar/", closing, follow=True)
    assert "Ocorrência encerrada." in response.content.decode()
    occurrence.refresh_from_db()
    assert (occurrence.state, occurrence.outcome_text) == (State.CLOSED, "Aprovado.")


def test_a_stale_page_is_told_someone_acted_first(client, attendant_a, supervisor_a, occurrence):
    version = occurrence.version
    occurrence_start_attendance(
        actor=actor_for_user(user=supervisor_a, operator=occurrence.operator_id),
        occurrence=occurrence,
        expected_version=version,
    )
    client.force_login(attendant_a)
    watch = client.get(f"/painel/{occurrence.protocol}/versao/", {"v": version}).content.decode()
    assert 'data-changed="true"' in watch
    response = client.post(
        f"/painel/{occurrence.protocol}/iniciar/", {"version": version}, follow=True
    )
    page = response.content.decode()
    assert "foi alterado por outra pessoa" in page
    assert "em atendimento por" in page  # the page as it is now: someone attends it
    assert Occurrence.objects.get(pk=occurrence.pk).attendant_id == supervisor_a.pk


def test_people_of_no_operator_have_no_panel(client, django_user_model):
    user = django_user_model.objects.create_user("sem@exemplo.com", "x", full_name="Sem")
    client.force_login(user)
    assert client.get("/painel/").status_code == 404


def test_the_sla_counts_down_and_marks_a_breach(client, attendant_a, occurrence):
    from datetime import timedelta

    from django.utils import timezone

    client.force_login(attendant_a)
    Occurrence.objects.filter(pk=occurrence.pk).update(
        sla_due_at=timezone.now() + timedelta(hours=3, minutes=5)
    )
    page = client.get(f"/painel/{occurrence.protocol}/").content.decode()
    assert "faltam 3\xa0horas" in page
    registered = timezone.localtime(occurrence.registered_at)
    assert f"<dd>{registered:%d/%m/%Y %H:%M:%S}</dd>" in page, "the moment to the second"
    Occurrence.objects.filter(pk=occurrence.pk).update(
        sla_due_at=timezone.now() - timedelta(days=2, hours=1)
    )
    page = client.get("/painel/", {"sla": "breached"}).content.decode()
    assert 'class="badge danger"' in page and "estourado há 2\xa0dias" in page


def test_the_receipts_tab_is_filled_twice_from_the_page(client, attendant_a, occurrence):
    client.force_login(attendant_a)
    occurrence_start_attendance(
        actor=actor_for_user(user=attendant_a, operator=occurrence.operator_id),
        occurrence=occurrence,
        expected_version=occurrence.version,
    )
    occurrence.refresh_from_db()
    tab = occurrence.occurrence_type.tabs.get(name="Recibos")
    url = f"/painel/{occurrence.protocol}/abas/{tab.pk}/"
    page = client.get(f"/painel/{occurrence.protocol}/").content.decode()
    assert '<span class="badge danger">obrigatória</span>' in page  # required, still empty
    bad = {
        f"tab{tab.pk}-version": occurrence.version,
        f"tab{tab.pk}-numero": "1",
        f"tab{tab.pk}-data": "2026-11-20",
        f"tab{tab.pk}-valor": "abc",
        f"tab{tab.pk}-tipo": "Consulta",
    }
    refused = client.post(url, bad)
    assert refused.status_code == 400
    assert not occurrence.tab_entries.exists()
    for number, value in (("101", "150,00"), ("102", "80.5")):
        occurrence.refresh_from_db()
        entry = {**bad, f"tab{tab.pk}-version": occurrence.version}
        entry.update({f"tab{tab.pk}-numero": number, f"tab{tab.pk}-valor": value})
        response = client.post(url, entry, follow=True)
        assert "Registro salvo em Recibos." in response.content.decode()
    page = client.get(f"/painel/{occurrence.protocol}/").content.decode()
    assert page.count("<tr data-entry>") == 2
    assert '<span class="badge">obrigatória</span>' in page
    assert "101" in page and "102" in page
    assert [e.data["valor"] for e in occurrence.tab_entries.order_by("pk")] == ["150.00", "80.50"]


def test_notes_attachments_routing_children_and_reopening(
    client, attendant_a, supervisor_a, occurrence, operator_a, catalog_a
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from atende.testing.factories import UnitFactory

    other_unit = UnitFactory(operator=operator_a, name="Auditoria")
    base = f"/painel/{occurrence.protocol}"
    client.force_login(attendant_a)
    client.post(f"{base}/notas/", {"text": "Beneficiária ligou pedindo prazo."})
    upload = SimpleUploadedFile("recibo.pdf", b"%PDF-1.4 recibo", content_type="application/pdf")
    client.post(f"{base}/anexos/", {"upload": upload})
    bad = SimpleUploadedFile("virus.exe", b"MZ", content_type="application/octet-stream")
    refused = client.post(f"{base}/anexos/", {"upload": bad})
    # The form comes back with the reason next to the file.
    assert refused.status_code == 400
    assert "Arquivos deste tipo não são aceitos" in refused.content.decode()
    assert occurrence.attachments.count() == 1
    page = client.get(f"{base}/").content.decode()
    assert "Beneficiária ligou pedindo prazo." in page
    attachment = occurrence.attachments.get()
    download = client.get(
        f"/api/v1/occurrences/{occurrence.protocol}/attachments/{attachment.token}"
    )
    assert (
        download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 recibo"
    )

    kind = occurrence.occurrence_type
    key = submission_key_of(page)
    sent = {"occurrence_type": kind.pk, "description": "Auditoria", "submission": key}
    child = client.post(f"{base}/filha/", sent)
    assert child.status_code == 302
    made = Occurrence.objects.get(parent=occurrence)
    assert child["Location"] == f"/painel/{made.protocol}/"
    # The same form sent again lands on the child it created.
    assert client.post(f"{base}/filha/", sent)["Location"] == child["Location"]
    assert Occurrence.objects.filter(parent=occurrence).count() == 1

    occurrence.refresh_from_db()
    client.post(f"{base}/iniciar/", {"version": occurrence.version})
    occurrence.refresh_from_db()
    client.post(f"{base}/encaminhar/", {"version": occurrence.version, "unit": other_unit.pk})
    occurrence.refresh_from_db()
    assert (occurrence.unit_id, occurrence.attendant_id) == (other_unit.pk, None)

    Occurrence.objects.filter(pk=occurrence.pk).update(unit=None)
    occurrence.refresh_from_db()
    client.force_login(supervisor_a)
    occurrence_fill_tab(
        actor=actor_for_user(user=supervisor_a, operator=occurrence.operator_id),
        occurrence=occurrence,
        tab=kind.tabs.get(name="Recibos"),
        data={"numero": "9", "data": "2026-11-20", "valor": "10", "tipo": "Outro"},
    )
    occurrence.refresh_from_db()
    approved = status_named(kind, "Reprovado")
    client.post(
        f"{base}/encerrar/",
        {
            "version": occurrence.version,
            "status": approved.pk,
            "outcome_text": "Fora da cobertura.",
        },
    )
    occurrence.refresh_from_db()
    assert occurrence.state == State.CLOSED
    client.force_login(attendant_a)
    assert "Reabrir" not in client.get(f"{base}/").content.decode()
    client.force_login(supervisor_a)
    assert "Reabrir" in client.get(f"{base}/").content.decode()
    client.post(f"{base}/reabrir/", {"version": occurrence.version, "reason": "Recurso aceito."})
    occurrence.refresh_from_db()
    assert occurrence.state != State.CLOSED
    assert "Recurso aceito." in client.get(f"{base}/").content.decode()


def test_state_counts_stop_at_the_cap(client, attendant_a, occurrence, monkeypatch):
    from atende.occurrences import views

    monkeypatch.setattr(views, "COUNT_CAP", 1)
    client.force_login(attendant_a)
    page = client.get("/painel/").content.decode()
    assert 'data-state-count="1">Novo <strong>1+</strong>' in page
    assert 'data-state-count="4"' not in page  # closed ones are not counted in the queue


def test_due_today_lists_what_is_still_within_todays_deadline(client, attendant_a, occurrence):
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    now = timezone.now()
    midnight = timezone.make_aware(
        datetime.combine(timezone.localdate() + timedelta(days=1), time.min)
    )
    Occurrence.objects.filter(pk=occurrence.pk).update(sla_due_at=now + (midnight - now) / 2)
    client.force_login(attendant_a)
    page = client.get("/painel/", {"sla": "today"}).content.decode()
    assert f'data-protocol="{occurrence.protocol}"' in page
    Occurrence.objects.filter(pk=occurrence.pk).update(sla_due_at=midnight + timedelta(hours=1))
    page = client.get("/painel/", {"sla": "today"}).content.decode()
    assert f'data-protocol="{occurrence.protocol}"' not in page


def test_the_queue_reads_a_fixed_number_of_queries(client, attendant_a, occurrence, app_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(attendant_a)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/painel/").status_code == 200
        return len(captured)

    one = queries()
    for _ in range(3):
        new_occurrence(
            user=attendant_a, application=app_a, occurrence_type=occurrence.occurrence_type
        )
    assert queries() == one


def test_a_name_search_shows_rows_without_counting_every_open_occurrence(
    client, attendant_a, occurrence
):
    client.force_login(attendant_a)
    page = client.get("/painel/", {"q": "Maria"}).content.decode()
    assert f'data-protocol="{occurrence.protocol}"' in page
    assert "data-state-count" not in page
    by_cpf = client.get("/painel/", {"q": CPF_MARIA}).content.decode()
    assert 'data-state-count="1">Novo <strong>1</strong>' in by_cpf


def test_every_id_on_the_occurrence_page_is_unique(client, attendant_a, occurrence):
    # Several forms share the page; a repeated id points a label at another form's field.
    client.force_login(attendant_a)
    client.post(f"/painel/{occurrence.protocol}/iniciar/", {"version": occurrence.version})
    page = client.get(f"/painel/{occurrence.protocol}/").content.decode()
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert "close_status" in ids and "status_status" in ids
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_queues_by_unit_subject_and_period(
    client, supervisor_a, attendant_a, unit_a, occurrence, app_a, catalog_a, operator_a
):
    from datetime import timedelta

    from django.utils import timezone

    from atende.testing.factories import UnitFactory

    other_unit = UnitFactory(operator=operator_a, name="Reembolso")
    kind = catalog_a["Atualização Cadastral"]
    elsewhere = new_occurrence(
        user=supervisor_a,
        application=app_a,
        occurrence_type=kind,
        subject=kind.subjects.get(name="Endereço"),
        unit=other_unit,
    )
    Occurrence.objects.filter(pk=occurrence.pk).update(unit=unit_a)
    Occurrence.objects.filter(pk=elsewhere.pk).update(
        registered_at=timezone.now() - timedelta(days=10)
    )
    client.force_login(supervisor_a)
    page = client.get("/painel/").content.decode()
    assert f'data-unit-count="{unit_a.pk}">Central A <strong>1</strong>' in page
    assert f'data-unit-count="{other_unit.pk}">Reembolso <strong>1</strong>' in page

    def shown(**query) -> set[str]:
        page = client.get("/painel/", query).content.decode()
        return {p for p in (occurrence.protocol, elsewhere.protocol) if f'"{p}"' in page}

    assert shown(unit=other_unit.pk) == {elsewhere.protocol}
    assert shown(subject=kind.subjects.get(name="Endereço").pk) == {elsewhere.protocol}
    today = timezone.localdate()
    assert shown(start=today.isoformat()) == {occurrence.protocol}
    assert shown(end=(today - timedelta(days=5)).isoformat()) == {elsewhere.protocol}
    refused = client.get("/painel/", {"start": today.isoformat(), "end": "2020-01-01"})
    assert "A data final não pode ser anterior" in refused.content.decode()
    # An attendant bound to a unit is offered only that unit and sees only its queue.
    client.force_login(attendant_a)
    page = client.get("/painel/").content.decode()
    assert f'data-unit-count="{unit_a.pk}"' in page
    assert f'data-unit-count="{other_unit.pk}"' not in page


def test_a_supervisor_assigns_the_occurrence_to_someone_who_sees_its_unit(
    client, attendant_a, supervisor_a, attendant_b, occurrence, operator_a, unit_a
):
    from django.core.exceptions import ValidationError

    from atende.occurrences.services import occurrence_route
    from atende.testing.factories import MembershipFactory, UnitFactory

    elsewhere = MembershipFactory(operator=operator_a, user__full_name="Rita de Outra Unidade")
    elsewhere.units.add(UnitFactory(operator=operator_a, name="Auditoria"))
    supervisor = actor_for_user(user=supervisor_a, operator=operator_a.pk)
    occurrence_route(actor=supervisor, occurrence=occurrence, unit=unit_a, expected_version=None)
    occurrence.refresh_from_db()
    base = f"/painel/{occurrence.protocol}"

    client.force_login(attendant_a)
    assert 'name="assignee"' not in client.get(f"{base}/").content.decode()
    refused = client.post(
        f"{base}/atribuir/",
        {"version": occurrence.version, "assignee": supervisor_a.pk},
        follow=True,
    )
    assert "Só um supervisor" in refused.content.decode()
    assert Occurrence.objects.get(pk=occurrence.pk).attendant_id is None

    client.force_login(supervisor_a)
    page = client.get(f"{base}/").content.decode()
    choices = re.search(r'<select name="assignee".*?</select>', page, re.S).group(0)
    assert attendant_a.full_name in choices
    assert elsewhere.user.full_name not in choices, "works in another unit"
    assert attendant_b.full_name not in choices, "another operator's"
    wrong = client.post(
        f"{base}/atribuir/", {"version": occurrence.version, "assignee": elsewhere.user.pk}
    )
    assert wrong.status_code == 400
    done = client.post(
        f"{base}/atribuir/",
        {"version": occurrence.version, "assignee": attendant_a.pk},
        follow=True,
    )
    assert "Ocorrência atribuída." in done.content.decode()
    occurrence.refresh_from_db()
    assert (occurrence.attendant_id, occurrence.state) == (attendant_a.pk, State.IN_ATTENDANCE)
    # The service refuses the same as the page, whoever calls it.
    with pytest.raises(ValidationError, match="não trabalha na unidade"):
        occurrence_start_attendance(
            actor=supervisor,
            occurrence=occurrence,
            assignee=elsewhere.user,
            expected_version=occurrence.version,
        )


def test_a_protocol_or_a_cpf_finds_its_occurrence_even_closed(
    client, supervisor_a, occurrence, app_a, catalog_a
):
    refund_approved(actor_for_user(user=supervisor_a, operator=app_a.operator_id), occurrence)
    client.force_login(supervisor_a)
    for query in (occurrence.protocol, CPF_MARIA, occurrence.protocol[:-2]):
        page = client.get("/painel/", {"q": query}).content.decode()
        assert f'data-protocol="{occurrence.protocol}"' in page, query
    # A name is searched among the open ones, as the rest of the queue.
    page = client.get("/painel/", {"q": "maria da"}).content.decode()
    assert f'data-protocol="{occurrence.protocol}"' not in page


def test_the_close_form_does_not_ask_what_the_status_says(client, attendant_a, occurrence):
    client.force_login(attendant_a)
    client.post(f"/painel/{occurrence.protocol}/iniciar/", {"version": occurrence.version})
    page = client.get(f"/painel/{occurrence.protocol}/").content.decode()
    assert "Encerrar com parecer" in page
    assert 'name="resolved"' not in page


def test_the_occurrence_page_reads_as_its_people_expect(
    client, attendant_a, supervisor_a, unit_a, app_a, catalog_a
):
    from atende.catalog.presets import REIMBURSEMENT
    from atende.occurrences.services import occurrence_route

    kind = catalog_a[REIMBURSEMENT]
    occurrence = new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=kind,
        contact_email="maria@example.com",
        contact_phone="+5561999990000",
        contract_number="CT-778",
        beneficiary_identifier=CPF_MARIA,
    )
    attendant = actor_for_user(user=attendant_a, operator=app_a.operator_id)
    occurrence_route(
        actor=attendant, occurrence=occurrence, unit=unit_a, expected_version=occurrence.version
    )
    occurrence_start_attendance(
        actor=attendant, occurrence=occurrence, expected_version=occurrence.version
    )
    receipts_filled(attendant, occurrence, data="2026-12-10")
    client.force_login(attendant_a)
    page = client.get(f"/painel/{occurrence.protocol}/").content.decode()
    cpf = f"{CPF_MARIA[:3]}.{CPF_MARIA[3:6]}.{CPF_MARIA[6:9]}-{CPF_MARIA[9:]}"
    for shown in ("maria@example.com", "(61) 99999-0000", "CT-778", "10/12/2026", f"({cpf})"):
        assert shown in page, shown
    assert 'href="tel:+5561999990000"' in page
    assert "2026-12-10" not in page
    assert "Você já está atendendo esta ocorrência." in page
    assert "já está em atendimento por" not in page
    assert f"→ {unit_a.name}" in page  # the routing says where to

    refund_approved(attendant, occurrence)
    client.force_login(supervisor_a)
    closed = client.get(f"/painel/{occurrence.protocol}/").content.decode()
    assert "reabra-o para trabalhar nele de novo" in closed
    assert "um supervisor precisa reabri-lo" not in closed
    assert "Adicionar nota" not in closed and "Anexar arquivo" not in closed


def test_the_page_names_the_state_after_the_status_only_where_it_says_more(
    client, attendant_a, app_a, catalog_a
):
    from atende.catalog.presets import REIMBURSEMENT

    attendant = actor_for_user(user=attendant_a, operator=app_a.operator_id)
    client.force_login(attendant_a)
    refund = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
    )
    occurrence_start_attendance(actor=attendant, occurrence=refund, expected_version=refund.version)
    refund.refresh_from_db()
    page = client.get(f"/painel/{refund.protocol}/").content.decode()
    badge = re.search(r'data-state="\d">.*?</span>(.*?)</span>', page, re.S).group(1)
    assert badge == f"{refund.status.internal_description} · Em atendimento"

    # A type whose status is named after its state ("Em atendimento"): said once.
    kind = next(
        k
        for k in catalog_a.values()
        if k.statuses.filter(internal_description="Em atendimento").exists()
    )
    named = new_occurrence(user=attendant_a, application=app_a, occurrence_type=kind)
    occurrence_start_attendance(actor=attendant, occurrence=named, expected_version=named.version)
    page = client.get(f"/painel/{named.protocol}/").content.decode()
    badge = re.search(r'data-state="\d">.*?</span>(.*?)</span>', page, re.S).group(1)
    assert badge == "Em atendimento"
