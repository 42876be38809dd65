"""The conversation with the beneficiary: the operator's public replies and the
beneficiary's own messages, each an event of the occurrence carrying its text and files.
Internal notes stay in ``records``: nothing here is internal, the beneficiary reads all of
it in the portal. A message of the beneficiary leaves the occurrence awaiting the
operator's answer; a reply (or the closing) answers it."""

from dataclasses import replace
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.notifications.services import reply_enqueue
from atende.occurrences.models import Attachment, Event, EventKind, Occurrence
from atende.occurrences.services.actors import Actor, actor_for_application
from atende.occurrences.services.core import _change, _person_works_it, _text_clean
from atende.occurrences.services.records import (
    attachments_kept,
    attachments_new,
    attachments_store,
)
from atende.tenancy.models import Application

MESSAGE_MAX = 5000
# Files one message carries.
FILES_MAX = 5


def occurrence_reply(
    *,
    actor: Actor,
    occurrence: Occurrence,
    text: str,
    uploads: list[UploadedFile] = (),
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Event:
    """A public reply of whoever works the occurrence: the beneficiary reads it and its
    files in the portal and is told by e-mail and push, in the reply's transaction."""
    text = _text_clean(text, "text", MESSAGE_MAX, required=True)
    at = at or timezone.now()
    files = _files(occurrence, uploads, user=actor.user, at=at)

    def check(current: Occurrence) -> None:
        _person_works_it(actor, current)
        current.awaiting_since = None
        attachments_store(files)

    with attachments_kept(files), transaction.atomic():
        event = _change(
            occurrence,
            actor=actor,
            kind=EventKind.REPLY,
            expected_version=expected_version,
            check=check,
            at=at,
            payload=_payload(text, files),
        )
        reply_enqueue(occurrence=occurrence, event=event, text=text)
    return event


def occurrence_customer_message(
    *,
    application: Application,
    occurrence: Occurrence,
    author: str,
    text: str,
    uploads: list[UploadedFile] = (),
    at: datetime | None = None,
) -> Event:
    """A message of the beneficiary on their own occurrence (the portal or the app checked
    that it is theirs). It waits for the operator's answer from then on."""
    text = _text_clean(text, "text", MESSAGE_MAX, required=True)
    if occurrence.closed_at is not None:
        raise ValidationError(
            _(
                "This request was closed and takes no more messages. To go on, open a new "
                "request and mention protocol %(protocol)s."
            )
            % {"protocol": occurrence.protocol},
            code="closed",
        )
    at = at or timezone.now()
    files = _files(occurrence, uploads, user=None, at=at)
    actor = replace(actor_for_application(application=application), speaks_for=author[:200])

    def check(current: Occurrence) -> None:
        current.awaiting_since = current.awaiting_since or at
        attachments_store(files)

    with attachments_kept(files):
        return _change(
            occurrence,
            actor=actor,
            kind=EventKind.CUSTOMER_MESSAGE,
            expected_version=None,
            check=check,
            at=at,
            payload=_payload(text, files),
        )


def _files(
    occurrence: Occurrence, uploads: list[UploadedFile], *, user: object, at: datetime
) -> list[tuple[Attachment, UploadedFile]]:
    uploads = list(uploads)
    if len(uploads) > FILES_MAX:
        raise ValidationError(
            {"files": _("Send at most %(n)d files in one message.") % {"n": FILES_MAX}}
        )
    try:
        return attachments_new(occurrence, uploads, user=user, at=at, public=True)
    except ValidationError as error:
        raise ValidationError({"files": error.messages}) from None


def _payload(text: str, files: list[tuple[Attachment, UploadedFile]]) -> dict:
    return {
        "text": text,
        "files": [{"token": a.token, "name": a.name} for a, _upload in files],
    }
