"""The call center's forms: starting a contact, a manifestation (the cascading lists of
seed 002 and up to three TISS guides), a pendency, sending the protocol, an interaction."""

from django import forms
from django.utils.translation import gettext_lazy as _

from atende.beneficiaries.models import ProcedureGroup
from atende.callcenter.models import CallCenterSettings, TissGuideKind
from atende.catalog.models import (
    Classification,
    ClassificationLevel,
    Level,
    OccurrenceType,
    Scale,
    Subject,
)
from atende.core.forms import date_field
from atende.notifications.models import Channel as DeliveryChannel
from atende.occurrences.models import Channel
from atende.tenancy.models import Application, Unit

GUIDE_ROWS = 3
EMPTY = [("", _("- Select an option -"))]


class StartForm(forms.Form):
    attendant_operator = forms.TypedChoiceField(label=_("Attendant's operator"), coerce=int)
    operator = forms.TypedChoiceField(label=_("Beneficiary's operator"), coerce=int)
    card = forms.CharField(label=_("Beneficiary code (card)"), max_length=30)
    ivr_code = forms.CharField(
        label=_("IVR beneficiary code"),
        required=False,
        disabled=True,
        help_text=_("Filled by the phone system."),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    call = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: object, operators: list, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        choices = [(o.pk, o.name) for o in operators]
        for name in ("attendant_operator", "operator"):
            self.fields[name].choices = choices if len(choices) == 1 else EMPTY + choices
            if len(choices) == 1:
                self.fields[name].initial = choices[0][0]


class ManifestationForm(forms.Form):
    """Each select lists the operator's active entries; the manifestation type and the
    category only narrow the subcategory (the service checks the whole branch)."""

    manifestation = forms.TypedChoiceField(
        label=_("Manifestation type"), coerce=int, required=False
    )
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, required=False)
    classification = forms.TypedChoiceField(label=_("Subcategory"), coerce=int)
    procedure_group = forms.TypedChoiceField(label=_("Procedure group"), coerce=int)
    urgency = forms.TypedChoiceField(label=_("Urgency classification"), coerce=int)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}))
    observation = forms.CharField(
        label=_("Observation"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown highlighted on the protocol."),
    )
    sentiment = forms.TypedChoiceField(label=_("Customer sentiment"), coerce=int)
    priority = forms.TypedChoiceField(label=_("Priority"), coerce=int)
    file = forms.FileField(label=_("File"), required=False)

    def __init__(self, *args: object, operator_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        branches = list(
            Classification.objects.filter(operator_id=operator_id, is_active=True).order_by(
                "level", "name"
            )
        )
        self.branches = branches
        for name, level in (
            ("manifestation", ClassificationLevel.TYPE),
            ("category", ClassificationLevel.CATEGORY),
            ("classification", ClassificationLevel.SUBCATEGORY),
        ):
            self.fields[name].choices = EMPTY + [
                (c.pk, c.name) for c in branches if c.level == level
            ]
            self.fields[name].widget.attrs["data-level"] = level
        self.fields["procedure_group"].choices = EMPTY + [
            (g.pk, g.name) for g in ProcedureGroup.objects.filter(operator_id=operator_id)
        ]
        levels = list(Level.objects.filter(operator_id=operator_id, is_active=True))
        for name, scale in (
            ("urgency", Scale.URGENCY),
            ("sentiment", Scale.SENTIMENT),
            ("priority", Scale.PRIORITY),
        ):
            self.fields[name].choices = EMPTY + [
                (lv.pk, lv.name) for lv in levels if lv.scale == scale
            ]
        for row in range(1, GUIDE_ROWS + 1):
            self.fields[f"guide_number_{row}"] = forms.CharField(
                label=_("Guide %(n)d: number") % {"n": row}, max_length=20, required=False
            )
            self.fields[f"guide_kind_{row}"] = forms.ChoiceField(
                label=_("Guide %(n)d: kind") % {"n": row},
                choices=EMPTY + TissGuideKind.choices,
                required=False,
            )
            self.fields[f"guide_password_{row}"] = forms.CharField(
                label=_("Guide %(n)d: authorisation password") % {"n": row},
                max_length=20,
                required=False,
            )

    def parents(self) -> dict[int, int]:
        """Each entry's parent, for the page's script to cascade the lists."""
        return {c.pk: c.parent_id for c in self.branches if c.parent_id}

    def guides(self) -> list[dict]:
        data = self.cleaned_data
        return [
            {
                "number": data.get(f"guide_number_{row}", ""),
                "kind": data.get(f"guide_kind_{row}", ""),
                "password": data.get(f"guide_password_{row}", ""),
            }
            for row in range(1, GUIDE_ROWS + 1)
        ]

    def guide_rows(self) -> list[list]:
        return [
            [self[f"guide_{part}_{row}"] for part in ("number", "kind", "password")]
            for row in range(1, GUIDE_ROWS + 1)
        ]

    @classmethod
    def initial_of(cls, occurrence: object) -> dict:
        if occurrence.classification_id is None:
            return {}
        subcategory = occurrence.classification
        initial = {
            "manifestation": subcategory.parent.parent_id,
            "category": subcategory.parent_id,
            "classification": subcategory.pk,
            "procedure_group": occurrence.procedure_group_id,
            "urgency": occurrence.urgency_id,
            "sentiment": occurrence.sentiment_id,
            "priority": occurrence.priority_id,
            "description": occurrence.description,
            "observation": occurrence.observation,
        }
        for row, guide in enumerate(occurrence.guides[:GUIDE_ROWS], start=1):
            for part in ("number", "kind", "password"):
                initial[f"guide_{part}_{row}"] = guide.get(part, "")
        return initial


class PendencyForm(forms.Form):
    occurrence_type = forms.ModelChoiceField(
        label=_("Type"), queryset=OccurrenceType.objects.none()
    )
    subject = forms.ModelChoiceField(
        label=_("Subject"), queryset=Subject.objects.none(), required=False
    )
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: object, operator_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        types = OccurrenceType.objects.filter(
            operator_id=operator_id, is_active=True, allow_attendance=True, has_place=False
        )
        self.fields["occurrence_type"].queryset = types
        self.fields["subject"].queryset = Subject.objects.filter(
            occurrence_type__in=types, is_active=True
        ).select_related("occurrence_type")
        self.fields["subject"].label_from_instance = lambda s: f"{s.occurrence_type} — {s.name}"
        self.fields["unit"].queryset = Unit.objects.filter(operator_id=operator_id, is_active=True)

    def clean(self) -> dict:
        data = super().clean()
        subject, kind = data.get("subject"), data.get("occurrence_type")
        if subject is not None and kind is not None and subject.occurrence_type_id != kind.pk:
            self.add_error("subject", _("Choose a subject of the chosen type."))
        return data


class SendForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Send by"),
        choices=[(DeliveryChannel.EMAIL, _("E-mail")), (DeliveryChannel.SMS, "SMS")],
    )
    recipient = forms.CharField(label=_("E-mail address or phone"), max_length=254)


class AuditForm(forms.Form):
    text = forms.CharField(
        label=_("Interaction with the beneficiary"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SearchForm(forms.Form):
    """Seed 002's beneficiary search: by CPF, card, phone or name, and birth date, within
    one operator or all of the attendant's."""

    q = forms.CharField(label=_("CPF, card, phone or name"), max_length=200, required=False)
    birth_date = date_field(_("Birth date"), required=False)
    search_operator = forms.TypedChoiceField(
        label=_("Operator"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: object, operators: dict[int, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        listed = sorted(operators.items(), key=lambda item: item[1])
        self.fields["search_operator"].choices = [("", _("All")), *listed]


class SettingsForm(forms.ModelForm):
    class Meta:
        model = CallCenterSettings
        fields = [
            "application",
            "occurrence_type",
            "refund_type",
            "refund_authorisation_type",
            "card_copy_type",
            "indication_type",
            "erp_url",
            "erp_token",
            "abandon_after_minutes",
            "missed_after_seconds",
        ]

    def __init__(self, *args: object, operator: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = Application.objects.filter(
            operator=operator, is_active=True
        )
        types = OccurrenceType.objects.filter(operator=operator, is_active=True, has_place=False)
        for name in (
            "occurrence_type",
            "refund_type",
            "refund_authorisation_type",
            "card_copy_type",
            "indication_type",
        ):
            self.fields[name].queryset = types


class ServiceForm(forms.Form):
    """A request of seed 003 for the contact's card: the type is the service's, the card
    is the contact's (shown, never typed)."""

    occurrence = forms.TypedChoiceField(label=_("Of the protocol"), coerce=int)
    subject = forms.ModelChoiceField(
        label=_("Subject"), queryset=Subject.objects.none(), required=False
    )
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(
        self, *args: object, occurrence_type: object, protocols: list, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["occurrence"].choices = [(o.pk, o.protocol) for o in protocols]
        self.fields["subject"].queryset = Subject.objects.filter(
            occurrence_type=occurrence_type, is_active=True
        )
        self.fields["unit"].queryset = Unit.objects.filter(
            operator_id=occurrence_type.operator_id, is_active=True
        )


class ContactDataForm(forms.Form):
    phones = forms.CharField(
        label=_("Phones (one per line, the main one first)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    emails = forms.CharField(
        label=_("E-mail addresses (one per line, the main one first)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    @staticmethod
    def lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]
