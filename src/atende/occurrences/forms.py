"""The attendant panel's forms: queue filters, and the change forms whose choices come
from the occurrence's own type."""

from django import forms
from django.utils.translation import gettext_lazy as _

from atende.catalog.models import OccurrenceType, OutcomeReason, Status
from atende.occurrences.models import Channel, State

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
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All")), *Channel.choices]
    )
    sla = forms.ChoiceField(label=_("SLA"), required=False, choices=SLA_CHOICES)
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: object, operator_ids: list[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        types = OccurrenceType.objects.filter(operator_id__in=operator_ids, is_active=True)
        self.fields["occurrence_type"].queryset = types.order_by("name")
        self.fields["status"].queryset = (
            Status.objects.filter(occurrence_type__in=types, is_active=True)
            .select_related("occurrence_type")
            .order_by("occurrence_type__name", "order")
        )
        self.fields["status"].label_from_instance = lambda s: (
            f"{s.occurrence_type.name} — {s.internal_description}"
        )


class StatusForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ModelChoiceField(label=_("New status"), queryset=Status.objects.none())

    def __init__(self, *args: object, occurrence: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].queryset = occurrence.occurrence_type.statuses.filter(
            is_active=True, closing="none"
        ).exclude(pk=occurrence.status_id)


class CloseForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ModelChoiceField(label=_("Closing status"), queryset=Status.objects.none())
    outcome_text = forms.CharField(
        label=_("Outcome (the beneficiary reads it)"), widget=forms.Textarea(attrs={"rows": 4})
    )
    reason = forms.ModelChoiceField(
        label=_("Reason"), required=False, queryset=OutcomeReason.objects.none()
    )
    resolved = forms.TypedChoiceField(
        label=_("Resolved?"),
        required=False,
        coerce=lambda v: {"yes": True, "no": False}.get(v),
        empty_value=None,
        choices=[("", _("Not informed")), ("yes", _("Yes")), ("no", _("No"))],
    )
    attachment_url = forms.URLField(label=_("Attachment (address)"), required=False)

    def __init__(self, *args: object, occurrence: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].queryset = occurrence.occurrence_type.statuses.filter(
            is_active=True
        ).exclude(closing="none")
        self.fields["reason"].queryset = OutcomeReason.objects.filter(
            operator_id=occurrence.operator_id, is_active=True
        )


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
