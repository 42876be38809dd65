"""The navigation bar: on every staff page, what the person's roles reach, and nothing in
the beneficiary's portal."""

import re

import pytest

from atende.portal.services import beneficiary_login_create
from atende.tenancy.models import Role
from atende.testing.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _links(page: str) -> list[str]:
    bar = re.search(r'<nav class="mainnav".*?</nav>', page, re.S)
    return re.findall(r">([^<]+)</a>", bar.group(0)) if bar else []


def test_each_role_sees_what_it_reaches_from_every_page(client, attendant_a, supervisor_a):
    client.force_login(attendant_a)
    assert _links(client.get("/painel/").content.decode()) == [
        "Painel",
        "Triagem",
        "Registrar atendimento",
        "Beneficiários",
    ]
    client.force_login(supervisor_a)
    page = client.get("/relatorios/indicadores/").content.decode()
    assert _links(page) == [
        "Painel",
        "Triagem",
        "Registrar atendimento",
        "Beneficiários",
        "Indicadores",
        "Relatórios",
        "Central de entregas",
    ]
    assert re.search(r'href="/relatorios/indicadores/" aria-current="page"', page)
    assert 'href="/relatorios/" aria-current' not in page


def test_a_configurator_reaches_the_configuration(client, operator_a, catalog_a):
    configurator = MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user
    client.force_login(configurator)
    assert _links(client.get("/configuracao/", follow=True).content.decode()) == ["Configuração"]


def test_the_portal_has_no_staff_navigation(client, supervisor_a, operator_a, app_a):
    beneficiary_login_create(
        operator=operator_a, login="1", cpf="52998224725", name="Bia", password="Senha-2026-boa"
    )
    client.force_login(supervisor_a)  # a staff session in the same browser changes nothing
    page = client.get(f"/portal/{app_a.bundle}/entrar/").content.decode()
    assert 'class="mainnav"' not in page


def test_the_platform_administrator_is_sent_to_the_administration(client):
    from atende.testing.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get("/").content.decode()
    assert "Você administra a plataforma" in page
    assert "Peça ao administrador" not in page  # they are the administrator
    assert '<a class="button primary" href="/admin/">Administração da plataforma</a>' in page


def test_someone_with_no_role_is_told_whom_to_ask(client):
    from atende.testing.factories import UserFactory

    client.force_login(UserFactory())
    page = client.get("/").content.decode()
    assert "Peça ao administrador da sua operadora que lhe atribua um papel." in page
    assert "/admin/" not in page
