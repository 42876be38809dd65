"""The configurator's screens, through the test client: every save goes through the
catalog services, refusals land next to their field, nothing is half-stored, and another
operator's configurator (or an attendant) reaches nothing."""

import pytest

from atende.catalog.models import Form, OccurrenceType, ProtocolType, Status, StatusAction
from atende.notifications.models import Delivery
from atende.occurrences.services import actor_for_user, occurrence_create
from atende.tenancy.models import Role, Unit
from atende.testing.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def configurator(operator_a, catalog_a):
    return MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user


@pytest.fixture
def signed(client, configurator):
    client.force_login(configurator)
    return client


def _root(operator) -> str:
    return f"/configuracao/{operator.pk}/"


def _type_post(operator, name="Segunda via de boleto", statuses=None, **extra):
    ans = ProtocolType.objects.for_operator(operator).first()
    rows = statuses or [
        {"internal_description": "Recebida", "color": "#6e7781", "is_default": "on"},
        {"internal_description": "Em análise", "color": "#1f6feb", "starts_attendance": "on"},
        {"internal_description": "Enviada", "color": "#1a7f37", "closing": "resolved"},
    ]
    data = {
        "name": name,
        "protocol_type": ans.pk,
        "view_mode": "requests",
        "allow_attendance": "on",
        "offered_in_portal": "on",
        "subjects": "Boleto vencido\nBoleto não recebido",
        "status-TOTAL_FORMS": str(len(rows)),
        "status-INITIAL_FORMS": "0",
        "status-MIN_NUM_FORMS": "0",
        "status-MAX_NUM_FORMS": "20",
        **extra,
    }
    for n, row in enumerate(rows):
        row = {"visible_in_history": "on", "closing": "none", **row}
        data.update({f"status-{n}-{key}": value for key, value in row.items()})
    return data


def test_the_home_page_leads_configurators_to_their_operator(signed, operator_a):
    home = signed.get("/").content.decode()
    assert "/configuracao/" in home
    response = signed.get("/configuracao/")
    assert response.url == _root(operator_a)
    page = signed.get(_root(operator_a)).content.decode()
    assert "Ocorrencia - Reembolso" in page


def test_a_new_type_with_three_statuses_is_usable_at_once(signed, operator_a, app_a, attendant_a):
    response = signed.post(f"{_root(operator_a)}tipos/novo/", _type_post(operator_a))
    assert response.status_code == 302, response.content.decode()[:3000]
    kind = OccurrenceType.objects.get(operator=operator_a, name="Segunda via de boleto")
    statuses = list(kind.statuses.order_by("order"))
    assert [s.internal_description for s in statuses] == ["Recebida", "Em análise", "Enviada"]
    assert statuses[0].is_default and statuses[1].starts_attendance
    assert statuses[2].external_description == "Enviada", "blank external takes the internal"
    assert sorted(kind.subjects.values_list("name", flat=True)) == [
        "Boleto não recebido",
        "Boleto vencido",
    ]
    occurrence = occurrence_create(
        actor=actor_for_user(user=attendant_a, operator=operator_a),
        application=app_a,
        occurrence_type=kind,
        channel="telefone",
    )
    assert occurrence.status == statuses[0]


def test_a_workflow_without_a_closing_status_is_refused_and_nothing_is_stored(signed, operator_a):
    rows = [
        {"internal_description": "Recebida", "color": "#6e7781", "is_default": "on"},
        {"internal_description": "Em análise", "color": "#1f6feb"},
    ]
    response = signed.post(f"{_root(operator_a)}tipos/novo/", _type_post(operator_a, statuses=rows))
    assert response.status_code == 400
    assert "Inclua um status de encerramento ativo" in response.content.decode()
    assert not OccurrenceType.objects.filter(name="Segunda via de boleto").exists()


