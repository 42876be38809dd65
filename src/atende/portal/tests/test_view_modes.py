"""View modes have effects (seed 001): a *Básico* type's self-service requests arrive as
drafts in the one intake queue, promoted or discarded there; a *Solicitações* type with a
form filled at opening requires it from the portal and the API, and the attendant sees it
as the first tab."""

import json

import pytest
from django.test import Client

from atende.catalog.formdefs import FieldType
from atende.catalog.models import ViewMode
from atende.catalog.services import form_create, tab_create
from atende.occurrences.models import EventKind, Mode, Occurrence, State, TabEntry
from atende.occurrences.services import actor_for_application
from atende.portal.tests.conftest import CPF, HOME
from atende.tenancy.models import Scope
from atende.tenancy.services import api_token_create
from atende.testing.occurrences import new_occurrence

pytestmark = pytest.mark.django_db

KIND = "Atualização Cadastral"
FIELDS = [
    {"key": "campo", "label": "Dado a atualizar", "type": FieldType.TEXT, "required": True},
    {"key": "novo_valor", "label": "Novo valor", "type": FieldType.TEXT, "required": True},
    {"key": "desde", "label": "Desde", "type": FieldType.DATE},
]


def _mode(kind, mode):
    type(kind).objects.filter(pk=kind.pk).update(view_mode=mode)
    kind.refresh_from_db()


def _opened_in_portal(client, kind, **extra):
    subject = kind.subjects.first()
    return client.post(
        f"{HOME}nova/?tipo={kind.pk}",
        {"subject": subject.pk, "description": "Mudei de endereço.", **extra},
    )


def test_a_basic_request_waits_in_the_intake_queue_until_promoted(
    signed_in, catalog_a, app_a, attendant_a, client
):
    kind = catalog_a[KIND]
    _mode(kind, ViewMode.BASIC)
    response = _opened_in_portal(signed_in, kind)
    assert response.status_code == 302
    draft = Occurrence.objects.get()
    assert draft.mode == Mode.DRAFT
    # The beneficiary follows their protocol meanwhile.
    assert draft.protocol in signed_in.get(HOME).content.decode()
    # Opened by a person in the panel or the call center, it is not a draft.
    person = new_occurrence(user=attendant_a, application=app_a, occurrence_type=kind)
    assert person.mode == Mode.ACTIVE

    staff = Client()
    staff.force_login(attendant_a)
    assert draft.protocol not in staff.get("/painel/").content.decode()
    intake = staff.get("/painel/triagem/").content.decode()
    assert f'href="/painel/triagem/{draft.protocol}/"' in intake
    assert person.protocol not in intake
    page = staff.get(f"/painel/triagem/{draft.protocol}/").content.decode()
    assert "Mudei de endereço." in page and "Promover para a fila" in page
    stale = staff.post(f"/painel/triagem/{draft.protocol}/promover/", {"version": 99})
    assert stale.status_code == 302
    draft.refresh_from_db()
    assert draft.mode == Mode.DRAFT
    promoted = staff.post(f"/painel/triagem/{draft.protocol}/promover/", {"version": draft.version})
    assert promoted["Location"] == f"/painel/{draft.protocol}/"
    draft.refresh_from_db()
    assert draft.mode == Mode.ACTIVE
    assert draft.events.filter(kind=EventKind.PROMOTED).exists()
    assert draft.protocol in staff.get("/painel/").content.decode()
    assert draft.protocol not in staff.get("/painel/triagem/").content.decode()


def test_a_discarded_draft_closes_with_its_reason_and_a_blank_reason_is_kept_refused(
    catalog_a, app_a, attendant_a, client
):
    kind = catalog_a[KIND]
    _mode(kind, ViewMode.BASIC)
    from atende.occurrences.services import occurrence_create

    draft = occurrence_create(
        actor=actor_for_application(application=app_a),
        application=app_a,
        occurrence_type=kind,
        channel="appMobile",
        beneficiary_identifier=CPF,
        description="teste teste",
    )
    assert draft.mode == Mode.DRAFT
    client.force_login(attendant_a)
    url = f"/painel/triagem/{draft.protocol}/descartar/"
    blank = client.post(url, {"version": draft.version, "reason": "   "})
    assert blank.status_code == 400
    assert "Este campo é obrigatório" in blank.content.decode()
    gone = client.post(url, {"version": draft.version, "reason": "Mensagem de teste do app"})
    assert gone["Location"] == "/painel/triagem/"
    draft.refresh_from_db()
    assert draft.state == State.CLOSED and draft.resolved is False
    assert draft.outcome_text == "Mensagem de teste do app"


@pytest.fixture
def opening(catalog_a, operator_a):
    kind = catalog_a[KIND]
    form = form_create(operator=operator_a, name="Atualização", fields=FIELDS)
    tab_create(occurrence_type=kind, name="Dados da atualização", form=form, at_opening=True)
    return kind


def test_the_portal_asks_the_opening_form_and_keeps_what_was_typed(signed_in, opening):
    page = signed_in.get(f"{HOME}nova/?tipo={opening.pk}").content.decode()
    assert "Dados da atualização" in page and "Dado a atualizar *" in page
    refused = _opened_in_portal(signed_in, opening, **{"form-campo": "Endereço"})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert 'value="Endereço"' in page and "Este campo é obrigatório" in page
    assert not Occurrence.objects.exists()
    sent = _opened_in_portal(
        signed_in,
        opening,
        **{"form-campo": "Endereço", "form-novo_valor": "Rua Nova, 10", "form-desde": "2026-11-01"},
    )
    assert sent.status_code == 302
    entry = TabEntry.objects.get()
    assert entry.data == {"campo": "Endereço", "novo_valor": "Rua Nova, 10", "desde": "2026-11-01"}
    assert entry.occurrence.mode == Mode.ACTIVE


def test_the_api_requires_the_opening_form_from_an_application(app_a, opening, attendant_a, client):
    _, plain = api_token_create(application=app_a, name="app", scopes=[Scope.OCCURRENCES_WRITE])
    app = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")
    body = {"occurrence_type_id": opening.pk, "beneficiary_identifier": CPF}

    def create(**extra):
        return app.post(
            "/api/v1/occurrences", json.dumps({**body, **extra}), content_type="application/json"
        )

    refused = create(form={"campo": "Telefone", "cor": "azul"})
    assert refused.status_code == 400
    errors = json.dumps(refused.json())
    assert "form.novo_valor" in errors and "form.cor" in errors
    assert not Occurrence.objects.exists()
    made = create(form={"campo": "Telefone", "novo_valor": "81999990000"})
    assert made.status_code == 201
    occurrence = Occurrence.objects.get()

    client.force_login(attendant_a)
    page = client.get(f"/painel/{occurrence.protocol}/").content.decode()
    tabs = [m for m in ("Dados da atualização", "Dependentes") if m in page]
    assert tabs and page.index("Dados da atualização") < page.index("Notas internas")
    first_tab = page.index('class="tab"')
    assert page.index("Dados da atualização", first_tab) < page.index("81999990000")
