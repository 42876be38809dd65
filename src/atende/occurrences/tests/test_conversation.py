"""The conversation with the beneficiary, on the operator's side: public replies beside
internal notes, the beneficiary's messages leaving the occurrence awaiting an answer, the
reply telling them through the delivery pipeline, canned replies, and the queue's marker."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from atende.catalog.models import CannedReply
from atende.notifications.models import Channel, Delivery, DeliveryState, Purpose, PushTarget
from atende.occurrences.models import Attachment, Event, EventKind
from atende.occurrences.services import (
    NotAllowed,
    actor_for_user,
    occurrence_add_note,
    occurrence_close,
    occurrence_customer_message,
    occurrence_reply,
)
from atende.tenancy.models import Role
from atende.testing.factories import MembershipFactory
from atende.testing.occurrences import (
    attendance_started,
    new_occurrence,
    status_named,
    submission_key_of,
)

pytestmark = pytest.mark.django_db

CPF = "52998224725"
PDF = b"%PDF-1.4 comprovante"
PROGRAM = b"MZ\x90\x00 not a document"


def _opened(attendant, app, catalog, **fields):
    fields.setdefault("beneficiary_identifier", CPF)
    fields.setdefault("contact_email", "beatriz@exemplo.com.br")
    return new_occurrence(
        user=attendant,
        application=app,
        occurrence_type=catalog["Atualização Cadastral"],
        beneficiary_name="Beatriz",
        **fields,
    )


@pytest.fixture
def occurrence(attendant_a, app_a, catalog_a):
    return _opened(attendant_a, app_a, catalog_a)


def test_a_message_awaits_an_answer_and_the_reply_answers_it_and_tells_the_beneficiary(
    occurrence, attendant_a, app_a
):
    device = PushTarget.objects.create(
        operator_id=occurrence.operator_id,
        application=app_a,
        beneficiary_identifier=CPF,
        kind="fcm",
        token="fcm-token-1",
    )
    first = occurrence_customer_message(
        application=app_a, occurrence=occurrence, author="Beatriz", text="Enviei o RG?"
    )
    occurrence_customer_message(
        application=app_a,
        occurrence=occurrence,
        author="Beatriz",
        text="Segue o comprovante.",
        uploads=[SimpleUploadedFile("comprovante.pdf", PDF)],
    )
    occurrence.refresh_from_db()
    # Waiting since the first message not yet answered.
    assert occurrence.awaiting_since == first.at
    sent = Attachment.objects.get(occurrence=occurrence)
    assert sent.public and sent.uploaded_by is None

    actor = attendance_started(attendant_a, occurrence)
    reply = occurrence_reply(
        actor=actor,
        occurrence=occurrence,
        text="Recebido, obrigado. Veja o formulário anexo.",
        uploads=[SimpleUploadedFile("formulario.pdf", PDF)],
    )
    occurrence.refresh_from_db()
    assert occurrence.awaiting_since is None
    assert reply.kind == EventKind.REPLY and reply.actor == attendant_a
    assert [f["name"] for f in reply.payload["files"]] == ["formulario.pdf"]
    assert Attachment.objects.get(token=reply.payload["files"][0]["token"]).public
    told = {d.channel: d for d in Delivery.objects.filter(purpose=Purpose.REPLY)}
    assert set(told) == {Channel.EMAIL, Channel.PUSH}
    email = told[Channel.EMAIL]
    assert email.recipient == "beatriz@exemplo.com.br" and email.event_id == reply.pk
    assert occurrence.protocol in email.subject
    assert "Recebido, obrigado." in email.body
    assert f"/portal/{app_a.bundle}/{occurrence.protocol}/" in email.body
    assert told[Channel.PUSH].recipient == device.token
    assert email.state == DeliveryState.PENDING


def test_an_internal_note_tells_nobody_and_is_not_in_the_conversation(
    occurrence, attendant_a, client
):
    actor = attendance_started(attendant_a, occurrence)
    occurrence_add_note(actor=actor, occurrence=occurrence, text="Cliente difícil")
    assert not Delivery.objects.filter(purpose=Purpose.REPLY).exists()
    client.force_login(attendant_a)
    talk = client.get(f"/painel/{occurrence.protocol}/conversa/").content.decode()
    assert "Cliente difícil" not in talk
    assert "Nenhuma mensagem trocada com o beneficiário ainda" in talk


def test_only_who_attends_replies_and_a_closed_occurrence_takes_no_message(
    occurrence, attendant_a, supervisor_a, app_a
):
    not_yet = actor_for_user(user=attendant_a, operator=occurrence.operator_id)
    with pytest.raises(NotAllowed):
        occurrence_reply(actor=not_yet, occurrence=occurrence, text="Olá")
    actor = attendance_started(attendant_a, occurrence)
    occurrence_customer_message(
        application=app_a, occurrence=occurrence, author="Beatriz", text="Alô?"
    )
    occurrence.refresh_from_db()
    occurrence_close(
        actor=actor,
        occurrence=occurrence,
        status=status_named(occurrence.occurrence_type, "Concluída"),
        outcome_text="Cadastro atualizado.",
        expected_version=occurrence.version,
    )
    occurrence.refresh_from_db()
    # The closing answered.
    assert occurrence.awaiting_since is None
    boss = actor_for_user(user=supervisor_a, operator=occurrence.operator_id)
    with pytest.raises(ValidationError, match="encerrad"):
        occurrence_reply(actor=boss, occurrence=occurrence, text="Mais uma coisa")
    with pytest.raises(ValidationError) as refused:
        occurrence_customer_message(
            application=app_a, occurrence=occurrence, author="Beatriz", text="E agora?"
        )
    assert occurrence.protocol in refused.value.messages[0]
    assert not Event.objects.filter(occurrence=occurrence, payload__text="E agora?").exists()


def test_a_program_in_a_message_is_refused_and_nothing_is_written(occurrence, app_a):
    events = occurrence.events.count()
    with pytest.raises(ValidationError) as refused:
        occurrence_customer_message(
            application=app_a,
            occurrence=occurrence,
            author="Beatriz",
            text="Veja",
            uploads=[
                SimpleUploadedFile("ok.pdf", PDF),
                SimpleUploadedFile("fatura.pdf", PROGRAM),
            ],
        )
    assert "files" in refused.value.message_dict
    assert occurrence.events.count() == events
    assert not Attachment.objects.exists()
    occurrence.refresh_from_db()
    assert occurrence.awaiting_since is None


def test_the_panel_replies_keeps_the_text_when_refused_and_the_queue_marks_the_wait(
    client, occurrence, attendant_a, app_a, catalog_a
):
    quiet = _opened(attendant_a, app_a, catalog_a)
    occurrence_customer_message(
        application=app_a, occurrence=occurrence, author="Beatriz", text="Alguma novidade?"
    )
    client.force_login(attendant_a)
    waiting = client.get("/painel/", {"awaiting": "on"}).content.decode()
    assert occurrence.protocol in waiting and quiet.protocol not in waiting
    assert "aguarda nossa resposta" in waiting
    attendance_started(attendant_a, occurrence)
    url = f"/painel/{occurrence.protocol}/respostas/"
    refused = client.post(
        url, {"text": "Segue a segunda via.", "files": SimpleUploadedFile("via.pdf", PROGRAM)}
    )
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "Segue a segunda via." in page
    assert "não é um arquivo PDF" in page
    sent = client.post(
        url, {"text": "Segue a segunda via.", "files": SimpleUploadedFile("via.pdf", PDF)}
    )
    assert sent.status_code == 302
    occurrence.refresh_from_db()
    assert occurrence.awaiting_since is None
    assert occurrence.protocol not in client.get("/painel/", {"awaiting": "on"}).content.decode()
    talk = client.get(f"/painel/{occurrence.protocol}/conversa/").content.decode()
    assert talk.index("Alguma novidade?") < talk.index("Segue a segunda via.")
    assert "via.pdf" in talk


def test_canned_replies_are_configured_checked_and_offered_filled_in(
    client, occurrence, attendant_a, operator_a
):
    client.force_login(MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user)
    new = f"/configuracao/{occurrence.operator_id}/respostas/novo/"
    bad = client.post(new, {"title": "Documentos", "text": "Protocolo {{ numero }}"})
    assert bad.status_code == 400
    assert "Protocolo {{ numero }}" in bad.content.decode()
    assert not CannedReply.objects.exists()
    saved = client.post(
        new,
        {"title": "Documentos", "text": "Olá, {{ beneficiario }}: o protocolo {{ protocolo }}."},
    )
    assert saved.status_code == 302
    listed = client.get(f"/configuracao/{occurrence.operator_id}/respostas/").content.decode()
    assert "<td>Documentos</td><td>Sim</td>" in listed
    attendance_started(attendant_a, occurrence)
    client.force_login(attendant_a)
    page = client.get(f"/painel/{occurrence.protocol}/").content.decode()
    assert "Começar de uma resposta pronta" in page
    assert f"Olá, Beatriz: o protocolo {occurrence.protocol}." in page


def test_the_reply_reaches_the_beneficiarys_mailbox(occurrence, attendant_a, smtp):
    from atende.notifications.services import deliveries_drain

    actor = attendance_started(attendant_a, occurrence)
    occurrence_reply(actor=actor, occurrence=occurrence, text="Seu cadastro foi atualizado.")
    deliveries_drain()
    delivery = Delivery.objects.get(purpose=Purpose.REPLY)
    assert delivery.state == DeliveryState.DELIVERED, delivery.last_error
    [message] = smtp.messages
    assert message["To"] == "beatriz@exemplo.com.br"
    assert message["Subject"] == f"Resposta ao seu protocolo {occurrence.protocol}"
    body = message.get_content()
    assert body.startswith("Seu cadastro foi atualizado.")
    assert f"/{occurrence.protocol}/" in body


def _sent_twice(client, action: str, text: str) -> None:
    """The occurrence page's form for ``action`` sent twice with the one-time key the page
    gave it, as a browser without JavaScript or a network retry would."""
    page = client.get(action.rsplit("/", 2)[0] + "/").content.decode()
    form = page[page.index(f'action="{action}"') :]
    key = submission_key_of(form)
    for _ in range(2):
        sent = client.post(action, {"text": text, "submission": key})
        assert sent.status_code == 302


def test_a_reply_sent_twice_reaches_the_beneficiary_once(occurrence, attendant_a, client):
    """The reply form's one-time key: a second send (no JavaScript, a retry) finds the
    first, and nothing is written or sent again."""
    attendance_started(attendant_a, occurrence)
    client.force_login(attendant_a)
    _sent_twice(client, f"/painel/{occurrence.protocol}/respostas/", "Seu cadastro foi atualizado.")
    assert occurrence.events.filter(kind=EventKind.REPLY).count() == 1
    assert Delivery.objects.filter(purpose=Purpose.REPLY).count() == 1
    # The form shown again has a new key: another reply is sent.
    client.post(
        f"/painel/{occurrence.protocol}/respostas/",
        {"text": "Mais uma coisa.", "submission": "a" * 32},
    )
    assert occurrence.events.filter(kind=EventKind.REPLY).count() == 2


def test_a_note_sent_twice_is_written_once(occurrence, attendant_a, client):
    """The log keeps every event for good: the note form's one-time key keeps a second
    send (no JavaScript, a retry, Back and send) out of it."""
    client.force_login(attendant_a)
    _sent_twice(client, f"/painel/{occurrence.protocol}/notas/", "Beneficiária ligou de novo.")
    assert occurrence.events.filter(kind=EventKind.NOTE).count() == 1
    client.post(
        f"/painel/{occurrence.protocol}/notas/", {"text": "Outra nota.", "submission": "b" * 32}
    )
    assert occurrence.events.filter(kind=EventKind.NOTE).count() == 2


def test_an_internal_file_sent_twice_is_stored_once(occurrence, attendant_a, client):
    """The file form's one-time key: a second send of the same form (no JavaScript, a
    retry) stores no second copy and logs no second event."""
    client.force_login(attendant_a)
    action = f"/painel/{occurrence.protocol}/anexos/"
    page = client.get(f"/painel/{occurrence.protocol}/").content.decode()
    key = submission_key_of(page[page.index(f'action="{action}"') :])
    for _ in range(2):
        upload = SimpleUploadedFile("laudo.pdf", b"%PDF-1.4 laudo", "application/pdf")
        sent = client.post(action, {"upload": upload, "submission": key})
        assert sent.status_code == 302
    assert occurrence.attachments.count() == 1
    assert occurrence.events.filter(kind=EventKind.ATTACHMENT).count() == 1
    upload = SimpleUploadedFile("laudo2.pdf", b"%PDF-1.4 outro", "application/pdf")
    client.post(action, {"upload": upload, "submission": "c" * 32})
    assert occurrence.attachments.count() == 2
