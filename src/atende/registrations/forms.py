"""The forms of the Registro de Atendimento screens. They only read what is typed; the
services check it (the CEP, the coordinates, the locality's unit, the document)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from atende.catalog.models import OccurrenceType, OutcomeReason, Status, Subject
from atende.catalog.services import form_current_version
from atende.core.forms import date_field
from atende.occurrences.forms import tab_field
from atende.occurrences.models import Channel
from atende.registrations.models import (
    BillingRule,
    Incident,
    IncidentReason,
    LocalityRule,
    OrderOutcome,
    OrderPriority,
    OrderState,
    RegistrationSettings,
    RequesterKind,
    ServiceType,
)
from atende.registrations.services import PLACE_FIELDS
from atende.tenancy.models import BRAZILIAN_STATES, Application, Unit


class PlaceForm(forms.Form):
    """Local de ocorrência."""

    street = forms.CharField(label=_("Street"), max_length=200, required=False)
    number = forms.CharField(label=_("Number"), max_length=20, required=False)
    complement = forms.CharField(label=_("Complement"), max_length=100, required=False)
    neighbourhood = forms.CharField(label=_("Neighbourhood"), max_length=100, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    state = forms.ChoiceField(
        label=_("State (UF)"), choices=[("", "—"), *BRAZILIAN_STATES], required=False
    )
    postal_code = forms.CharField(
        label=_("Postal code (CEP)"),
        max_length=9,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    reference = forms.CharField(label=_("Reference point"), max_length=200, required=False)
    latitude = forms.CharField(
        label=_("Latitude"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    longitude = forms.CharField(
        label=_("Longitude"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    property_registration = forms.CharField(
        label=_("Property registration (matrícula)"), max_length=30, required=False
    )

    PLACE = PLACE_FIELDS

    def place(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in self.PLACE}


def subjects_with_place(operator_ids: set[int]) -> forms.ModelChoiceField:
    return Subject.objects.filter(
        occurrence_type__operator_id__in=operator_ids,
        occurrence_type__has_place=True,
        occurrence_type__is_active=True,
        is_active=True,
    ).select_related("occurrence_type__operator")


class SpecificationChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Subject) -> str:
        return f"{obj.occurrence_type.name} — {obj.name}"


class RegistrationForm(PlaceForm):
    """Inserir RA: Dados gerais, Local de ocorrência, Solicitante, in one form."""

    subject = SpecificationChoice(
        label=_("Type and specification"), queryset=Subject.objects.none()
    )
    application = forms.ModelChoiceField(
        label=_("Application"), queryset=Application.objects.none()
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    description = forms.CharField(
        label=_("Description"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 4})
    )
    document = forms.FileField(label=_("Required document"), required=False)
    requester_name = forms.CharField(label=_("Requester's name"), max_length=200, required=False)
    requester_identifier = forms.CharField(label=_("CPF"), max_length=20, required=False)
    requester_phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    requester_email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)
    requester_unit = forms.ModelChoiceField(
        label=_("Or a unit of the operator"), queryset=Unit.objects.none(), required=False
    )
    manual_protocol = forms.CharField(
        label=_("Protocol from a paper form (manual numbering)"),
        max_length=30,
        required=False,
        help_text=_("Blank: a new protocol is issued."),
    )
    # Set once the person has seen the duplicate check's matches and opens a new one anyway.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    GENERAL = ("subject", "application", "channel", "description", "document", "manual_protocol")
    REQUESTER = (
        "requester_name",
        "requester_identifier",
        "requester_phone",
        "requester_email",
        "requester_unit",
    )

    def __init__(
        self,
        *args: object,
        operator_ids: set[int],
        chosen: str = "",
        path: str = "",
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = subjects_with_place(operator_ids)
        # Choosing the specification brings its form's fields (htmx swaps that part in).
        self.fields["subject"].widget.attrs.update(
            {
                "hx-get": path,
                "hx-trigger": "change",
                "hx-target": "#spec-form",
                "hx-select": "#spec-form",
                "hx-swap": "outerHTML",
            }
        )
        self.spec_keys: list[str] = []
        subject = (
            self.fields["subject"].queryset.filter(pk=chosen).select_related("form").first()
            if str(chosen).isdigit()
            else None
        )
        if subject is not None and subject.form_id:
            for field in form_current_version(subject.form).fields:
                self.fields[f"form_{field['key']}"] = tab_field(field)
                self.spec_keys.append(field["key"])
        self.fields["application"].queryset = Application.objects.filter(
            operator_id__in=operator_ids, is_active=True
        ).select_related("operator")
        self.fields["requester_unit"].queryset = Unit.objects.filter(
            operator_id__in=operator_ids, is_active=True
        )
        applications = list(self.fields["application"].queryset[:2])
        if len(applications) == 1:
            self.fields["application"].initial = applications[0].pk

    def requesters(self) -> list[dict]:
        data = self.cleaned_data
        if data.get("requester_unit") is not None:
            return [{"kind": RequesterKind.UNIT, "unit": data["requester_unit"]}]
        return [
            {
                "name": data.get("requester_name", ""),
                "identifier": data.get("requester_identifier", ""),
                "phone": data.get("requester_phone", ""),
                "email": data.get("requester_email", ""),
            }
        ]

    def opening_data(self) -> dict:
        """The specification's form as typed (checked by the service)."""
        return {key: self.cleaned_data.get(f"form_{key}") for key in self.spec_keys}

    def spec_fields(self) -> list:
        return [self[f"form_{key}"] for key in self.spec_keys]

    def sections(self) -> list[tuple[str, list]]:
        return [
            (_("General data"), [self[name] for name in self.GENERAL if name in self.fields]),
            (_("Place of occurrence"), [self[name] for name in self.PLACE if name in self.fields]),
            (_("Requester"), [self[name] for name in self.REQUESTER if name in self.fields]),
        ]


