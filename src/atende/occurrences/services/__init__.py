"""The only way to change an occurrence: the panel, the API, the portal and the call center
all call these functions.

Each operation checks, then does (zulip ``actions``): inside one transaction it locks the
occurrence row, refuses a change made from a stale read (``expected_version``), applies the
configured workflow, updates the row and appends exactly one event. State is derived by
``state_derive`` from status and assignment and never set by hand."""

from atende.occurrences.services.actors import (
    WORKING_ROLES,
    Actor,
    Conflict,
    NotAllowed,
    actor_among,
    actor_for_application,
    actor_for_user,
    actors_for_user,
)
from atende.occurrences.services.conversation import (
    FILES_MAX,
    MESSAGE_MAX,
    occurrence_customer_message,
    occurrence_reply,
)
from atende.occurrences.services.core import (
    NOTE_MAX,
    OUTCOME_MAX,
    VISIBLE_KINDS,
    occurrence_relate,
    occurrence_work_refusal,
    report_code_for,
    state_derive,
    status_permitted,
)
from atende.occurrences.services.create import (
    CREATION_KEY_KEPT,
    Submission,
    SubmissionReused,
    created_once,
    creation_keys_forget,
    done_once,
    issuer_of,
    occurrence_create,
    occurrence_create_child,
    occurrence_reopen_as_new,
    submitted,
)
from atende.occurrences.services.lifecycle import (
    draft_check,
    draft_close,
    occurrence_change_status,
    occurrence_close,
    occurrence_discard,
    occurrence_missing_tabs,
    occurrence_promote,
    occurrence_release,
    occurrence_reopen,
    occurrence_route,
    occurrence_start_attendance,
    occurrence_start_refusal,
)
from atende.occurrences.services.records import (
    attachment_check,
    occurrence_add_attachment,
    occurrence_add_note,
    occurrence_attach_once,
    occurrence_fill_tab,
)
from atende.occurrences.services.sla import (
    sla_breaches_mark,
)

__all__ = [
    "CREATION_KEY_KEPT",
    "FILES_MAX",
    "MESSAGE_MAX",
    "NOTE_MAX",
    "OUTCOME_MAX",
    "VISIBLE_KINDS",
    "WORKING_ROLES",
    "Actor",
    "Conflict",
    "NotAllowed",
    "Submission",
    "SubmissionReused",
    "actor_among",
    "actor_for_application",
    "actor_for_user",
    "actors_for_user",
    "attachment_check",
    "created_once",
    "creation_keys_forget",
    "done_once",
    "draft_check",
    "draft_close",
    "issuer_of",
    "occurrence_add_attachment",
    "occurrence_add_note",
    "occurrence_attach_once",
    "occurrence_change_status",
    "occurrence_close",
    "occurrence_create",
    "occurrence_create_child",
    "occurrence_customer_message",
    "occurrence_discard",
    "occurrence_fill_tab",
    "occurrence_missing_tabs",
    "occurrence_promote",
    "occurrence_relate",
    "occurrence_release",
    "occurrence_reopen",
    "occurrence_reopen_as_new",
    "occurrence_reply",
    "occurrence_route",
    "occurrence_start_attendance",
    "occurrence_start_refusal",
    "occurrence_work_refusal",
    "report_code_for",
    "sla_breaches_mark",
    "state_derive",
    "status_permitted",
    "submitted",
]
