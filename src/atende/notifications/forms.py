from django import forms
from django.utils.translation import gettext_lazy as _

from atende.core.forms import date_field
from atende.notifications.models import Channel, DeliveryState


class DeliveryFilterForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All")), *Channel.choices]
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All")), *DeliveryState.choices]
    )
    protocol = forms.CharField(label=_("Protocol"), required=False, max_length=30)
    start = date_field(_("From"), required=False)
    end = date_field(_("To"), required=False)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end date must not be before the start date."))
        return data


class TestSendForm(forms.Form):
    recipient = forms.CharField(
        label=_("Send the test to"),
        max_length=500,
        required=False,
        help_text=_("An e-mail address or phone number; blank uses the action's own recipient."),
    )