def test_another_operators_configurator_and_attendants_reach_nothing(
    client, operator_a, operator_b, catalog_a, attendant_a
):
    stranger = MembershipFactory(operator=operator_b, role=Role.CONFIGURATOR).user
    kind = catalog_a["Ocorrencia - Reembolso"]
    status = kind.statuses.first()
    for user in (stranger, attendant_a):
        client.force_login(user)
        for url in (
            _root(operator_a),
            f"{_root(operator_a)}tipos/{kind.pk}/",
            f"{_root(operator_a)}item/status/{status.pk}/",
            f"{_root(operator_a)}unidades/",
        ):
            assert client.get(url).status_code == 404, (user, url)
    client.force_login(stranger)
    # Nor through its own operator's address with the other's record.
    assert client.get(f"{_root(operator_b)}item/status/{status.pk}/").status_code == 404


def test_a_status_edit_keeps_one_default_and_takes_the_colour(signed, operator_a, catalog_a):
    kind = catalog_a["Atualização Cadastral"]
    attending = kind.statuses.get(internal_description="Em atendimento")
    url = f"{_root(operator_a)}item/status/{attending.pk}/"
    data = {
        "internal_description": "Em atendimento",
        "external_description": "Estamos cuidando disso",
        "color": "#112233",
        "is_default": "on",
        "starts_attendance": "on",
        "visible_in_history": "on",
        "closing": "none",
        "order": "1",
        "is_active": "on",
    }
    assert signed.post(url, data).status_code == 302
    attending.refresh_from_db()
    assert (attending.color, attending.is_default) == ("#112233", True)
    assert kind.statuses.filter(is_default=True).count() == 1
    closing = kind.statuses.get(internal_description="Concluída")
    bad = signed.post(
        f"{_root(operator_a)}item/status/{closing.pk}/",
        {**data, "internal_description": "Concluída", "is_default": "on", "closing": "resolved"},
    )
    assert bad.status_code == 400
    assert "não pode encerrar" in bad.content.decode()
    closing.refresh_from_db()
    assert not closing.is_default
    assert Status.objects.get(pk=attending.pk).is_default, "the refused change left all as it was"


def _rows(*fields, initial=0):
    data = {
        "fields-TOTAL_FORMS": str(len(fields)),
        "fields-INITIAL_FORMS": str(initial),
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "60",
    }
    for n, field in enumerate(fields):
        data.update({f"fields-{n}-{key}": value for key, value in field.items()})
    return data


