"""The conversation from the beneficiary's side: files at the opening, messages with files
on an open request, the operator's replies and their files, never the internal ones, and
the transcript in the written answer."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from atende.catalog.models import ViewMode
from atende.occurrences.models import Attachment, EventKind, Occurrence
from atende.occurrences.services import (
    occurrence_add_attachment,
    occurrence_close,
    occurrence_reply,
)
from atende.portal.tests.conftest import CPF, HOME
from atende.testing.occurrences import (
    attendance_started,
    new_occurrence,
    status_named,
    submission_key_of,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 laudo"
PROGRAM = b"\x7fELF\x02\x01 program"
KIND = "Atualização Cadastral"


@pytest.fixture
def mine(attendant_a, app_a, catalog_a, beatriz):
    return new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=catalog_a[KIND],
        beneficiary_identifier=CPF,
        beneficiary_name="Beatriz",
    )


def test_a_request_opened_with_files_keeps_them_and_a_program_is_refused_with_the_text(
    signed_in, catalog_a
):
    kind = catalog_a["Ocorrencia - Reembolso"]
    url = f"{HOME}nova/?tipo={kind.pk}"
    subject = kind.subjects.get(name="Solicitação de Reembolso")
    typed = {"subject": subject.pk, "description": "Recibo da consulta em anexo."}
    refused = signed_in.post(url, {**typed, "files": SimpleUploadedFile("recibo.pdf", PROGRAM)})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "recibo.pdf: O conteúdo do arquivo não é um arquivo PDF" in page
    assert "Recibo da consulta em anexo." in page
    assert not Occurrence.objects.exists()

    sent = signed_in.post(
        url,
        {
            **typed,
            "files": [
                SimpleUploadedFile("recibo.pdf", PDF),
                SimpleUploadedFile("pedido.pdf", PDF),
            ],
        },
        follow=True,
    )
    occurrence = Occurrence.objects.get()
    assert sorted(a.name for a in occurrence.attachments.all()) == ["pedido.pdf", "recibo.pdf"]
    assert all(a.public for a in occurrence.attachments.all())
    page = sent.content.decode()
    assert "Arquivos que você enviou" in page
    token = occurrence.attachments.get(name="recibo.pdf").token
    download = signed_in.get(f"{HOME}{occurrence.protocol}/anexos/{token}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF


def test_messages_go_both_ways_and_internal_files_stay_internal(
    signed_in, mine, attendant_a, app_a
):
    detail = f"{HOME}{mine.protocol}/"
    empty = signed_in.post(f"{detail}mensagens/", {"text": "  "})
    assert empty.status_code == 400
    assert "Este campo é obrigatório" in empty.content.decode()
    sent = signed_in.post(
        f"{detail}mensagens/",
        {"text": "Falta algum documento? ção 😀", "files": SimpleUploadedFile("rg.pdf", PDF)},
    )
    assert sent.status_code == 302
    mine.refresh_from_db()
    assert mine.awaiting_since is not None
    message = mine.events.get(kind=EventKind.CUSTOMER_MESSAGE)
    assert message.actor_name == "Beatriz Beneficiária"
    assert message.payload["text"] == "Falta algum documento? ção 😀"

    actor = attendance_started(attendant_a, mine)
    internal = occurrence_add_attachment(
        actor=actor, occurrence=mine, upload=SimpleUploadedFile("parecer.pdf", PDF)
    )
    occurrence_reply(
        actor=actor,
        occurrence=mine,
        text="Não falta nada, obrigado.",
        uploads=[SimpleUploadedFile("checklist.pdf", PDF)],
    )
    page = signed_in.get(detail).content.decode()
    assert page.index("Falta algum documento? ção 😀") < page.index("Não falta nada, obrigado.")
    assert "rg.pdf" in page and "checklist.pdf" in page
    assert "parecer.pdf" not in page
    assert signed_in.get(f"{detail}anexos/{internal.token}/").status_code == 404
    reply_file = Attachment.objects.get(name="checklist.pdf")
    assert signed_in.get(f"{detail}anexos/{reply_file.token}/").status_code == 200


def test_another_beneficiarys_conversation_is_not_reachable(
    signed_in, attendant_a, app_a, catalog_a
):
    theirs = new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=catalog_a[KIND],
        beneficiary_identifier="11144477735",
        beneficiary_name="Outra Pessoa",
    )
    actor = attendance_started(attendant_a, theirs)
    occurrence_reply(
        actor=actor,
        occurrence=theirs,
        text="Para outra pessoa",
        uploads=[SimpleUploadedFile("dela.pdf", PDF)],
    )
    token = Attachment.objects.get().token
    base = f"{HOME}{theirs.protocol}/"
    assert signed_in.get(f"{base}mensagens/").status_code == 404
    assert signed_in.post(f"{base}mensagens/", {"text": "Oi"}).status_code == 404
    assert signed_in.get(f"{base}anexos/{token}/").status_code == 404
    assert not theirs.events.filter(kind=EventKind.CUSTOMER_MESSAGE).exists()


def test_a_chat_answers_in_place_and_polls_while_open(signed_in, mine):
    type(mine.occurrence_type).objects.filter(pk=mine.occurrence_type_id).update(
        view_mode=ViewMode.CHAT
    )
    detail = f"{HOME}{mine.protocol}/"
    page = signed_in.get(detail).content.decode()
    assert 'hx-trigger="every 2s"' in page
    answer = signed_in.post(f"{detail}mensagens/", {"text": "Olá!"}, headers={"HX-Request": "true"})
    assert answer.status_code == 200
    fragment = answer.content.decode()
    assert fragment.startswith('<section id="talk"') and "Olá!" in fragment
    refused = signed_in.post(f"{detail}mensagens/", {"text": ""}, headers={"HX-Request": "true"})
    assert refused.status_code == 400
    assert "Este campo é obrigatório" in refused.content.decode()


def test_a_closed_request_takes_no_message_and_its_answer_has_the_transcript(
    signed_in, mine, attendant_a, app_a
):
    detail = f"{HOME}{mine.protocol}/"
    signed_in.post(f"{detail}mensagens/", {"text": "Quando fica pronto?"})
    actor = attendance_started(attendant_a, mine)
    occurrence_reply(actor=actor, occurrence=mine, text="Amanhã, sem falta.")
    mine.refresh_from_db()
    occurrence_close(
        actor=actor,
        occurrence=mine,
        status=status_named(mine.occurrence_type, "Concluída"),
        outcome_text="Cadastro atualizado.",
        expected_version=mine.version,
    )
    page = signed_in.get(detail).content.decode()
    assert "Esta solicitação foi encerrada e não recebe mais mensagens." in page
    assert "data-message-form" not in page
    late = signed_in.post(f"{detail}mensagens/", {"text": "Obrigada!"})
    assert late.status_code == 400
    assert mine.protocol in late.content.decode()
    pdf = signed_in.get(f"{detail}resposta.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Conversa" in text
    assert text.index("Quando fica pronto?") < text.index("Amanhã, sem falta.")


def test_a_message_sent_twice_is_written_once(signed_in, mine):
    detail = f"{HOME}{mine.protocol}/"
    page = signed_in.get(detail).content.decode()
    key = submission_key_of(page)
    for _ in range(2):
        sent = signed_in.post(f"{detail}mensagens/", {"text": "Chegou?", "submission": key})
        assert sent.status_code == 302
    assert mine.events.filter(kind=EventKind.CUSTOMER_MESSAGE).count() == 1
