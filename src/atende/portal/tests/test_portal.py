import io
import re
import time

import pytest
from django.core import mail
from django.utils import timezone
from pypdf import PdfReader

from atende.notifications.models import Delivery, Purpose
from atende.notifications.services import deliveries_drain
from atende.occurrences.models import Channel, Nature, Occurrence
from atende.occurrences.services import (
    actor_for_user,
    occurrence_change_status,
    occurrence_close,
    occurrence_start_attendance,
)
from atende.portal.services import beneficiary_login_create
from atende.portal.tests.conftest import CPF, HOME, PASSWORD
from atende.tenancy.models import Instance
from atende.testing.factories import ApplicationFactory
from atende.testing.occurrences import new_occurrence, status_named, submission_key_of

pytestmark = pytest.mark.django_db

OTHER_CPF = "11144477735"


def _occurrence(attendant, app, catalog, *, cpf=CPF, name="Atualização Cadastral"):
    return new_occurrence(
        user=attendant,
        application=app,
        occurrence_type=catalog[name],
        beneficiary_identifier=cpf,
        beneficiary_name="Beatriz",
    )


def _closed(attendant, occurrence, *, status, text, reason=None, resolved=None):
    actor = actor_for_user(user=attendant, operator=occurrence.operator_id)
    occurrence_start_attendance(actor=actor, occurrence=occurrence, expected_version=1)
    occurrence.refresh_from_db()
    occurrence_close(
        actor=actor,
        occurrence=occurrence,
        status=status,
        outcome_text=text,
        reason=reason,
        resolved=resolved,
        expected_version=occurrence.version,
    )
    occurrence.refresh_from_db()
    return occurrence


def test_a_wrong_password_is_refused_in_portuguese_and_the_right_one_lets_in(client, beatriz):
    wrong = client.post(f"{HOME}entrar/", {"cpf": CPF, "password": "errada"})
    assert wrong.status_code == 400
    assert "CPF ou senha incorretos" in wrong.content.decode()
    assert client.get(HOME).status_code == 302, "not signed in yet"
    right = client.post(f"{HOME}entrar/", {"cpf": CPF, "password": PASSWORD})
    assert right.status_code == 302 and right.url == HOME
    page = client.get(HOME)
    assert "Minhas solicitações" in page.content.decode()
    beatriz.refresh_from_db()
    assert beatriz.last_login is not None


def test_an_invalid_cpf_is_told_next_to_the_field(client, beatriz):
    response = client.post(f"{HOME}entrar/", {"cpf": "123.456.789-00", "password": PASSWORD})
    assert response.status_code == 400
    assert "CPF inválido" in response.content.decode()


