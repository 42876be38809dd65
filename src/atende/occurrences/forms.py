"""The attendant panel's forms: queue filters, and the change forms whose choices come
from the occurrence's own type."""

import re
import uuid
from collections.abc import Callable

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from atende.catalog.formdefs import FieldType
from atende.catalog.models import (
    CannedReply,
    Closing,
    Level,
    OccurrenceType,
    OutcomeReason,
    Scale,
    Status,
    Subject,
)
from atende.catalog.snapshots import type_snapshot_any
from atende.core.forms import MultipleFileField, date_field
from atende.notifications.services import occurrence_values
from atende.notifications.templating import template_render
from atende.occurrences.models import Channel, Occurrence, State
from atende.occurrences.services import (
    MESSAGE_MAX,
    OUTCOME_MAX,
    Submission,
    issuer_of,
    status_permitted,
)
from atende.tenancy.models import Membership, Role, Unit

# A creation form's one-time key (``{% submission_key %}``): sent twice, the form finds the
# protocol it issued the first time.
SUBMISSION_FIELD = "submission"
SUBMISSION_KEY = re.compile(r"[0-9a-f]{32}")


def submission_key_new() -> str:
    return uuid.uuid4().hex


def form_submission(data: object, sender: Model) -> Submission | None:
    """The form's ``Submission`` from its posted data, sent by ``sender`` (the person, or
    the beneficiary's portal login); None when the form carried no key (a page from before
    it had one)."""
    key = data.get(SUBMISSION_FIELD, "")
    if not SUBMISSION_KEY.fullmatch(key):
        return None
    return Submission(issuer=issuer_of(sender), key=f"form:{key}")


SLA_CHOICES = [("", _("Any")), ("breached", _("Breached")), ("today", _("Due today"))]


