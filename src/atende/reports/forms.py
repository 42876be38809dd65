"""The new-report form: the seed's labels, the operator's own choices, and the checks of
``report_params_clean`` shown next to the field they concern."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from atende.catalog.models import OccurrenceType, Subject
from atende.core.forms import date_field
from atende.occurrences.models import State
from atende.reports.params import (
    AttendantMovement,
    ModeFilter,
    Movement,
    ReportParams,
    report_params_clean,
)
from atende.tenancy.models import Application, Membership, Operator


class ReportForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    application = forms.TypedChoiceField(label=_("Application instance"), coerce=int)
    start = date_field(_("From"))
    end = date_field(_("To"))
    movement = forms.ChoiceField(
        label=_("Movement type"), choices=Movement.choices, initial=Movement.ALL
    )
    include_open_before = forms.BooleanField(
        label=_("Include occurrences NOT closed before the selected period"), required=False
    )
    attendant = forms.TypedChoiceField(
        label=_("Attendant"), coerce=int, required=False, empty_value=None
    )
    attendant_movement = forms.ChoiceField(
        label=_("Attendant's movement type"),
        choices=AttendantMovement.choices,
        initial=AttendantMovement.ALL,
    )
    states = forms.TypedMultipleChoiceField(
        label=_("State"),
        coerce=int,
        choices=State.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    types = forms.TypedMultipleChoiceField(label=_("Occurrence type"), coerce=int, required=False)
    subjects = forms.TypedMultipleChoiceField(label=_("Subject"), coerce=int, required=False)
    mode = forms.ChoiceField(
        label=_("Mode"),
        choices=ModeFilter.choices,
        initial=ModeFilter.ALL,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: object, operator: Operator, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.operator = operator
        self.params: ReportParams | None = None
        self.fields["application"].choices = [
            (a.pk, f"{a.get_instance_display()} — {a.bundle}")
            for a in Application.objects.for_operator(operator).order_by("-instance", "bundle")
        ]
        people = (
            Membership.objects.for_operator(operator)
            .select_related("user")
            .order_by("user__full_name", "user__email")
        )
        self.fields["attendant"].choices = [("", _("Anyone"))] + [
            (m.user_id, m.user.full_name or m.user.email) for m in people
        ]
        types = OccurrenceType.objects.for_operator(operator).order_by("name")
        self.fields["types"].choices = [(t.pk, t.name) for t in types]
        subjects = Subject.objects.filter(occurrence_type__operator=operator).select_related(
            "occurrence_type"
        )
        grouped: dict[str, list[tuple[int, str]]] = {}
        for subject in subjects.order_by("occurrence_type__name", "name"):
            grouped.setdefault(subject.occurrence_type.name, []).append((subject.pk, subject.name))
        self.fields["subjects"].choices = list(grouped.items())

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        try:
            self.params = report_params_clean(
                operator=self.operator,
                application_id=data.get("application"),
                start=data.get("start"),
                end=data.get("end"),
                movement=data.get("movement"),
                include_open_before=data.get("include_open_before"),
                attendant_id=data.get("attendant"),
                attendant_movement=data.get("attendant_movement"),
                states=data.get("states") or (),
                type_ids=data.get("types") or (),
                subject_ids=data.get("subjects") or (),
                mode=data.get("mode"),
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data


class DashboardForm(forms.Form):
    operator = forms.ModelChoiceField(
        label=_("Operator"), required=False, queryset=Operator.objects.none(), empty_label=None
    )
    start = date_field(_("From"), required=False)
    end = date_field(_("To"), required=False)

    def __init__(self, *args: object, operators: list[Operator], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["operator"].queryset = Operator.objects.filter(pk__in=[o.pk for o in operators])

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end date must not be before the start date."))
        if start and end and (end - start).days > 366:
            self.add_error("end", _("Choose a period of at most one year."))
        return data