def test_too_many_wrong_passwords_are_throttled(client, beatriz, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(f"{HOME}entrar/", {"cpf": CPF, "password": "errada"})
    response = client.post(f"{HOME}entrar/", {"cpf": CPF, "password": PASSWORD})
    assert response.status_code == 400
    assert "Muitas tentativas" in response.content.decode()


def test_a_person_with_several_logins_chooses_one(client, beatriz, operator_a):
    second = beneficiary_login_create(
        operator=operator_a,
        login="0009999",
        cpf=CPF,
        name="Beatriz Beneficiária",
        password=PASSWORD,
        contract_number="C-88",
    )
    response = client.post(f"{HOME}entrar/", {"cpf": CPF, "password": PASSWORD})
    assert response.url == f"{HOME}entrar/login/"
    page = client.get(response.url).content.decode()
    # Each number says what it is.
    assert "Login 0001234 · contrato C-77" in page and "Login 0009999 · contrato C-88" in page
    assert client.get(HOME).status_code == 302, "no login chosen yet"
    chosen = client.post(response.url, {"login": second.pk})
    assert chosen.status_code == 302
    assert client.session["portal_login"]["id"] == second.pk


def test_a_choice_of_login_left_waiting_expires(client, beatriz, operator_a, monkeypatch):
    beneficiary_login_create(
        operator=operator_a, login="0009999", cpf=CPF, name="Beatriz", password=PASSWORD
    )
    response = client.post(f"{HOME}entrar/", {"cpf": CPF, "password": PASSWORD})
    later = time.time() + 301
    monkeypatch.setattr("atende.portal.views.time.time", lambda: later)
    expired = client.post(response.url, {"login": beatriz.pk})
    assert expired.url == f"{HOME}entrar/"
    assert "portal_login" not in client.session


def test_the_list_holds_only_the_beneficiarys_own_production_occurrences(
    signed_in, attendant_a, app_a, catalog_a, operator_a
):
    mine = _occurrence(attendant_a, app_a, catalog_a)
    someone_else = _occurrence(attendant_a, app_a, catalog_a, cpf=OTHER_CPF)
    sandbox = ApplicationFactory(
        operator=operator_a, bundle="br.com.operadora.a", instance=Instance.SANDBOX
    )
    in_sandbox = _occurrence(attendant_a, sandbox, catalog_a)
    page = signed_in.get(HOME).content.decode()
    assert mine.protocol in page
    assert "Recebemos sua solicitação" in page, "the external description"
    assert "<td>Aberta</td>" not in page, "never the internal one"
    assert someone_else.protocol not in page
    assert in_sandbox.protocol not in page
    assert signed_in.get(f"{HOME}{someone_else.protocol}/").status_code == 404
    assert signed_in.get(f"{HOME}{in_sandbox.protocol}/").status_code == 404


def test_another_operators_occurrence_of_the_same_cpf_is_not_reachable(
    signed_in, attendant_b, app_b, catalog_b
):
    theirs = new_occurrence(
        user=attendant_b,
        application=app_b,
        occurrence_type=catalog_b["Segunda via de conta"],
        beneficiary_identifier=CPF,
    )
    assert theirs.protocol not in signed_in.get(HOME).content.decode()
    assert signed_in.get(f"{HOME}{theirs.protocol}/").status_code == 404
    assert signed_in.get(f"/portal/br.com.operadora.b/{theirs.protocol}/").status_code == 302


def test_the_detail_shows_only_visible_history_and_the_outcome_when_closed(
    signed_in, attendant_a, app_a, catalog_a, operator_a
):
    occurrence = _occurrence(attendant_a, app_a, catalog_a)
    url = f"{HOME}{occurrence.protocol}/"
    assert signed_in.get(f"{url}resposta.pdf").status_code == 404, "no answer yet"
    kind = catalog_a["Atualização Cadastral"]
    hidden = status_named(kind, "Em atendimento")
    hidden.visible_in_history = False
    hidden.save()
    reason = operator_a.outcome_reasons.get(description="Documentação incompleta")
    _closed(
        attendant_a,
        occurrence,
        status=status_named(kind, "Cancelada"),
        text="Faltou o comprovante de endereço “atualizado” — envie-o de novo.",
        reason=reason,
        resolved=False,
    )
    page = signed_in.get(url).content.decode()
    assert "Em atendimento" not in page, "a status marked invisible stays out"
    opened = timezone.localtime(occurrence.registered_at)
    assert f"<dd>{opened:%d/%m/%Y %H:%M:%S}</dd>" in page, "the moment to the second"
    assert "Solicitação não atendida" in page
    assert "Faltou o comprovante" in page
    assert "Documentação incompleta" in page


def test_the_justification_downloads_as_a_pdf_with_the_answer(
    signed_in, attendant_a, app_a, catalog_a, operator_a
):
    occurrence = _occurrence(attendant_a, app_a, catalog_a)
    kind = catalog_a["Atualização Cadastral"]
    _closed(
        attendant_a,
        occurrence,
        status=status_named(kind, "Cancelada"),
        text="Faltou o comprovante de endereço “atualizado” — envie-o de novo. ☺",
        reason=operator_a.outcome_reasons.get(description="Documentação incompleta"),
        resolved=False,
    )
    response = signed_in.get(f"{HOME}{occurrence.protocol}/resposta.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"resposta-{occurrence.protocol}.pdf" in response["Content-Disposition"]
    text = " ".join(
        (page.extract_text() or "") for page in PdfReader(io.BytesIO(response.content)).pages
    )
    text = re.sub(r"\s+", " ", text)
    assert occurrence.protocol in text
    assert "Operadora A" in text and "Registro ANS 417505" in text
    assert "Beatriz Beneficiária" in text
    assert "Solicitação não atendida" in text
    assert "Documentação incompleta" in text
    assert 'Faltou o comprovante de endereço "atualizado" - envie-o de novo. ?' in text


def test_a_new_request_gets_its_protocol_at_once(signed_in, catalog_a, app_a, beatriz):
    types = signed_in.get(f"{HOME}nova/").content.decode()
    reimbursement = catalog_a["Ocorrencia - Reembolso"]
    assert reimbursement.name in types
    url = f"{HOME}nova/?tipo={reimbursement.pk}"
    empty = signed_in.post(url, {"description": "", "subject": ""})
    assert empty.status_code == 400
    assert "Este campo é obrigatório" in empty.content.decode()
    assert not Occurrence.objects.exists()
    subject = reimbursement.subjects.get(name="Solicitação de Reembolso")
    response = signed_in.post(
        url,
        {
            "subject": subject.pk,
            "description": "Consulta com dermatologista em 10/11.",
            "contact_email": "beatriz@exemplo.com.br",
            "contact_phone": "",
        },
        follow=True,
    )
    occurrence = Occurrence.objects.get()
    assert (occurrence.beneficiary_identifier, occurrence.requester_identifier) == (CPF, CPF)
    assert occurrence.channel == Channel.WEB and occurrence.nature == Nature.SELF_SERVICE
    assert occurrence.application == app_a and occurrence.contract_number == "C-77"
    page = response.content.decode()
    assert f"Seu protocolo é {occurrence.protocol}" in page
    assert "Recebemos sua solicitação" in page


def test_a_type_not_offered_in_the_portal_cannot_be_opened(signed_in, catalog_a):
    kind = catalog_a["Atualização Cadastral"]
    kind.offered_in_portal = False
    kind.save()
    assert kind.name not in signed_in.get(f"{HOME}nova/").content.decode()
    response = signed_in.get(f"{HOME}nova/?tipo={kind.pk}")
    assert kind.name not in response.content.decode()
    posted = signed_in.post(f"{HOME}nova/?tipo={kind.pk}", {"description": "Mudei de endereço"})
    assert posted.status_code == 200 and "O que você precisa?" in posted.content.decode()
    assert not Occurrence.objects.exists()


def test_a_staff_session_grants_nothing_in_the_portal(client, attendant_a, beatriz):
    client.force_login(attendant_a)
    assert client.get(HOME).status_code == 302


def test_an_unknown_bundle_is_not_found(client):
    assert client.get("/portal/br.com.ninguem/entrar/").status_code == 404


def test_a_password_reset_by_e_mailed_link_works_once_and_ends_old_sessions(
    client, signed_in, beatriz
):
    other = type(client)()
    other.post(f"{HOME}senha/", {"cpf": CPF})
    delivery = Delivery.objects.get()
    assert delivery.purpose == Purpose.PORTAL_PASSWORD_RESET
    assert delivery.body == "" and "token" not in str(delivery.payload)
    assert deliveries_drain() == 1
    message = mail.outbox[0]
    assert message.to == ["beatriz@exemplo.com.br"]
    assert "0001234" in message.body
    link = next(w for w in message.body.split() if w.startswith("http"))
    path = link.removeprefix("http://127.0.0.1:8000")
    page = other.get(path, follow=True)
    assert "Escolha uma nova senha" in page.content.decode()
    # The token left the address at the first visit; the form lives at a token-free one.
    [(form_path, status)] = page.redirect_chain
    assert status == 302
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert token not in form_path and form_path.endswith("/definir/")
    weak = other.post(form_path, {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 400
    new = "Outra-senha-boa-2026"
    done = other.post(form_path, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    beatriz.refresh_from_db()
    assert beatriz.check_password(new)
    assert other.get(path).status_code == 400, "the link works once"
    assert other.get(form_path).status_code == 400, "and so does the form"
    assert signed_in.get(HOME).status_code == 302, "the old session ended with the password"


def test_a_reset_for_an_unknown_cpf_looks_the_same_and_sends_nothing(client, beatriz):
    known = client.post(f"{HOME}senha/", {"cpf": CPF}).content.decode()
    unknown = client.post(f"{HOME}senha/", {"cpf": OTHER_CPF}).content.decode()
    assert known.split('<main id="main">')[1] == unknown.split('<main id="main">')[1]
    assert Delivery.objects.count() == 1


def test_changing_status_shows_the_new_external_description(
    signed_in, attendant_a, app_a, catalog_a
):
    occurrence = _occurrence(attendant_a, app_a, catalog_a, name="Ocorrencia - Reembolso")
    actor = actor_for_user(user=attendant_a, operator=occurrence.operator_id)
    occurrence_start_attendance(actor=actor, occurrence=occurrence, expected_version=1)
    occurrence.refresh_from_db()
    occurrence_change_status(
        actor=actor,
        occurrence=occurrence,
        status=status_named(occurrence.occurrence_type, "Aguardando documentos"),
        expected_version=occurrence.version,
    )
    page = signed_in.get(f"{HOME}{occurrence.protocol}/").content.decode()
    assert "Aguardando seus documentos" in page


def test_the_list_of_requests_goes_on_in_pages(signed_in, attendant_a, app_a, catalog_a):
    made = [_occurrence(attendant_a, app_a, catalog_a) for _ in range(23)]
    first = signed_in.get(HOME).content.decode()
    assert first.count(f'href="{HOME}') - first.count(f'href="{HOME}nova/') >= 20
    assert made[-1].protocol in first and made[0].protocol not in first
    assert "Página 1 de 2" in first and '?pagina=2"' in first
    second = signed_in.get(HOME, {"pagina": 2}).content.decode()
    assert all(o.protocol in second for o in made[:3])
    assert made[-1].protocol not in second and "Página 2 de 2" in second


def test_an_occurrence_in_a_status_not_visible_stays_listed_with_its_last_visible_status(
    signed_in, attendant_a, app_a, catalog_a
):
    kind = catalog_a["Atualização Cadastral"]
    kind.statuses.update(visible_in_history=False)
    occurrence = _occurrence(attendant_a, app_a, catalog_a)
    page = signed_in.get(HOME).content.decode()
    # Listed (its protocol is the beneficiary's), in neutral words, no internal status.
    assert occurrence.protocol in page and "Em andamento" in page
    visible = status_named(kind, "Em atendimento")
    visible.visible_in_history = True
    visible.save()
    actor = actor_for_user(user=attendant_a, operator=occurrence.operator_id)
    occurrence_start_attendance(actor=actor, occurrence=occurrence, expected_version=1)
    occurrence.refresh_from_db()
    occurrence_change_status(  # back to a status not visible
        actor=actor,
        occurrence=occurrence,
        status=status_named(kind, "Aberta"),
        expected_version=occurrence.version,
    )
    page = signed_in.get(HOME).content.decode()
    assert visible.external_description in page
    assert "Recebemos sua solicitação" not in page


def test_a_request_sent_twice_gets_one_protocol(signed_in, catalog_a, beatriz):
    """A second tap on a slow phone, or Back and send: the form's one-time key finds the
    protocol the first send issued."""
    reimbursement = catalog_a["Ocorrencia - Reembolso"]
    url = f"{HOME}nova/?tipo={reimbursement.pk}"
    form = signed_in.get(url).content.decode()
    key = submission_key_of(form)
    sent = {
        "subject": reimbursement.subjects.get(name="Solicitação de Reembolso").pk,
        "description": "Consulta com dermatologista em 10/11.",
        "contact_email": "beatriz@exemplo.com.br",
        "contact_phone": "",
        "submission": key,
    }
    first = signed_in.post(url, sent)
    again = signed_in.post(url, sent)
    occurrence = Occurrence.objects.get()
    assert first.status_code == again.status_code == 302
    assert first.url == again.url and occurrence.protocol in again.url
    # A new key (the form opened again) is a new request.
    assert signed_in.post(url, {**sent, "submission": "0" * 32}).status_code == 302
    assert Occurrence.objects.count() == 2
