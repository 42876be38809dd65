"""What is added to an occurrence without changing its state: notes, attachments, tab entries."""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.catalog.formdefs import FieldType, entry_clean
from atende.catalog.models import (
    AttendanceTab,
)
from atende.catalog.services import form_current_version
from atende.occurrences.models import (
    Attachment,
    Event,
    EventKind,
    Occurrence,
    TabEntry,
)
from atende.occurrences.services.actors import Actor
from atende.occurrences.services.core import NOTE_MAX, _change, _person_works_it, _text_clean
from atende.occurrences.services.create import Submission, done_once


def occurrence_add_note(
    *,
    actor: Actor,
    occurrence: Occurrence,
    text: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Event:
    text = _text_clean(text, "text", NOTE_MAX, required=True)
    return _change(
        occurrence,
        actor=actor,
        kind=EventKind.NOTE,
        expected_version=expected_version,
        check=None,
        at=at,
        payload={"text": text},
    )


def occurrence_add_attachment(
    *,
    actor: Actor,
    occurrence: Occurrence,
    upload: UploadedFile,
    expected_version: int | None = None,
    at: datetime | None = None,
    public: bool = False,
) -> Attachment:
    return _attached(
        actor=actor,
        occurrence=occurrence,
        upload=upload,
        expected_version=expected_version,
        at=at,
        public=public,
    )[0]


def occurrence_attach_once(
    *, submission: Submission | None, actor: Actor, occurrence: Occurrence, upload: UploadedFile
) -> tuple[Attachment, bool]:
    """An internal file attached unless ``submission`` (a form's one-time key, an API
    Idempotency-Key) already attached one: the file (the first one on a retry) and whether
    it was attached now. The log keeps every event for good, so a file sent twice would
    stay twice."""
    attached: list[Attachment] = []

    def attach() -> Event:
        attachment, event = _attached(actor=actor, occurrence=occurrence, upload=upload)
        attached.append(attachment)
        return event

    event, now = done_once(submission, occurrence, attach)
    if now:
        return attached[0], True
    return Attachment.objects.get(
        occurrence_id=event.occurrence_id, token=event.payload["attachment"]
    ), False


def _attached(
    *,
    actor: Actor,
    occurrence: Occurrence,
    upload: UploadedFile,
    expected_version: int | None = None,
    at: datetime | None = None,
    public: bool = False,
) -> tuple[Attachment, Event]:
    at = at or timezone.now()
    files = attachments_new(occurrence, [upload], user=actor.user, at=at, public=public)
    (attachment, _upload) = files[0]
    with attachments_kept(files):
        event = _change(
            occurrence,
            actor=actor,
            kind=EventKind.ATTACHMENT,
            expected_version=expected_version,
            check=lambda current: attachments_store(files),
            at=at,
            payload={"attachment": attachment.token, "name": attachment.name},
        )
    return attachment, event


def attachments_new(
    occurrence: Occurrence,
    uploads: list[UploadedFile],
    *,
    user: object,
    at: datetime,
    public: bool,
) -> list[tuple[Attachment, UploadedFile]]:
    """The occurrence's new attachments, each checked (name, size, content) before
    anything is written; ``attachments_store`` writes them under the change's lock."""
    return [
        (
            Attachment(
                operator_id=occurrence.operator_id,
                occurrence=occurrence,
                token=secrets.token_hex(16),
                name=name,
                content_type=content_type,
                size=upload.size,
                public=public,
                uploaded_by=user,
                uploaded_at=at,
            ),
            upload,
        )
        for upload in uploads
        for name, content_type in [attachment_check(upload)]
    ]


def attachments_store(files: list[tuple[Attachment, UploadedFile]]) -> None:
    for attachment, upload in files:
        attachment.file.save(attachment.token, upload, save=False)
        attachment.save()


@contextmanager
def attachments_kept(files: list[tuple[Attachment, UploadedFile]]) -> Iterator[None]:
    """Around the change that stores ``files``: when it fails, its rows were rolled back
    and the files written must not stay behind without them."""
    try:
        yield
    except BaseException:
        for attachment, _upload in files:
            if attachment.file.name:
                attachment.file.storage.delete(attachment.file.name)
        raise


def attachment_check(upload: UploadedFile) -> tuple[str, str]:
    name = PurePath((upload.name or "").replace("\\", "/")).name.strip()[:200]
    suffix = PurePath(name).suffix.lower()
    allowed = settings.ATTACHMENT_TYPES
    if suffix not in allowed:
        raise ValidationError(
            {
                "file": _("Files of this type are not accepted. Send one of: %(types)s.")
                % {"types": ", ".join(sorted(allowed))}
            }
        )
    if upload.size == 0 or upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("The file must have content and at most %(mb)d MB.")
                % {"mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)}
            }
        )
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    if not _content_is(suffix, head):
        raise ValidationError(
            {
                "file": _(
                    "The file's content is not a %(type)s file, whatever its name says. "
                    "Send the document itself."
                )
                % {"type": suffix.lstrip(".").upper()}
            }
        )
    return name, allowed[suffix]


# What a file of each accepted type begins with: a program renamed .pdf is refused by its
# content. Office formats are OLE2 (.doc, .xls) or ZIP (.docx, .xlsx, .odt, .ods)
# containers; text is anything without NUL bytes that is not a program.
HEAD_BYTES = 4096
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_SIGNATURES = {
    ".pdf": (b"%PDF",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".doc": (_OLE2,),
    ".xls": (_OLE2,),
    ".docx": (_ZIP,),
    ".xlsx": (_ZIP,),
    ".odt": (_ZIP,),
    ".ods": (_ZIP,),
}
# Windows (MZ), Linux (ELF) and macOS (Mach-O) programs, and scripts with an interpreter.
_PROGRAMS = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"#!")


def _content_is(suffix: str, head: bytes) -> bool:
    if head.startswith(_PROGRAMS):
        return False
    if suffix in _SIGNATURES:
        return head.startswith(_SIGNATURES[suffix])
    return b"\x00" not in head


def occurrence_fill_tab(
    *,
    actor: Actor,
    occurrence: Occurrence,
    tab: AttendanceTab,
    data: dict,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> TabEntry:
    """Validate an entry against the tab's current form version and store it with it."""
    if tab.occurrence_type_id != occurrence.occurrence_type_id or not tab.is_active:
        raise ValidationError({"tab": _("Choose an active tab of this occurrence type.")})
    version = form_current_version(tab.form)
    cleaned = entry_clean(version.fields, data)
    files = [
        f["key"] for f in version.fields if f["type"] == FieldType.FILE and f["key"] in cleaned
    ]
    at = at or timezone.now()
    entry = TabEntry(
        operator_id=occurrence.operator_id,
        occurrence=occurrence,
        tab=tab,
        form_version=version,
        data=cleaned,
        created_by=actor.user,
        created_at=at,
    )

    def check(current: Occurrence) -> None:
        _person_works_it(actor, current)
        tokens = set(current.attachments.values_list("pk", flat=True))
        missing = {
            key: [_("Attach the file to this occurrence first.")]
            for key in files
            if cleaned[key] not in tokens
        }
        if missing:
            raise ValidationError(missing)
        entry.save()

    _change(
        occurrence,
        actor=actor,
        kind=EventKind.TAB_ENTRY,
        expected_version=expected_version,
        check=check,
        at=at,
        payload={"tab": tab.pk, "form_version": version.number},
    )
    return entry
