import pytest

from atende.portal.services import beneficiary_login_create

CPF = "52998224725"
PASSWORD = "Senha-do-portal-2026"
HOME = "/portal/br.com.operadora.a/"


@pytest.fixture
def beatriz(operator_a, app_a, catalog_a):
    """A portal login of operator A's production application."""
    return beneficiary_login_create(
        operator=operator_a,
        login="0001234",
        cpf="529.982.247-25",
        name="Beatriz Beneficiária",
        email="beatriz@exemplo.com.br",
        contract_number="C-77",
        password=PASSWORD,
    )


@pytest.fixture
def signed_in(client, beatriz):
    response = client.post(f"{HOME}entrar/", {"cpf": "529.982.247-25", "password": PASSWORD})
    assert response.status_code == 302
    return client
