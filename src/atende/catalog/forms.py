"""The configurator's forms. They collect and type the values; the catalog services decide
what is stored (and their refusals land next to the field they concern)."""

import re

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from atende.catalog.formdefs import WITH_OPTIONS, FieldType
from atende.catalog.models import (
    STATUS_ROLES,
    AttendanceTab,
    BusinessCalendar,
    CannedReply,
    Classification,
    ClassificationLevel,
    Form,
    Level,
    OccurrenceType,
    OutcomeReason,
    ProtocolType,
    SlaPolicy,
    Status,
    StatusAction,
    Subject,
)
from atende.catalog.services import ACTION_FIELDS, STATUS_FIELDS
from atende.core.forms import date_field
from atende.occurrences.models import Channel
from atende.tenancy.models import Role, Unit

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class OperatorChoices:
    """Select fields that list only the operator's own records."""

    scoped: dict[str, object] = {}

    def __init__(self, *args: object, operator: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for name, model in self.scoped.items():
            if name in self.fields:
                self.fields[name].queryset = model.objects.for_operator(operator)
                self.fields[name].empty_label = "—"


class ProtocolTypeForm(forms.ModelForm):
    class Meta:
        model = ProtocolType
        fields = ["name", "scheme", "prefix", "origin_digit", "is_active"]


class ProtocolTypeEditForm(forms.ModelForm):
    class Meta:
        model = ProtocolType
        fields = ["name", "is_active"]


class OutcomeReasonForm(forms.ModelForm):
    class Meta:
        model = OutcomeReason
        fields = ["description", "marks_duplicate", "is_active"]


class UnitForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ["name", "code", "is_active"]


class CalendarForm(forms.ModelForm):
    workdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays worked"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = BusinessCalendar
        fields = ["name", "state", "municipality", "workdays", "opens_at", "closes_at"]
        widgets = {
            "opens_at": forms.TimeInput(attrs={"type": "time"}),
            "closes_at": forms.TimeInput(attrs={"type": "time"}),
        }


class DayOffRow(forms.Form):
    date = date_field(_("Date"))
    description = forms.CharField(label=_("Description"), max_length=120)
    every_year = forms.BooleanField(label=_("Every year"), required=False)


# The formset leaves its blank extra rows alone; the rows already there are validated.
DayOffRows = forms.formset_factory(DayOffRow, extra=3, can_delete=True, max_num=400)


class SlaPolicyForm(OperatorChoices, forms.ModelForm):
    scoped = {"calendar": BusinessCalendar}

    class Meta:
        model = SlaPolicy
        fields = ["name", "preset", "unit", "amount", "calendar"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # A preset fills the unit and amount in; without one they are required.
        self.fields["unit"].required = self.fields["amount"].required = False
        if self.instance.pk:
            del self.fields["preset"]


class OccurrenceTypeForm(OperatorChoices, forms.ModelForm):
    scoped = {"protocol_type": ProtocolType, "sla_policy": SlaPolicy}

    class Meta:
        model = OccurrenceType
        fields = [
            "name",
            "protocol_type",
            "sla_policy",
            "view_mode",
            "allow_attendance",
            "offered_in_portal",
            "has_place",
            "functionality_id",
            "functionality_description",
            "request_template_id",
            "request_template_description",
            "is_active",
        ]


class StatusForm(forms.ModelForm):
    allowed_roles = forms.MultipleChoiceField(
        label=_("Who may set it"),
        required=False,
        choices=[(role, Role(role).label) for role in STATUS_ROLES],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: whoever works the occurrence."),
    )

    allowed_units = forms.TypedMultipleChoiceField(
        label=_("Of the units"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: of any unit. Ticked: only members of these units set it."),
    )
    scoped: dict[str, object] = {}

    class Meta:
        model = Status
        fields = list(STATUS_FIELDS)
        widgets = {"color": forms.TextInput(attrs={"type": "color"})}

    def __init__(self, *args: object, operator: object = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["external_description"].required = False
        if operator is None or "allowed_units" not in self._meta.fields:
            del self.fields["allowed_units"]
        else:
            self.fields["allowed_units"].choices = [
                (u.pk, u.name) for u in Unit.objects.for_operator(operator).order_by("name")
            ]


class NewStatusRow(StatusForm):
    """One status of a new type's workflow: the rows left blank are skipped."""

    class Meta(StatusForm.Meta):
        fields = [f for f in STATUS_FIELDS if f not in {"order", "is_active", "allowed_units"}]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.empty_permitted = True
        self.use_required_attribute = False


NewStatusRows = forms.formset_factory(NewStatusRow, extra=3, max_num=20, validate_max=True)


class SubjectsField(forms.CharField):
    """Subjects typed one per line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def clean(self, value: str) -> list[str]:
        lines = [line.strip() for line in (super().clean(value) or "").splitlines()]
        return [line for line in lines if line]


class NewOccurrenceTypeForm(OccurrenceTypeForm):
    subjects = SubjectsField(label=_("Subjects"), required=False, help_text=_("One per line."))

    class Meta(OccurrenceTypeForm.Meta):
        fields = [f for f in OccurrenceTypeForm.Meta.fields if f != "is_active"]


class SubjectForm(OperatorChoices, forms.ModelForm):
    scoped = {"sla_policy": SlaPolicy, "default_unit": Unit, "form": Form}

    class Meta:
        model = Subject
        fields = [
            "name",
            "sla_policy",
            "default_unit",
            "required_document",
            "procedure",
            "form",
            "is_active",
        ]
        widgets = {"procedure": forms.Textarea(attrs={"rows": 6})}


class TabForm(OperatorChoices, forms.ModelForm):
    scoped = {"form": Form}

    class Meta:
        model = AttendanceTab
        fields = [
            "name",
            "form",
            "multiple_entries",
            "display",
            "required",
            "at_opening",
            "order",
            "is_active",
        ]


class ActionForm(forms.ModelForm):
    whatsapp_parameters = forms.CharField(
        label=_("WhatsApp template values"),
        required=False,
        help_text=_("The values of the template's {{1}}, {{2}}…, separated by commas."),
    )

    from_statuses = forms.TypedMultipleChoiceField(
        label=_("Only when coming from"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: from any status, the opening included."),
    )
    channels = forms.MultipleChoiceField(
        label=_("Only for occurrences of the channels"),
        required=False,
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any channel."),
    )

    class Meta:
        model = StatusAction
        fields = list(ACTION_FIELDS)
        widgets = {"body_template": forms.Textarea(attrs={"rows": 5})}

    # The kinds each setting means something for; the page shows a field only while the
    # kind chosen above is one of them (``shown_for``, read by core/_field.html and CSS).
    KIND_FIELDS = {
        "recipient": "email sms whatsapp hook",
        "subject_template": "email push",
        "body_template": "email sms push",
        "whatsapp_template": "whatsapp",
        "whatsapp_language": "whatsapp",
        "whatsapp_parameters": "whatsapp",
    }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["whatsapp_parameters"] = ", ".join(self.instance.whatsapp_parameters)
        for name, kinds in self.KIND_FIELDS.items():
            self.fields[name].shown_for = kinds
        if self.instance.pk:
            self.for_type(self.instance.status.occurrence_type)

    def for_type(self, occurrence_type: object) -> None:
        """The statuses an action of this type may come from: the type's own."""
        self.fields["from_statuses"].choices = [
            (s.pk, s.internal_description) for s in occurrence_type.statuses.order_by("order", "pk")
        ]

    def clean_whatsapp_parameters(self) -> list[str]:
        raw = self.cleaned_data.get("whatsapp_parameters") or ""
        return [part.strip() for part in raw.split(",") if part.strip()]


class FormNameForm(forms.Form):
    name = forms.CharField(label=_("Form name"), max_length=120)


class FieldRow(forms.Form):
    """One field of the form builder."""

    label = forms.CharField(label=_("Label"), max_length=120)
    key = forms.CharField(
        label=_("Key"),
        max_length=40,
        required=False,
        help_text=_(
            "Lowercase letters, digits and _; what the API and reports call it. "
            "Blank: made from the label."
        ),
    )
    # The select shows its first option on a blank row: as initial, an untouched blank
    # row does not count as a field being added.
    type = forms.ChoiceField(label=_("Type"), choices=FieldType.choices, initial=FieldType.TEXT)
    required = forms.BooleanField(label=_("Required"), required=False)
    options = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For selects: one option per line."),
    )

    def definition(self) -> dict:
        data = self.cleaned_data
        options = [o.strip() for o in data.get("options", "").splitlines() if o.strip()]
        return {
            "key": data["key"].strip() or key_from_label(data["label"]),
            "label": data["label"].strip(),
            "type": data["type"],
            "required": data["required"],
            "options": options if data["type"] in WITH_OPTIONS else [],
        }


def key_from_label(label: str) -> str:
    """'Data da visita' → 'data_da_visita': what a field is called when no key is typed."""
    words = re.findall(r"[a-z0-9]+", slugify(label).replace("-", " "))
    key = "_".join(words)[:40].strip("_")
    return key if key[:1].isalpha() else f"campo_{key}"[:40].strip("_")


FieldRows = forms.formset_factory(
    FieldRow, extra=1, can_order=True, can_delete=True, max_num=60, validate_max=True
)


def field_rows_initial(fields: list[dict]) -> list[dict]:
    return [{**f, "options": "\n".join(f["options"])} for f in fields]


class ClassificationForm(forms.ModelForm):
    """A new entry of seed 002's lists: without "belongs to" a manifestation type; under a
    type a category; under a category a subcategory."""

    scoped: dict[str, object] = {}  # present: the page passes the operator in

    class Meta:
        model = Classification
        fields = ["parent", "name"]

    def __init__(self, *args: object, operator: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        parents = (
            Classification.objects.for_operator(operator)
            .filter(
                level__in=[ClassificationLevel.TYPE, ClassificationLevel.CATEGORY], is_active=True
            )
            .select_related("parent")
            .order_by("level", "name")
        )
        self.fields["parent"].queryset = parents
        self.fields["parent"].empty_label = _("— none: a new manifestation type —")
        self.fields["parent"].label_from_instance = lambda c: (
            f"{c.parent.name} / {c.name}" if c.parent_id else c.name
        )


class ClassificationEditForm(forms.ModelForm):
    class Meta:
        model = Classification
        fields = ["name", "is_active"]


class LevelForm(forms.ModelForm):
    class Meta:
        model = Level
        fields = ["scale", "name", "rank"]


class CannedReplyForm(forms.ModelForm):
    class Meta:
        model = CannedReply
        fields = ["title", "text", "is_active"]
        widgets = {"text": forms.Textarea(attrs={"rows": 6})}


class LevelEditForm(forms.ModelForm):
    class Meta:
        model = Level
        fields = ["name", "rank", "is_active"]
