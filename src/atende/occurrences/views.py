"""The attendant panel: the queue (filters, search, keyset pages, counts by state, refreshing
itself) and the occurrence page with the actions the person may take now, each through the
occurrence services. A change someone else made first is told plainly, with the page as it
is now."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from atende.beneficiaries.selectors import card_of_identifier
from atende.catalog.formdefs import FieldType
from atende.catalog.services import form_current_version
from atende.core.display import stored_shown
from atende.core.forms import errors_onto
from atende.occurrences.forms import (
    AssignForm,
    AttachmentForm,
    ChildForm,
    CloseForm,
    DiscardForm,
    NoteForm,
    QueueForm,
    ReopenForm,
    ReplyForm,
    RouteForm,
    StatusForm,
    VersionForm,
    form_submission,
    tab_form_class,
)
from atende.occurrences.models import Mode, Occurrence, State, TabEntry
from atende.occurrences.selectors import (
    conversation,
    intake_queue,
    occurrence_by_protocol,
    occurrence_for_change,
    occurrence_history,
    occurrences_visible_to,
)
from atende.occurrences.services import (
    Actor,
    Conflict,
    NotAllowed,
    actor_among,
    actors_for_user,
    created_once,
    done_once,
    occurrence_add_note,
    occurrence_attach_once,
    occurrence_change_status,
    occurrence_close,
    occurrence_create_child,
    occurrence_discard,
    occurrence_fill_tab,
    occurrence_promote,
    occurrence_relate,
    occurrence_release,
    occurrence_reopen,
    occurrence_reply,
    occurrence_route,
    occurrence_start_attendance,
    occurrence_start_refusal,
    occurrence_work_refusal,
)
from atende.tenancy.validators import only_digits

PAGE_SIZE = 50
# The page's forms, by the context name the template uses; the first three offer the
# occurrence's own choices.
FORM_KEYS = {
    StatusForm: "status_form",
    CloseForm: "close_form",
    RouteForm: "route_form",
    AssignForm: "assign_form",
    ChildForm: "child_form",
    ReopenForm: "reopen_form",
    NoteForm: "note_form",
    ReplyForm: "reply_form",
    AttachmentForm: "attachment_form",
}
OCCURRENCE_FORMS = {StatusForm, CloseForm, RouteForm, AssignForm, ChildForm, ReplyForm}
# Forms whose choices depend on who is asking (statuses limited to some roles).
ACTOR_FORMS = {StatusForm, CloseForm}
OPEN_STATES = [State.NEW, State.OPEN, State.IN_ATTENDANCE]
COUNT_CAP = 1000
UNIT_COUNTS_MAX = 12
# What a queue row shows, joined in the one query that reads the page.
QUEUE_RELATED = ("occurrence_type", "subject", "status", "attendant")


def working_actors(request: HttpRequest) -> list[Actor]:
    """The person's actors where they work occurrences; anyone else finds nothing (404).
    Read once per request: a page that starts work and then draws it asks twice."""
    actors = getattr(request, "atende_actors", None)
    if actors is None:
        actors = request.atende_actors = actors_for_user(user=request.user)
    if not actors:
        raise Http404
    return actors


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    actors = working_actors(request)
    visible = occurrences_visible_to(actors=actors).filter(mode=Mode.ACTIVE)
    # Bound to units in every operator: those units; free in any: every unit.
    unit_ids = frozenset().union(*(a.unit_ids for a in actors))
    if any(not a.unit_ids for a in actors):
        unit_ids = frozenset()
    form = QueueForm(
        request.GET or None, operator_ids=[a.operator_id for a in actors], unit_ids=unit_ids
    )
    filters = form.cleaned_data if form.is_valid() else {}
    chosen = _queue_filter(visible, filters)
    sort = QUEUE_SORTS[filters.get("order") or ""]
    page = list(
        sort.after(chosen, filters.get("after") or "")
        .select_related(*QUEUE_RELATED)
        .prefetch_related("priority")
        .order_by(*sort.ordering())[: PAGE_SIZE + 1]
    )
    # Each open state's count stops at COUNT_CAP: an exact figure past it would cost a
    # scan of every open occurrence on every refresh, and tells an attendant nothing more.
    # A name search reads every open occurrence (no index serves a name fragment): the
    # page's rows pay for it once, the counts would pay three times more.
    counts, unit_counts = [], []
    if _search_kind(filters.get("q") or "") != "name":
        unfiltered = _queue_filter(visible, {**filters, "state": None}, all_states=True)
        counts = [
            (State(s).label, s, unfiltered.filter(state=s)[:COUNT_CAP].count()) for s in OPEN_STATES
        ]
        # Open occurrences by unit (the filters but unit and state), capped the same way.
        open_ones = _queue_filter(visible, {**filters, "unit": None, "state": None})
        unit_counts = [
            (unit, open_ones.filter(unit=unit)[:COUNT_CAP].count())
            for unit in form.fields["unit"].queryset[:UNIT_COUNTS_MAX]
        ]
    query = request.GET.copy()
    query.pop("after", None)
    unsorted = query.copy()
    unsorted.pop("order", None)
    context = {
        "form": form,
        "occurrences": page[:PAGE_SIZE],
        "next_after": sort.cursor(page[PAGE_SIZE - 1]) if len(page) > PAGE_SIZE else None,
        "order": filters.get("order") or "",
        "query": query.urlencode(),
        "unsorted": unsorted.urlencode(),
        "counts": counts,
        "unit_counts": unit_counts,
        "count_cap": COUNT_CAP,
        "now": timezone.now(),
    }
    template = "occurrences/_queue.html" if request.htmx else "occurrences/queue.html"
    return render(request, template, context, status=400 if form.errors else 200)


@dataclass(frozen=True)
class QueueSort:
    """An order of the queue and its keyset pages: rows sort by ``field`` (empty rows
    last), then by id; a page starts after the last row of the one before, named by its
    cursor (its sort value and id), so a page never repeats or skips a row that stayed."""

    field: str | None = None  # None: by id alone
    descending: bool = False
    id_descending: bool = False
    value_of: Callable[[Occurrence], object] = lambda o: None
    parse: Callable[[str], object] = str

    def ordering(self) -> list:
        by_id = "-pk" if self.id_descending else "pk"
        if self.field is None:
            return [by_id]
        column = F(self.field)
        key = column.desc(nulls_last=True) if self.descending else column.asc(nulls_last=True)
        return [key, by_id]

    def cursor(self, row: Occurrence) -> str:
        value = self.value_of(row) if self.field else None
        shown = "" if value is None else value.isoformat() if isinstance(value, datetime) else value
        return f"{shown}~{row.pk}"

    def after(self, chosen: QuerySet[Occurrence], cursor: str) -> QuerySet[Occurrence]:
        text, _sep, pk_text = cursor.rpartition("~")
        if not pk_text.isdigit():
            return chosen  # none, or not one of ours: the first page
        pk = int(pk_text)
        next_id = Q(pk__lt=pk) if self.id_descending else Q(pk__gt=pk)
        if self.field is None:
            return chosen.filter(next_id)
        if not text:
            # Among the rows without a value, which come last.
            return chosen.filter(next_id, **{f"{self.field}__isnull": True})
        try:
            value = self.parse(text)
        except ValueError:
            return chosen
        beyond = "lt" if self.descending else "gt"
        return chosen.filter(
            Q(**{f"{self.field}__{beyond}": value})
            | (Q(**{self.field: value}) & next_id)
            | Q(**{f"{self.field}__isnull": True})
        )


QUEUE_SORTS = {
    "": QueueSort(id_descending=True),
    "antigas": QueueSort(
        "registered_at", value_of=lambda o: o.registered_at, parse=datetime.fromisoformat
    ),
    "prazo": QueueSort("sla_due_at", value_of=lambda o: o.sla_due_at, parse=datetime.fromisoformat),
    # The highest priority first and, within one, the longest waiting.
    "prioridade": QueueSort(
        "priority__rank",
        descending=True,
        value_of=lambda o: o.priority.rank if o.priority_id else None,
        parse=int,
    ),
}


def _queue_filter(
    visible: QuerySet[Occurrence], filters: dict, *, all_states: bool = False
) -> QuerySet[Occurrence]:
    chosen = visible
    text = (filters.get("q") or "").strip()
    kind = _search_kind(text)
    if not all_states:
        state = filters.get("state")
        if state:
            chosen = chosen.filter(state=state)
        elif kind not in ("identifier", "protocol"):
            # A protocol or a CPF names someone's occurrences: closed ones are found too.
            chosen = chosen.filter(state__in=OPEN_STATES)
    for name in ("occurrence_type", "subject", "status", "unit", "channel", "priority"):
        if filters.get(name):
            chosen = chosen.filter(**{name: filters[name]})
    # The period is of registration, in whole days of the local calendar.
    if filters.get("awaiting"):
        chosen = chosen.filter(awaiting_since__isnull=False)
    if filters.get("start"):
        chosen = chosen.filter(registered_at__gte=_day_start(filters["start"]))
    if filters.get("end"):
        chosen = chosen.filter(registered_at__lt=_day_start(filters["end"] + timedelta(days=1)))
    if kind == "identifier":
        chosen = chosen.filter(beneficiary_identifier=only_digits(text))
    elif kind == "protocol":
        # The protocol typed whole, else every protocol that begins with what was typed.
        exact = chosen.filter(protocol=text)
        chosen = exact if exact.exists() else chosen.filter(protocol__startswith=text)
    elif kind == "name":
        chosen = chosen.filter(
            Q(protocol=text.upper())
            | Q(beneficiary_name__icontains=text)
            | Q(requester_name__icontains=text)
        )
    sla = filters.get("sla")
    if sla == "breached":
        # Live: past due now, whether or not the breach job has marked it yet.
        chosen = chosen.filter(sla_due_at__lt=timezone.now(), closed_at__isnull=True)
    elif sla == "today":
        today = timezone.localdate()
        start = timezone.make_aware(datetime.combine(today, time.min))
        # Still within the deadline (the breach job has not marked it): the open-SLA index.
        chosen = chosen.filter(
            sla_due_at__gte=max(start, timezone.now()),
            sla_due_at__lt=start + timedelta(days=1),
            sla_breached_at__isnull=True,
            closed_at__isnull=True,
        )
    return chosen


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _search_kind(text: str) -> str | None:
    """11 or 14 digits (punctuated or not) are a CPF or CNPJ, other digits a protocol,
    anything else a protocol or part of a name."""
    text = text.strip()
    if not text:
        return None
    if re.fullmatch(r"[\d.\-/ ]+", text) and len(only_digits(text)) in (11, 14):
        return "identifier"
    return "protocol" if text.isdigit() else "name"


def _occurrence(
    request: HttpRequest, protocol: str, *, changing: bool = False
) -> tuple[Occurrence, Actor]:
    """The occurrence and the person as its actor. For a change, the row is read alone and
    the catalog attached from the snapshot (``occurrence_relate``): the service locks and
    reads it again anyway, and the page after the change is a redirect."""
    actors = working_actors(request)
    try:
        if changing:
            occurrence = occurrence_for_change(actors, protocol)
        else:
            occurrence = occurrence_by_protocol(occurrences_visible_to(actors=actors), protocol)
    except Occurrence.DoesNotExist:
        raise Http404 from None
    actor = actor_among(actors, operator_id=occurrence.operator_id)
    if changing:
        occurrence_relate(occurrence, actor=actor)
    return occurrence, actor


@login_required
def detail(request: HttpRequest, protocol: str) -> HttpResponse:
    occurrence, actor = _occurrence(request, protocol)
    return render(request, "occurrences/detail.html", _detail_context(occurrence, actor))


def _tabs(occurrence: Occurrence, bound: tuple[int, object] | None = None) -> list[dict]:
    """Each active tab with its entries (shown as its version's fields say) and a form for
    a new entry made from the current version, or the bound one that failed."""
    entries: dict[int, list[TabEntry]] = {}
    for entry in occurrence.tab_entries.select_related("form_version").order_by("created_at", "pk"):
        entries.setdefault(entry.tab_id, []).append(entry)
    tabs = []
    # The form filled at opening first: it is the request itself (Solicitações).
    for tab in (
        occurrence.occurrence_type.tabs.filter(is_active=True)
        .select_related("form")
        .order_by("-at_opening", "order", "pk")
    ):
        current = form_current_version(tab.form)
        mine = entries.get(tab.pk, [])
        if bound is not None and bound[0] == tab.pk:
            form = bound[1]
        else:
            form = tab_form_class(current.fields)(
                initial={"version": occurrence.version}, prefix=f"tab{tab.pk}"
            )
        tabs.append(
            {
                "tab": tab,
                "fields": current.fields,
                # Columns of the current version; an entry of an older one shows what it has.
                "rows": [
                    [value_shown(entry.data.get(f["key"]), f) for f in current.fields]
                    for entry in mine
                ],
                "items": [
                    [
                        (f["label"], value_shown(entry.data.get(f["key"]), f))
                        for f in entry.form_version.fields
                    ]
                    for entry in mine
                ],
                "entries": mine,
                "form": form,
                "can_add": tab.multiple_entries or not mine,
            }
        )
    return tabs


def value_shown(value: object, field: dict) -> str:
    """A stored answer as a person reads it (dates are kept as ISO, shown dd/mm/aaaa)."""
    return stored_shown(value, is_date=field.get("type") == FieldType.DATE)


def _form_context(form_class: type, occurrence: Occurrence, actor: Actor) -> dict:
    if form_class not in OCCURRENCE_FORMS:
        return {}
    return {"occurrence": occurrence, **({"actor": actor} if form_class in ACTOR_FORMS else {})}


def _detail_context(
    occurrence: Occurrence, actor: Actor, *, bound_tab: tuple | None = None, **forms: object
) -> dict:
    refusal = occurrence_work_refusal(actor, occurrence)
    initial = {"version": occurrence.version}
    return {
        "tabs": _tabs(occurrence, bound_tab),
        "occurrence": occurrence,
        "history": occurrence_history(occurrence).select_related("actor", "status_after"),
        "start_refusal": occurrence_start_refusal(actor, occurrence),
        "work_refusal": refusal,
        "mine": actor.user is not None and occurrence.attendant_id == actor.user.pk,
        **{
            key: forms.get(key)
            or form_class(
                initial=initial,
                **_form_context(form_class, occurrence, actor),
            )
            for form_class, key in FORM_KEYS.items()
        },
        "attachments": occurrence.attachments.order_by("uploaded_at"),
        "children": occurrence.children.select_related("status").order_by("pk"),
        "registry_card": card_of_identifier(
            operator_id=occurrence.operator_id, identifier=occurrence.beneficiary_identifier
        ),
        "supervisor": actor.is_supervisor,
        "version_form": VersionForm(initial=initial),
        "now": timezone.now(),
    }


@login_required
def messages_list(request: HttpRequest, protocol: str) -> HttpResponse:
    """The conversation with the beneficiary, loaded into the page (and polled there for a
    chat)."""
    occurrence, _actor = _occurrence(request, protocol)
    return render(
        request,
        "occurrences/_conversation.html",
        {"occurrence": occurrence, "messages": conversation(occurrence)},
    )


@login_required
def version(request: HttpRequest, protocol: str) -> HttpResponse:
    """Polled by the open page: tells when someone else changed the occurrence."""
    occurrence, _actor = _occurrence(request, protocol)
    seen = request.GET.get("v", "")
    changed = seen.isdigit() and int(seen) != occurrence.version
    last = occurrence_history(occurrence).select_related("actor").last() if changed else None
    return render(
        request,
        "occurrences/_version.html",
        {"occurrence": occurrence, "changed": changed, "last": last},
    )


def _submit(
    request: HttpRequest,
    occurrence: Occurrence,
    actor: Actor,
    form: object,
    do: Callable[[dict], object],
    *,
    done: str,
    rerender: Callable[[object], dict] | None,
    go: Callable[[object], str] | None = None,
) -> HttpResponse:
    """Run one change from a bound form. The form's own errors and the service's refusal of
    its values redraw the page with the form as it was typed, the refusal next to its field
    or above the form (``rerender`` says where the form goes). A bare button (no
    ``rerender``), a change the person may not make, and a conflict are told by a message
    on the page as it is now (redrawn with what someone else changed first)."""
    if form.is_valid():
        try:
            result = do(form.cleaned_data)
        except Conflict as conflict:
            messages.warning(request, str(conflict))
            return redirect("occurrences:detail", protocol=occurrence.protocol)
        except NotAllowed as refusal:
            # Not theirs to do: the page as it is now says why (it offers no such form).
            messages.error(request, str(refusal))
            return redirect("occurrences:detail", protocol=occurrence.protocol)
        except ValidationError as error:
            if rerender is None:
                messages.error(request, " ".join(error.messages))
                return redirect("occurrences:detail", protocol=occurrence.protocol)
            errors_onto(form, error)
        else:
            messages.success(request, done)
            target = go(result) if go is not None else occurrence.protocol
            return redirect("occurrences:detail", protocol=target)
    if rerender is None:
        raise Http404  # a bare button posts only the version the page wrote
    messages.error(request, _("Check the highlighted fields."))
    context = _detail_context(occurrence, actor, **rerender(form))
    return render(request, "occurrences/detail.html", context, status=400)


def _panel_action(
    change: Callable[[Occurrence, Actor, dict], object],
    *,
    done: str,
    form_class: type = VersionForm,
    go: Callable[[object], str] | None = None,
) -> Callable[[HttpRequest, str], HttpResponse]:
    """A POST view for one action of the occurrence page: ``change`` calls the service."""

    @login_required
    @require_POST
    def view(request: HttpRequest, protocol: str) -> HttpResponse:
        occurrence, actor = _occurrence(request, protocol, changing=True)
        own = _form_context(form_class, occurrence, actor)
        form = form_class(request.POST, request.FILES, **own)
        key = FORM_KEYS.get(form_class)
        return _submit(
            request,
            occurrence,
            actor,
            form,
            lambda data: change(occurrence, actor, data),
            done=str(done),
            rerender=(lambda bound: {key: bound}) if key else None,
            go=go,
        )

    return view


start = _panel_action(
    lambda o, a, data: occurrence_start_attendance(
        actor=a, occurrence=o, expected_version=data["version"]
    ),
    done=gettext_lazy("You are now attending this occurrence."),
)
assign = _panel_action(
    lambda o, a, data: occurrence_start_attendance(
        actor=a, occurrence=o, assignee=data["assignee"], expected_version=data["version"]
    ),
    done=gettext_lazy("Occurrence assigned."),
    form_class=AssignForm,
)
change_status = _panel_action(
    lambda o, a, data: occurrence_change_status(
        actor=a, occurrence=o, status=data["status"], expected_version=data["version"]
    ),
    done=gettext_lazy("Status changed."),
    form_class=StatusForm,
)
release = _panel_action(
    lambda o, a, data: occurrence_release(actor=a, occurrence=o, expected_version=data["version"]),
    done=gettext_lazy("Released to the queue."),
)
close = _panel_action(
    lambda o, a, data: occurrence_close(
        actor=a,
        occurrence=o,
        status=data["status"],
        outcome_text=data["outcome_text"],
        reason=data["reason"],
        attachment_url=data["attachment_url"] or "",
        duplicate_of=data.get("duplicate_of"),
        expected_version=data["version"],
    ),
    done=gettext_lazy("Occurrence closed."),
    form_class=CloseForm,
)
add_note = _panel_action(
    lambda o, a, data: done_once(
        form_submission(data, a.user),
        o,
        lambda: occurrence_add_note(actor=a, occurrence=o, text=data["text"]),
    ),
    done=gettext_lazy("Note added."),
    form_class=NoteForm,
)
reply = _panel_action(
    lambda o, a, data: done_once(
        form_submission(data, a.user),
        o,
        lambda: occurrence_reply(actor=a, occurrence=o, text=data["text"], uploads=data["files"]),
    ),
    done=gettext_lazy("Reply sent to the beneficiary."),
    form_class=ReplyForm,
)
add_attachment = _panel_action(
    lambda o, a, data: occurrence_attach_once(
        submission=form_submission(data, a.user), actor=a, occurrence=o, upload=data["upload"]
    ),
    done=gettext_lazy("File attached."),
    form_class=AttachmentForm,
)
route = _panel_action(
    lambda o, a, data: occurrence_route(
        actor=a,
        occurrence=o,
        unit=data["unit"],
        opinion=data["opinion"],
        expected_version=data["version"],
    ),
    done=gettext_lazy("Sent to the other unit's queue."),
    form_class=RouteForm,
)
reopen = _panel_action(
    lambda o, a, data: occurrence_reopen(
        actor=a, occurrence=o, reason=data["reason"], expected_version=data["version"]
    ),
    done=gettext_lazy("Occurrence reopened."),
    form_class=ReopenForm,
)
create_child = _panel_action(
    lambda o, a, data: created_once(
        form_submission(data, a.user),
        lambda: occurrence_create_child(
            actor=a,
            parent=o,
            occurrence_type=data["occurrence_type"],
            description=data["description"],
        ),
    )[0],
    done=gettext_lazy("Child occurrence created."),
    form_class=ChildForm,
    go=lambda child: child.protocol,
)


@login_required
@require_POST
def fill_tab(request: HttpRequest, protocol: str, tab_id: int) -> HttpResponse:
    occurrence, actor = _occurrence(request, protocol)
    tab = occurrence.occurrence_type.tabs.filter(pk=tab_id, is_active=True).first()
    if tab is None:
        raise Http404
    fields = form_current_version(tab.form).fields
    form = tab_form_class(fields)(request.POST, prefix=f"tab{tab.pk}")
    return _submit(
        request,
        occurrence,
        actor,
        form,
        lambda data: occurrence_fill_tab(
            actor=actor,
            occurrence=occurrence,
            tab=tab,
            data={k: v for k, v in data.items() if k != "version"},
            expected_version=data["version"],
        ),
        done=_("Entry saved in %(tab)s.") % {"tab": tab.name},
        rerender=lambda bound: {"bound_tab": (tab.pk, bound)},
    )


# --- The intake queue ------------------------------------------------------------------

INTAKE_LISTED = 100


@login_required
def intake(request: HttpRequest, registrations: bool = False) -> HttpResponse:
    """Every draft waiting for analysis: a registration's report opens on its own page
    (place, duplicates, requesters), any other on the generic one below. Served under the
    RA's address too (``registrations``: with the RA's menu)."""
    visible = occurrences_visible_to(actors=working_actors(request))
    drafts = list(intake_queue(visible)[:INTAKE_LISTED])
    return render(
        request, "occurrences/intake.html", {"drafts": drafts, "registrations": registrations}
    )


def _draft_page(
    request: HttpRequest, occurrence: Occurrence, form: DiscardForm | None = None
) -> HttpResponse:
    return render(
        request,
        "occurrences/draft.html",
        {
            "draft": occurrence,
            "tabs": _tabs(occurrence),
            "attachments": occurrence.attachments.order_by("uploaded_at"),
            "version_form": VersionForm(initial={"version": occurrence.version}),
            "discard_form": form or DiscardForm(initial={"version": occurrence.version}),
        },
        status=400 if form is not None else 200,
    )


@login_required
def draft(request: HttpRequest, protocol: str) -> HttpResponse:
    occurrence, _actor = _occurrence(request, protocol)
    if occurrence.mode != Mode.DRAFT or occurrence.state == State.CLOSED:
        return redirect("occurrences:detail", protocol=occurrence.protocol)
    if occurrence.occurrence_type.has_place:
        return redirect("registrations:draft", protocol=occurrence.protocol)
    return _draft_page(request, occurrence)


@login_required
@require_POST
def promote(request: HttpRequest, protocol: str) -> HttpResponse:
    occurrence, actor = _occurrence(request, protocol, changing=True)
    form = VersionForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        occurrence_promote(
            actor=actor, draft=occurrence, expected_version=form.cleaned_data["version"]
        )
    except (Conflict, NotAllowed, ValidationError) as refusal:
        messages.error(request, " ".join(getattr(refusal, "messages", [str(refusal)])))
        return redirect("occurrences:draft", protocol=occurrence.protocol)
    messages.success(
        request,
        _("Request %(protocol)s promoted to the queue.") % {"protocol": occurrence.protocol},
    )
    return redirect("occurrences:detail", protocol=occurrence.protocol)


@login_required
@require_POST
def discard(request: HttpRequest, protocol: str) -> HttpResponse:
    occurrence, actor = _occurrence(request, protocol, changing=True)
    form = DiscardForm(request.POST)
    if form.is_valid():
        try:
            occurrence_discard(
                actor=actor,
                draft=occurrence,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except (Conflict, NotAllowed) as refusal:
            messages.error(request, str(refusal))
            return redirect("occurrences:draft", protocol=occurrence.protocol)
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(
                request,
                _("Request %(protocol)s discarded.") % {"protocol": occurrence.protocol},
            )
            return redirect("occurrences:intake")
    messages.error(request, _("Check the highlighted fields."))
    current, _actor = _occurrence(request, protocol)
    return _draft_page(request, current, form)
