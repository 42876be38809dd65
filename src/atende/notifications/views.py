"""The "Central de entregas": every delivery of the supervisor's operators with its
attempts, a resend for failed ones, and the test send of a configured action."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.notifications.forms import DeliveryFilterForm, TestSendForm
from atende.notifications.models import DeliveryState
from atende.notifications.selectors import (
    actions_testable_by,
    deliveries_filter,
    deliveries_visible_to,
    occurrence_deliveries,
    operators_delivering,
    operators_testing_actions,
)
from atende.notifications.services import action_test_send, delivery_resend

PAGE_SIZE = 100


@login_required
def delivery_list(request: HttpRequest) -> HttpResponse:
    if not operators_delivering(user=request.user).exists():
        raise Http404
    visible = deliveries_visible_to(user=request.user)
    form = DeliveryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    deliveries = list(deliveries_filter(visible, **filters)[:PAGE_SIZE])
    context = {
        "form": form,
        "deliveries": deliveries,
        "failed_only": filters.get("state") == DeliveryState.FAILED,
        "page_size": PAGE_SIZE,
    }
    template = "notifications/_deliveries.html" if request.htmx else "notifications/list.html"
    return render(request, template, context, status=400 if form.errors else 200)


@login_required
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = deliveries_visible_to(user=request.user).filter(pk=delivery_id).first()
    if delivery is None:
        raise Http404
    attempts = delivery.attempt_log.select_related("requested_by")
    return render(
        request, "notifications/detail.html", {"delivery": delivery, "attempts": attempts}
    )


@login_required
@require_POST
def delivery_resend_view(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = deliveries_visible_to(user=request.user).filter(pk=delivery_id).first()
    if delivery is None:
        raise Http404
    try:
        delivery_resend(delivery=delivery, user=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("The message will be sent again in a moment."))
    return redirect("notifications:detail", delivery_id=delivery.pk)


@login_required
def action_list(request: HttpRequest) -> HttpResponse:
    if not operators_testing_actions(user=request.user).exists():
        raise Http404
    actions = actions_testable_by(user=request.user).order_by("status__occurrence_type", "id")
    return render(
        request, "notifications/actions.html", {"actions": actions, "form": TestSendForm()}
    )


@login_required
@require_POST
def action_test(request: HttpRequest, action_id: int) -> HttpResponse:
    action = actions_testable_by(user=request.user).filter(pk=action_id).first()
    if action is None:
        raise Http404
    # The configurator's action page sends its tests here and wants its page back.
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("notifications:actions")
    form = TestSendForm(request.POST)
    if form.is_valid():
        try:
            delivery = action_test_send(
                action=action, recipient=form.cleaned_data["recipient"], user=request.user
            )
        except ValidationError as error:
            form.add_error("recipient", error)
        else:
            messages.success(
                request,
                _("Test no. %(number)d queued; follow it in the deliveries.")
                % {"number": delivery.pk},
            )
            return redirect(back)
    # Refused: the test again on a page of its own, with what was typed and why.
    context = {"action": action, "form": form, "back": back}
    return render(request, "notifications/action_test.html", context, status=400)


@login_required
def occurrence_messages(request: HttpRequest, protocol: str) -> HttpResponse:
    """The messages sent about an occurrence, drawn into its page in the panel."""
    try:
        occurrence, deliveries = occurrence_deliveries(user=request.user, protocol=protocol)
    except ObjectDoesNotExist:
        raise Http404 from None
    context = {"occurrence": occurrence, "deliveries": deliveries}
    return render(request, "notifications/_occurrence_messages.html", context)