class QueueForm(forms.Form):
    q = forms.CharField(
        label=_("Protocol, CPF or name"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    state = forms.TypedChoiceField(
        label=_("State"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Not closed")), *State.choices],
    )
    occurrence_type = forms.ModelChoiceField(
        label=_("Type"), required=False, queryset=OccurrenceType.objects.none()
    )
    status = forms.ModelChoiceField(
        label=_("Status"), required=False, queryset=Status.objects.none()
    )
    subject = forms.ModelChoiceField(
        label=_("Subject"), required=False, queryset=Subject.objects.none()
    )
    unit = forms.ModelChoiceField(label=_("Unit"), required=False, queryset=Unit.objects.none())
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All")), *Channel.choices]
    )
    sla = forms.ChoiceField(label=_("SLA"), required=False, choices=SLA_CHOICES)
    priority = forms.ModelChoiceField(
        label=_("Priority"), required=False, queryset=Level.objects.none()
    )
    awaiting = forms.BooleanField(label=_("Awaiting our answer"), required=False)
    order = forms.ChoiceField(
        label=_("Order by"),
        required=False,
        choices=[
            ("", _("Newest first")),
            ("antigas", _("Oldest first")),
            ("prazo", _("SLA due first")),
            ("prioridade", _("Highest priority first")),
        ],
    )
    start = date_field(_("Registered from"), required=False)
    end = date_field(_("Registered until"), required=False)
    # Where the page starts: the last row of the page before, as its sort key and id.
    after = forms.CharField(required=False, max_length=80, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: object,
        operator_ids: list[int],
        unit_ids: frozenset[int] = frozenset(),
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        types = OccurrenceType.objects.filter(operator_id__in=operator_ids, is_active=True)
        self.fields["occurrence_type"].queryset = types.order_by("name")
        self.fields["subject"].queryset = (
            Subject.objects.filter(occurrence_type__in=types, is_active=True)
            .select_related("occurrence_type")
            .order_by("occurrence_type__name", "name")
        )
        self.fields["subject"].label_from_instance = lambda s: (
            f"{s.occurrence_type.name} — {s.name}"
        )
        units = Unit.objects.filter(operator_id__in=operator_ids, is_active=True)
        # People bound to units choose among theirs; the others among all of the operator.
        if unit_ids:
            units = units.filter(pk__in=unit_ids)
        self.fields["unit"].queryset = units.order_by("name")
        self.fields["status"].queryset = (
            Status.objects.filter(occurrence_type__in=types, is_active=True)
            .select_related("occurrence_type")
            .order_by("occurrence_type__name", "order")
        )
        self.fields["status"].label_from_instance = lambda s: (
            f"{s.occurrence_type.name} — {s.internal_description}"
        )
        # The call center's priorities (its manifestations carry one).
        self.fields["priority"].queryset = Level.objects.filter(
            operator_id__in=operator_ids, scale=Scale.PRIORITY, is_active=True
        ).order_by("-rank", "name")

    def clean(self) -> dict:
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end date must not be before the start date."))
        return data


def _offered(occurrence: object, actor: object, keep: Callable[[Status], bool]) -> QuerySet[Status]:
    """The active statuses of the occurrence's type that ``keep`` selects and this person
    may set (the service refuses the others), chosen from the catalog snapshot: the form
    reads only its choices, or only the one chosen."""
    operator = getattr(actor, "operator", None) or occurrence.operator
    snapshot = type_snapshot_any(operator=operator, type_id=occurrence.occurrence_type_id)
    return Status.objects.filter(
        pk__in=[
            s.pk
            for s in snapshot.statuses.values()
            if s.is_active and keep(s) and (actor is None or status_permitted(actor, s))
        ]
    )


class PanelForm(forms.Form):
    """A form of the occurrence page, where several forms share one page: each form's
    ids start with its own name, so no label points at another form's field."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        name = type(self).__name__.removesuffix("Form").lower()
        kwargs.setdefault("auto_id", f"{name}_%s")
        super().__init__(*args, **kwargs)


class SentOnceForm(PanelForm):
    """A panel form whose send must not happen twice (it issues a protocol, writes to the
    beneficiary, or adds a note to the log for good): it carries a one-time key
    (``SUBMISSION_FIELD``), a new one each time it is shown."""

    submission = forms.CharField(
        required=False, widget=forms.HiddenInput, initial=submission_key_new
    )


class StatusForm(PanelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ModelChoiceField(label=_("New status"), queryset=Status.objects.none())

    def __init__(
        self, *args: object, occurrence: object, actor: object = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].queryset = _offered(
            occurrence,
            actor,
            lambda s: s.closing == Closing.NONE and s.pk != occurrence.status_id,
        )


class CloseForm(PanelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ModelChoiceField(label=_("Closing status"), queryset=Status.objects.none())
    outcome_text = forms.CharField(
        label=_("Outcome (the beneficiary reads it)"), widget=forms.Textarea(attrs={"rows": 4})
    )
    reason = forms.ModelChoiceField(
        label=_("Reason"), required=False, queryset=OutcomeReason.objects.none()
    )
    duplicate_of = forms.CharField(
        label=_("Original protocol (when a duplicate)"), max_length=30, required=False
    )
    # Whether it was attended is the closing status's to say: no question of its own.
    attachment_url = forms.URLField(label=_("Attachment (address)"), required=False)

    def __init__(
        self, *args: object, occurrence: object, actor: object = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.occurrence = occurrence
        self.fields["status"].queryset = _offered(
            occurrence, actor, lambda s: s.closing != Closing.NONE
        )
        self.fields["reason"].queryset = OutcomeReason.objects.filter(
            operator_id=occurrence.operator_id, is_active=True
        )
        # Offered when a reason marks duplicates; a submitted form reads it as sent (no
        # query more on the closing's request).
        if not self.is_bound and not any(r.marks_duplicate for r in self.fields["reason"].queryset):
            del self.fields["duplicate_of"]

    def clean_duplicate_of(self) -> object:
        """The original, among the operator's protocols."""
        protocol = self.cleaned_data.get("duplicate_of", "").strip().upper()
        if not protocol:
            return None
        original = Occurrence.objects.filter(
            operator_id=self.occurrence.operator_id, protocol=protocol
        ).first()
        if original is None:
            raise forms.ValidationError(_("Protocol not found."))
        return original


class VersionForm(forms.Form):
    """The version a button acts on (take the occurrence, give it back to the queue): drawn
    in several forms of one page, so its input carries no id, which would repeat."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, auto_id=False, **kwargs)


def tab_form_class(
    fields: list[dict], *, versioned: bool = True, required: bool = False
) -> type[forms.Form]:
    """A form for one version of a tab's form definition. It only collects the values:
    ``entry_clean`` (through ``occurrence_fill_tab``) is what validates them, so the panel
    and the API accept and refuse the same entries. ``versioned``: with the occurrence's
    version (a change to it); ``required``: a missing answer is also told by the form, with
    the other fields of a page that has more than the tab (the portal's opening)."""
    attrs: dict[str, forms.Field] = (
        {"version": forms.IntegerField(widget=forms.HiddenInput)} if versioned else {}
    )
    for field in fields:
        attrs[field["key"]] = tab_field(field)
        attrs[field["key"]].required = required and field["required"]
    return type("TabForm", (forms.Form,), attrs)


def tab_field(field: dict) -> forms.Field:
    """The form field for one field of a form definition (a tab's, a specification's).
    Required is marked, not enforced here: entry_clean refuses the missing value."""
    label = f"{field['label']} *" if field["required"] else field["label"]
    common = {"label": label, "required": False}
    kind = field["type"]
    if kind == FieldType.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind in {FieldType.NUMBER, FieldType.MONEY}:
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    if kind == FieldType.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FieldType.SELECT:
        choices = [("", "—"), *((o, o) for o in field["options"])]
        return forms.ChoiceField(choices=choices, **common)
    if kind == FieldType.MULTI_SELECT:
        choices = [(o, o) for o in field["options"]]
        return forms.MultipleChoiceField(
            choices=choices, widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == FieldType.CHECKBOX:
        return forms.BooleanField(**common)
    if kind == FieldType.FILE:
        return forms.IntegerField(
            help_text=_("Number of an attachment of this occurrence."), min_value=1, **common
        )
    if kind == FieldType.EMAIL:
        return forms.CharField(widget=forms.EmailInput, **common)
    return forms.CharField(**common)


class NoteForm(SentOnceForm):
    """An internal note: sent twice, it would stay twice in the log, which keeps
    everything."""

    text = forms.CharField(label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 3}))


class DiscardForm(PanelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why it is discarded"),
        max_length=OUTCOME_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReplyForm(SentOnceForm):
    """A public reply: the beneficiary reads it in the portal. The operator's canned
    replies, filled in for this occurrence, are offered to start the text (the page's
    script copies the one chosen)."""

    text = forms.CharField(
        label=_("Reply to the beneficiary"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    files = MultipleFileField(label=_("Files sent with the reply"))

    def __init__(self, *args: object, occurrence: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        canned = list(
            CannedReply.objects.filter(operator_id=occurrence.operator_id, is_active=True)
        )
        values = occurrence_values(occurrence) if canned else {}
        self.canned = [(c.pk, c.title, template_render(c.text, values)) for c in canned]


class AttachmentForm(SentOnceForm):
    """An internal file: sent twice, it would be stored twice and logged twice."""

    upload = forms.FileField(label=_("File"))


class RouteForm(PanelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    unit = forms.ModelChoiceField(label=_("Send to unit"), queryset=Unit.objects.none())
    opinion = forms.CharField(
        label=_("Opinion (parecer)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: object, occurrence: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # A registration's routing needs its opinion (the service says so too).
        self.fields["opinion"].required = occurrence.occurrence_type.has_place
        self.fields["unit"].queryset = Unit.objects.filter(
            operator_id=occurrence.operator_id, is_active=True
        ).exclude(pk=occurrence.unit_id)


class AssignForm(PanelForm):
    """A supervisor hands the occurrence to someone who works the operator's queues and
    sees its unit (the service checks the same)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=Membership.objects.none())

    def __init__(self, *args: object, occurrence: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        members = Membership.objects.filter(
            operator_id=occurrence.operator_id,
            is_active=True,
            role__in=[Role.ATTENDANT, Role.SUPERVISOR],
        )
        if occurrence.unit_id is not None:
            members = members.filter(Q(units__isnull=True) | Q(units=occurrence.unit_id))
        self.fields["assignee"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, pk__in=members.values("user_id"))
            .exclude(pk=occurrence.attendant_id)
            .order_by("full_name", "email")
        )


class ReopenForm(PanelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why it is reopened"), widget=forms.Textarea(attrs={"rows": 2})
    )


class ChildForm(SentOnceForm):
    occurrence_type = forms.ModelChoiceField(
        label=_("Type of the child occurrence"), queryset=OccurrenceType.objects.none()
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: object, occurrence: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # A registration (a type with a place) is opened with its place: not from here.
        self.fields["occurrence_type"].queryset = OccurrenceType.objects.filter(
            operator_id=occurrence.operator_id, is_active=True, has_place=False
        ).order_by("name")