class SimplifiedForm(RegistrationForm):
    """Inserir RA simplificado: for the phone — specification, phone, address, description."""

    KEPT = {
        "subject",
        "application",
        "description",
        "street",
        "number",
        "neighbourhood",
        "city",
        "reference",
        "requester_phone",
        "confirmed",
    }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in self.KEPT:
                del self.fields[name]
        self.fields["requester_phone"].required = True


class PromoteForm(PlaceForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    subject = forms.ModelChoiceField(label=_("Specification"), queryset=Subject.objects.none())

    field_order = ["version", "subject"]

    def __init__(self, *args: object, occurrence_type: OccurrenceType, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = occurrence_type.subjects.filter(is_active=True)


class AttachForm(forms.Form):
    """Drawn once for each matching registration on the report's page: its inputs carry no
    id, which would repeat."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    target = forms.CharField(widget=forms.HiddenInput, max_length=30)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, auto_id=False, **kwargs)


class DiscardForm(forms.Form):
    """On the report's page beside the opening form, so its ids are its own."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, auto_id="discard_%s", **kwargs)


class RequesterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=RequesterKind.choices, initial=RequesterKind.PERSON
    )
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    identifier = forms.CharField(label=_("CPF"), max_length=20, required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none(), required=False)

    def __init__(self, *args: object, operator_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(operator_id=operator_id, is_active=True)


class GeneralForm(forms.Form):
    """Atualizar RA, dados gerais."""

    subject = forms.ModelChoiceField(label=_("Specification"), queryset=Subject.objects.none())
    description = forms.CharField(
        label=_("Description"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: object, occurrence_type: OccurrenceType, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = occurrence_type.subjects.filter(is_active=True)


class RouteManyForm(forms.Form):
    occurrences = forms.ModelMultipleChoiceField(
        label=_("Registrations"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    unit = forms.ModelChoiceField(label=_("Send to unit"), queryset=Unit.objects.none())
    opinion = forms.CharField(
        label=_("Opinion (parecer)"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: object, queryset: object, operator_ids: set[int], **kwargs: object):
        super().__init__(*args, **kwargs)
        self.fields["occurrences"].queryset = queryset
        self.fields["occurrences"].label_from_instance = lambda o: o.protocol
        self.fields["unit"].queryset = Unit.objects.filter(
            operator_id__in=operator_ids, is_active=True
        ).select_related("operator")


class SettingsForm(forms.ModelForm):
    class Meta:
        model = RegistrationSettings
        fields = ["application", "sms_type", "distance_m"]

    def __init__(self, *args: object, operator: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = Application.objects.filter(
            operator=operator, is_active=True
        )
        self.fields["sms_type"].queryset = OccurrenceType.objects.filter(
            operator=operator, is_active=True, has_place=True
        )


class LocalityRuleForm(forms.ModelForm):
    class Meta:
        model = LocalityRule
        fields = ["subject", "city", "neighbourhood", "unit"]

    def __init__(self, *args: object, operator: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"] = SpecificationChoice(
            label=_("Specification"), queryset=subjects_with_place({operator.pk})
        )
        self.fields["unit"].queryset = Unit.objects.filter(operator=operator, is_active=True)
        self.fields["neighbourhood"].help_text = _("Blank: the whole city.")


class BillingRuleForm(forms.ModelForm):
    class Meta:
        model = BillingRule
        fields = ["subject", "unit"]

    def __init__(self, *args: object, operator: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"] = SpecificationChoice(
            label=_("Specification"), queryset=subjects_with_place({operator.pk})
        )
        self.fields["unit"].queryset = Unit.objects.filter(operator=operator, is_active=True)


class ProcedureFileForm(forms.Form):
    file = forms.FileField(label=_("File"))


class OrderForm(forms.Form):
    """Nova ordem de serviço, on the registration."""

    service_type = forms.ModelChoiceField(
        label=_("Service type"), queryset=ServiceType.objects.none()
    )
    unit = forms.ModelChoiceField(
        label=_("Executing unit"),
        queryset=Unit.objects.none(),
        required=False,
        help_text=_("Blank: the service type's unit."),
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=OrderPriority.choices, coerce=int, initial=OrderPriority.NORMAL
    )
    scheduled_for = date_field(_("Scheduled for"), required=False)

    def __init__(self, *args: object, occurrence: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_type"].queryset = ServiceType.objects.filter(
            subject_id=occurrence.subject_id, is_active=True
        ).select_related("default_unit")
        self.fields["unit"].queryset = Unit.objects.filter(
            operator_id=occurrence.operator_id, is_active=True
        )


class OrderMoveForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    state = forms.ChoiceField(choices=OrderState.choices, widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", "—"), *OrderOutcome.choices], required=False
    )
    opinion = forms.CharField(
        label=_("Opinion (parecer)"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ServiceTypeForm(forms.ModelForm):
    class Meta:
        model = ServiceType
        fields = ["subject", "name", "default_unit", "expected_hours"]

    def __init__(self, *args: object, operator: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"] = SpecificationChoice(
            label=_("Specification"), queryset=subjects_with_place({operator.pk})
        )
        self.fields["default_unit"].queryset = Unit.objects.filter(
            operator=operator, is_active=True
        )


class ReactivateForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ManualBlockForm(forms.Form):
    occurrence_type = forms.ModelChoiceField(
        label=_("Type"), queryset=OccurrenceType.objects.none()
    )
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    count = forms.IntegerField(label=_("How many numbers"), min_value=1, max_value=1000)

    def __init__(self, *args: object, operator_ids: set[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["occurrence_type"].queryset = OccurrenceType.objects.filter(
            operator_id__in=operator_ids, has_place=True, is_active=True
        )
        self.fields["unit"].queryset = Unit.objects.filter(
            operator_id__in=operator_ids, is_active=True
        ).select_related("operator")


DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M"]


class IncidentForm(forms.Form):
    """Inserir ocorrência operacional."""

    reason = forms.ModelChoiceField(label=_("Reason"), queryset=IncidentReason.objects.none())
    description = forms.CharField(label=_("Description"), max_length=300)
    subjects = forms.ModelMultipleChoiceField(
        label=_("Specifications affected"),
        queryset=Subject.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    neighbourhoods = forms.CharField(
        label=_("Neighbourhoods affected"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line."),
    )
    latitude = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(
        label=_("Longitude"), required=False, min_value=-180, max_value=180
    )
    radius_m = forms.IntegerField(
        label=_("Radius (m)"), required=False, min_value=10, max_value=50_000
    )
    starts_at = forms.DateTimeField(
        label=_("Start"), input_formats=DATETIME_FORMATS, widget=DATETIME_INPUT
    )
    expected_end_at = forms.DateTimeField(
        label=_("Expected end"), input_formats=DATETIME_FORMATS, widget=DATETIME_INPUT
    )

    def __init__(self, *args: object, operator_ids: set[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = IncidentReason.objects.filter(
            operator_id__in=operator_ids, is_active=True
        )
        self.fields["subjects"] = forms.ModelMultipleChoiceField(
            label=_("Specifications affected"),
            queryset=subjects_with_place(operator_ids),
            widget=forms.CheckboxSelectMultiple,
        )
        self.fields["subjects"].label_from_instance = lambda s: (
            f"{s.occurrence_type.name} — {s.name}"
        )


class IncidentCloseForm(forms.Form):
    status = forms.ModelChoiceField(
        label=_("Close its open registrations with the status"),
        queryset=Status.objects.none(),
        required=False,
        help_text=_("Blank: the registrations stay open."),
    )
    outcome_text = forms.CharField(
        label=_("Outcome (the citizen reads it)"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: object, incident: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].queryset = Status.objects.filter(
            occurrence_type__in=incident.subjects.values("occurrence_type"), is_active=True
        ).exclude(closing="none")


class IncidentReasonForm(forms.ModelForm):
    class Meta:
        model = IncidentReason
        fields = ["description"]


class BatchClosingForm(forms.Form):
    """Comandar encerramento de RA: the criteria, then how they close."""

    occurrence_type = forms.ModelChoiceField(
        label=_("Type"), queryset=OccurrenceType.objects.none(), required=False
    )
    subject = SpecificationChoice(
        label=_("Specification"), queryset=Subject.objects.none(), required=False
    )
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none(), required=False)
    registered_from = date_field(_("Registered from"), required=False)
    registered_to = date_field(_("Registered until"), required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    neighbourhood = forms.CharField(label=_("Neighbourhood"), max_length=100, required=False)
    incident = forms.ModelChoiceField(
        label=_("Operational incident"), queryset=Incident.objects.none(), required=False
    )
    status = forms.ModelChoiceField(label=_("Closing status"), queryset=Status.objects.none())
    reason = forms.ModelChoiceField(
        label=_("Reason"), queryset=OutcomeReason.objects.none(), required=False
    )
    outcome_text = forms.CharField(
        label=_("Outcome (the citizen reads it)"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: object, operator_ids: set[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        types = OccurrenceType.objects.filter(
            operator_id__in=operator_ids, has_place=True, is_active=True
        )
        self.fields["occurrence_type"].queryset = types
        self.fields["subject"].queryset = subjects_with_place(operator_ids)
        self.fields["unit"].queryset = Unit.objects.filter(
            operator_id__in=operator_ids, is_active=True
        )
        self.fields["incident"].queryset = Incident.objects.filter(
            operator_id__in=operator_ids
        ).select_related("reason")
        self.fields["status"].queryset = (
            Status.objects.filter(occurrence_type__in=types, is_active=True)
            .exclude(closing="none")
            .select_related("occurrence_type")
        )
        self.fields["status"].label_from_instance = lambda s: (
            f"{s.occurrence_type.name} — {s.internal_description}"
        )
        self.fields["reason"].queryset = OutcomeReason.objects.filter(
            operator_id__in=operator_ids, is_active=True
        )

    def criteria(self) -> dict:
        data = self.cleaned_data
        return {
            "occurrence_type": data["occurrence_type"].pk if data["occurrence_type"] else None,
            "subject": data["subject"].pk if data["subject"] else None,
            "unit": data["unit"].pk if data["unit"] else None,
            "registered_from": data["registered_from"].isoformat()
            if data["registered_from"]
            else None,
            "registered_to": data["registered_to"].isoformat() if data["registered_to"] else None,
            "city": data["city"],
            "neighbourhood": data["neighbourhood"],
            "incident": data["incident"].pk if data["incident"] else None,
        }
