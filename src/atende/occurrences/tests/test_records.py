"""Notes, attachments, tab entries, child occurrences and SLA breaches."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from atende.catalog.presets import REIMBURSEMENT
from atende.catalog.services import form_version_publish
from atende.core.scheduler import registered_jobs
from atende.occurrences.models import Attachment, EventKind, Occurrence
from atende.occurrences.services import (
    actor_for_user,
    occurrence_add_attachment,
    occurrence_add_note,
    occurrence_create_child,
    occurrence_fill_tab,
    occurrence_start_attendance,
    sla_breaches_mark,
)
from atende.testing.occurrences import new_occurrence

pytestmark = pytest.mark.django_db


@pytest.fixture
def reimbursement(catalog_a):
    return catalog_a[REIMBURSEMENT]


@pytest.fixture
def me(attendant_a, operator_a):
    return actor_for_user(user=attendant_a, operator=operator_a)


@pytest.fixture
def attended(attendant_a, app_a, reimbursement, me):
    occurrence = new_occurrence(user=attendant_a, application=app_a, occurrence_type=reimbursement)
    occurrence_start_attendance(actor=me, occurrence=occurrence, expected_version=1)
    return occurrence


def test_a_note_is_an_internal_event_not_shown_to_the_beneficiary(attended, me):
    event = occurrence_add_note(actor=me, occurrence=attended, text="  ligar amanhã ")
    assert (event.kind, event.report_code, event.visible_in_history) == (
        EventKind.NOTE,
        "",
        False,
    )
    assert event.payload == {"text": "ligar amanhã"}
    with pytest.raises(ValidationError):
        occurrence_add_note(actor=me, occurrence=attended, text="   ")


@override_settings(ATTACHMENT_MAX_BYTES=10)
def test_attachments_over_the_limit_or_of_a_refused_type_leave_nothing(attended, me, settings):
    with pytest.raises(ValidationError, match=r"10|MB"):
        occurrence_add_attachment(
            actor=me, occurrence=attended, upload=SimpleUploadedFile("a.pdf", b"x" * 11)
        )
    with pytest.raises(ValidationError, match=r"\.pdf"):
        occurrence_add_attachment(
            actor=me, occurrence=attended, upload=SimpleUploadedFile("a.html", b"<b>")
        )
    assert not Attachment.objects.exists()
    attachment = occurrence_add_attachment(
        actor=me, occurrence=attended, upload=SimpleUploadedFile("../../r.pdf", b"%PDF")
    )
    assert attachment.name == "r.pdf"
    assert attachment.file.name.startswith(f"attachments/{attended.operator_id}/")
    assert attachment.file.read() == b"%PDF"


def test_a_tab_entry_is_stored_with_the_form_version_it_was_made_with(attended, me, reimbursement):
    tab = reimbursement.tabs.get()
    entry = occurrence_fill_tab(
        actor=me,
        occurrence=attended,
        tab=tab,
        data={"numero": "1", "data": "2024-06-01", "valor": "10", "tipo": "Exame"},
    )
    form_version_publish(
        form=tab.form, fields=[{"key": "nota", "label": "Nota", "type": "text", "required": True}]
    )
    later = occurrence_fill_tab(actor=me, occurrence=attended, tab=tab, data={"nota": "ok"})
    entry.refresh_from_db()
    assert (entry.form_version.number, later.form_version.number) == (1, 2)
    assert entry.data["valor"] == "10.00"


def test_a_file_field_must_point_to_an_attachment_of_the_same_occurrence(
    attended, me, reimbursement, attendant_a, app_a
):
    tab = reimbursement.tabs.get()
    other = new_occurrence(user=attendant_a, application=app_a, occurrence_type=reimbursement)
    foreign = occurrence_add_attachment(
        actor=me, occurrence=other, upload=SimpleUploadedFile("a.pdf", b"%PDF")
    )
    base = {"numero": "1", "data": "2024-06-01", "valor": "10", "tipo": "Exame"}
    with pytest.raises(ValidationError) as refused:
        occurrence_fill_tab(
            actor=me, occurrence=attended, tab=tab, data={**base, "comprovante": foreign.pk}
        )
    assert "comprovante" in refused.value.message_dict
    mine = occurrence_add_attachment(
        actor=me, occurrence=attended, upload=SimpleUploadedFile("b.pdf", b"%PDF")
    )
    entry = occurrence_fill_tab(
        actor=me, occurrence=attended, tab=tab, data={**base, "comprovante": mine.pk}
    )
    assert entry.data["comprovante"] == mine.pk


def test_a_child_occurrence_carries_the_parent_and_the_parent_records_it(attended, me, catalog_a):
    authorization = catalog_a["Solicitação de Autorização"]
    child = occurrence_create_child(actor=me, parent=attended, occurrence_type=authorization)
    assert child.parent == attended
    assert child.beneficiary_identifier == attended.beneficiary_identifier
    last = attended.events.order_by("-seq").first()
    assert (last.kind, last.payload) == (EventKind.CHILD_CREATED, {"child": child.protocol})


def test_the_sla_job_marks_breaches_once_without_bumping_the_version(attended):
    Occurrence.objects.filter(pk=attended.pk).update(
        sla_due_at=timezone.now() - timedelta(minutes=1)
    )
    assert sla_breaches_mark() == 1
    assert sla_breaches_mark() == 0
    attended.refresh_from_db()
    assert attended.sla_breached_at is not None
    assert attended.version == 2
    event = attended.events.order_by("-seq").first()
    assert (event.kind, event.report_code, event.actor) == (EventKind.SLA_BREACHED, "", None)
    assert "occurrences.mark_sla_breaches" in {job.name for job in registered_jobs()}


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("boleto.pdf", b"MZ\x90\x00\x03\x00\x00\x00 This program cannot be run in DOS mode"),
        ("recibo.pdf", b"\x7fELF\x02\x01\x01\x00"),
        ("foto.png", b"GIF89a"),
        ("planilha.xlsx", b"%PDF-1.7"),
        ("nota.txt", b"MZ\x90\x00"),
        ("nota.txt", b"texto\x00binario"),
    ],
)
def test_a_file_whose_content_is_not_its_type_is_refused(attended, me, name, content):
    with pytest.raises(ValidationError, match="não é um arquivo"):
        occurrence_add_attachment(
            actor=me, occurrence=attended, upload=SimpleUploadedFile(name, content)
        )
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("recibo.pdf", b"%PDF-1.4\n"),
        ("foto.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        ("foto.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
        ("planilha.xlsx", b"PK\x03\x04\x14\x00"),
        ("antigo.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00"),
        ("nota.txt", "Reembolso de consulta, R$ 150,00".encode("latin-1")),
    ],
)
def test_files_of_the_accepted_types_pass(attended, me, name, content):
    attachment = occurrence_add_attachment(
        actor=me, occurrence=attended, upload=SimpleUploadedFile(name, content)
    )
    assert attachment.file.read() == content