def test_the_form_builder_saves_versions_in_the_order_given(signed, operator_a):
    fields = (
        {"label": "Nome do banco", "key": "banco", "type": "text", "ORDER": "2"},
        {
            "label": "Forma de pagamento",
            "key": "forma",
            "type": "select",
            "required": "on",
            "options": "Boleto\nPix\n",
            "ORDER": "1",
        },
    )
    response = signed.post(
        f"{_root(operator_a)}formularios/novo/", {"name": "Pagamento", **_rows(*fields)}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    form = Form.objects.get(operator=operator_a, name="Pagamento")
    version = form.versions.get()
    assert [f["key"] for f in version.fields] == ["forma", "banco"]
    assert version.fields[0]["options"] == ["Boleto", "Pix"] and version.fields[0]["required"]
    page = signed.get(f"{_root(operator_a)}formularios/{form.pk}/").content.decode()
    assert "Versão 1 em uso" in page and "Forma de pagamento" in page
    edited = (
        {**fields[0], "ORDER": "1"},
        {**fields[1], "ORDER": "2", "DELETE": "on"},
        {"label": "Agência", "key": "agencia", "type": "number", "ORDER": "3"},
    )
    response = signed.post(
        f"{_root(operator_a)}formularios/{form.pk}/", {"name": "Pagamento", **_rows(*edited)}
    )
    assert response.status_code == 302
    latest = form.versions.order_by("-number").first()
    assert latest.number == 2
    assert [f["key"] for f in latest.fields] == ["banco", "agencia"]
    assert form.versions.get(number=1).fields == version.fields, "old versions stay"
    # As the page posts it: the rows already there (unchanged ones too) and a blank one.
    renamed = (
        {"label": "Nome do banco", "key": "banco", "type": "text", "ORDER": "1"},
        {"label": "Agência nº", "key": "agencia", "type": "number", "ORDER": "2"},
        {"label": "", "key": "", "type": "text", "ORDER": ""},
    )
    response = signed.post(
        f"{_root(operator_a)}formularios/{form.pk}/",
        {"name": "Pagamento", **_rows(*renamed, initial=2)},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    third = form.versions.order_by("-number").first()
    assert [(f["key"], f["label"]) for f in third.fields] == [
        ("banco", "Nome do banco"),
        ("agencia", "Agência nº"),
    ]


def test_a_bad_field_is_refused_on_its_own_row(signed, operator_a):
    fields = (
        {"label": "Banco", "key": "banco", "type": "text"},
        {"label": "Forma", "key": "Forma Pagamento", "type": "text"},
    )
    response = signed.post(
        f"{_root(operator_a)}formularios/novo/", {"name": "Pagamento", **_rows(*fields)}
    )
    assert response.status_code == 400
    page = response.content.decode()
    second = page.split('data-field-row="2"')[1].split("</fieldset>")[0]
    assert "a chave deve começar com uma letra" in second
    assert not Form.objects.filter(name="Pagamento").exists()


def test_the_preview_shows_the_form_as_attendants_will(signed, operator_a):
    fields = ({"label": "Forma", "key": "forma", "type": "select", "options": "Boleto\nPix"},)
    response = signed.post(f"{_root(operator_a)}formularios/previa/", _rows(*fields))
    page = response.content.decode()
    assert 'name="preview-forma"' in page and "Pix" in page
    bad = signed.post(
        f"{_root(operator_a)}formularios/previa/",
        _rows({"label": "Forma", "key": "forma", "type": "select", "options": ""}),
    )
    assert "liste as opções" in bad.content.decode()


def test_an_action_with_a_broken_template_is_refused_on_that_field(signed, operator_a, catalog_a):
    status = catalog_a["Ocorrencia - Reembolso"].statuses.get(internal_description="Aprovado")
    url = f"{_root(operator_a)}acao/em/{status.pk}/novo/"
    data = {
        "description": "Aviso por e-mail",
        "kind": "email",
        "is_active": "on",
        "subject_template": "Protocolo {{ protocolo }}",
        "body_template": "Olá\n{{ beneficiario.nome }}",
        "whatsapp_language": "pt_BR",
    }
    response = signed.post(url, data)
    assert response.status_code == 400
    assert "Linha 2" in response.content.decode()
    assert not StatusAction.objects.exists()
    response = signed.post(url, {**data, "body_template": "Olá, {{ beneficiario }}."})
    action = StatusAction.objects.get()
    assert response.url == f"{_root(operator_a)}item/acao/{action.pk}/"
    page = signed.get(response.url).content.decode()
    assert "Enviar teste" in page
    sent = signed.post(
        f"/entregas/acoes/{action.pk}/testar/",
        {"recipient": "teste@exemplo.com.br", "next": response.url},
    )
    assert sent.url == response.url
    assert Delivery.objects.get().recipient == "teste@exemplo.com.br"


def test_units_reasons_calendars_and_deadlines_are_kept_here(signed, operator_a):
    root = _root(operator_a)
    assert (
        signed.post(f"{root}unidades/novo/", {"name": "Ouvidoria", "code": "OUV"}).status_code
        == 302
    )
    unit = Unit.objects.get(operator=operator_a, name="Ouvidoria")
    assert (
        signed.post(
            f"{root}unidades/{unit.pk}/", {"name": "Ouvidoria Geral", "code": "OUV"}
        ).status_code
        == 302
    )
    unit.refresh_from_db()
    assert (unit.name, unit.is_active) == ("Ouvidoria Geral", False)
    assert "Ouvidoria Geral" in signed.get(f"{root}unidades/").content.decode()
    bad = signed.post(
        f"{root}calendarios/novo/",
        {"name": "Plantão", "workdays": ["0", "1"], "opens_at": "18:00", "closes_at": "08:00"},
    )
    assert bad.status_code == 400
    assert "O horário de fechamento deve ser depois" in bad.content.decode()
    reason = signed.post(f"{root}motivos/novo/", {"description": "Carência não cumprida"})
    assert reason.status_code == 302
    deadline = signed.post(f"{root}prazos/novo/", {"name": "SAC", "preset": "sac_11034"})
    assert deadline.status_code == 302, deadline.content.decode()[:2000]


def test_a_hook_shows_its_secret_and_rotates_it(signed, operator_a, catalog_a, settings):
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.0/8"]
    status = catalog_a["Ocorrencia - Reembolso"].statuses.get(internal_description="Aprovado")
    response = signed.post(
        f"{_root(operator_a)}acao/em/{status.pk}/novo/",
        {
            "description": "Sistema de pagamentos",
            "kind": "hook",
            "is_active": "on",
            "recipient": "http://127.0.0.1:9/ganchos",
            "whatsapp_language": "pt_BR",
        },
    )
    action = StatusAction.objects.get()
    first = action.hook_secret
    assert first.startswith("whsec_") and first in signed.get(response.url).content.decode()
    rotated = signed.post(f"{_root(operator_a)}acoes/{action.pk}/segredo/")
    assert rotated.url == response.url
    action.refresh_from_db()
    assert action.hook_secret != first and action.hook_previous_secret == first
    assert "O segredo anterior também assina até" in signed.get(response.url).content.decode()


def _days(*rows, initial=0):
    data = {
        "days-TOTAL_FORMS": str(len(rows)),
        "days-INITIAL_FORMS": str(initial),
        "days-MIN_NUM_FORMS": "0",
        "days-MAX_NUM_FORMS": "400",
    }
    for n, row in enumerate(rows):
        data.update({f"days-{n}-{key}": value for key, value in row.items()})
    return data


def test_a_calendars_own_days_off_are_kept_here(signed, operator_a):
    from atende.catalog.models import BusinessCalendar

    calendar = BusinessCalendar.objects.for_operator(operator_a).first()
    url = f"{_root(operator_a)}calendarios/{calendar.pk}/folgas/"
    assert "Folgas" in signed.get(f"{_root(operator_a)}calendarios/").content.decode()
    twice = signed.post(
        url,
        _days(
            {"date": "2026-12-24", "description": "Véspera de Natal"},
            {"date": "24/12/2026", "description": "Repetida"},
        ),
    )
    assert twice.status_code == 400
    assert "Cada data pode aparecer uma vez só" in twice.content.decode()
    assert not calendar.days_off.exists()
    saved = signed.post(
        url,
        _days(
            {"date": "2026-12-24", "description": "Véspera de Natal"},
            {"date": "2026-08-15", "description": "Padroeira", "every_year": "on"},
        ),
    )
    assert saved.status_code == 302
    days = {(d.date.isoformat(), d.every_year) for d in calendar.days_off.all()}
    assert days == {("2026-12-24", False), ("2026-08-15", True)}
    page = signed.get(url).content.decode()
    assert "Padroeira" in page
    removed = signed.post(
        url,
        _days(
            {"date": "2026-08-15", "description": "Padroeira", "every_year": "on"},
            {"date": "2026-12-24", "description": "Véspera de Natal", "DELETE": "on"},
            {"date": "", "description": ""},
            initial=2,
        ),
    )
    assert removed.status_code == 302
    assert [d.description for d in calendar.days_off.all()] == ["Padroeira"]


def test_fields_are_added_without_publishing_and_the_form_is_one_version(signed, operator_a):
    url = f"{_root(operator_a)}formularios/novo/"
    first = {"label": "Data da visita", "type": "date", "ORDER": "1"}
    added = signed.post(url, {"name": "Visita", "add_field": "1", **_rows(first)})
    assert added.status_code == 200
    page = added.content.decode()
    assert 'data-field-row="2"' in page and 'value="Data da visita"' in page
    assert not Form.objects.filter(name="Visita").exists()
    fields = (
        first,
        {"label": "Endereço do imóvel", "type": "text", "ORDER": "2"},
        {"label": "Nº do hidrômetro", "type": "text", "ORDER": "3"},
        {"label": "Observação", "key": "obs", "type": "long_text", "ORDER": "4"},
    )
    saved = signed.post(url, {"name": "Visita", **_rows(*fields)})
    assert saved.status_code == 302
    form = Form.objects.get(name="Visita")
    [version] = form.versions.all()
    assert [f["key"] for f in version.fields] == [
        "data_da_visita",
        "endereco_do_imovel",
        "no_do_hidrometro",
        "obs",
    ]
