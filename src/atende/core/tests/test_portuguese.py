"""No English left where a person reads: Django's own pieces (the empty choice of a select,
the error pages) speak Portuguese too, and no page has two inputs with one id."""

import re
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.views.defaults import bad_request, permission_denied, server_error

from atende.tenancy.models import Role
from atende.testing.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def configurator(client, operator_a, catalog_a):
    client.force_login(MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user)
    return client


def test_selects_and_labels_of_the_configurator_are_in_portuguese(
    configurator, operator_a, catalog_a
):
    calendar = configurator.get(f"/configuracao/{operator_a.pk}/calendarios/novo/")
    assert calendar.status_code == 200
    assert "Select an option" not in calendar.content.decode()
    assert "- Selecione uma opção -" in calendar.content.decode()
    kind = catalog_a["Ocorrencia - Reembolso"]
    tab = configurator.get(f"/configuracao/{operator_a.pk}/aba/em/{kind.pk}/novo/")
    assert '<label for="id_form">Formulário' in tab.content.decode()


def test_each_language_is_named_in_itself(client):
    content = client.get("/conta/entrar/").content.decode()
    assert ">English</option>" in content and ">Português (Brasil)</option>" in content


def test_the_action_page_has_no_two_inputs_with_one_id(configurator, catalog_a):
    from atende.catalog.models import ActionKind
    from atende.catalog.services import status_action_create

    status = catalog_a["Ocorrencia - Reembolso"].statuses.get(internal_description="Aprovado")
    action = status_action_create(
        status=status, description="Aviso", kind=ActionKind.EMAIL, body_template="{{ status }}"
    )
    content = configurator.get(
        f"/configuracao/{status.occurrence_type.operator_id}/item/acao/{action.pk}/"
    ).content.decode()
    ids = Counter(re.findall(r'\sid="([^"]+)"', content))
    assert [i for i, n in ids.items() if n > 1] == []
    # Each label points at its own box.
    for target in re.findall(r'<label for="([^"]+)"', content):
        assert ids[target] == 1, target


def test_a_missing_page_is_the_products_own_in_portuguese(client, attendant_a):
    client.force_login(attendant_a)
    page = client.get("/painel/nao-existe/de-jeito-nenhum/")
    content = page.content.decode()
    assert page.status_code == 404
    assert "Página não encontrada" in content
    assert 'href="/"' in content and "Voltar à página inicial" in content
    assert "Not Found" not in content


@pytest.mark.parametrize(
    ("view", "title"),
    [(server_error, "Algo deu errado"), (bad_request, "Pedido não compreendido")],
)
def test_error_pages_rendered_without_a_request_are_in_portuguese(view, title):
    request = RequestFactory().get("/")
    response = view(request) if view is server_error else view(request, exception=None)
    content = response.content.decode()
    assert title in content and "Voltar à página inicial" in content
    assert "Server Error" not in content and "Bad Request" not in content


def test_a_forbidden_page_is_in_portuguese(attendant_a):
    request = RequestFactory().get("/")
    request.user = attendant_a
    content = permission_denied(request, exception=PermissionDenied()).content.decode()
    assert "Não permitido" in content and "Voltar à página inicial" in content
    assert "Forbidden" not in content


def test_a_form_sent_from_an_expired_page_gets_our_page_and_saves_nothing(attendant_a):
    from django.test import Client

    from atende.accounts.models import User

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(attendant_a)
    page = browser.post("/conta/perfil/", {"full_name": "Outro Nome"})
    content = page.content.decode()
    assert page.status_code == 403
    assert "A página expirou" in content and "botão Voltar" in content
    assert "Forbidden" not in content and "CSRF verification" not in content
    assert User.objects.get(pk=attendant_a.pk).full_name == attendant_a.full_name


def test_an_unknown_api_address_is_answered_in_the_apis_json(client):
    response = client.get("/api/v1/nao-existe")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Não há esse endereço na API."}


def test_an_api_address_called_with_a_method_it_does_not_take_says_which_it_takes(client):
    response = client.put("/api/v1/me")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json() == {
        "code": "method_not_allowed",
        "message": "Este endereço não aceita PUT; aceita GET.",
    }
