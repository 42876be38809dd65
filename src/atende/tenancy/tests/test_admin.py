"""Bad input in the platform administration is refused with a clear message."""

import pytest

from atende.accounts.models import User
from atende.tenancy.models import Operator
from atende.testing.factories import OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _operator_form(**overrides: str) -> dict:
    data = {
        "name": "Nova Operadora",
        "ans_registration": "123456",
        "cnpj": "",
        "time_zone": "America/Sao_Paulo",
        "state": "SP",
        "municipality": "",
        "is_active": "on",
        "report_max_days": "366",
    }
    for prefix in ("applications", "units"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(overrides)
    return data


def test_the_admin_refuses_a_bad_ans_registration_with_its_message(admin_client):
    response = admin_client.post(
        "/admin/tenancy/operator/add/", _operator_form(ans_registration="12")
    )
    assert response.status_code == 200
    assert "O registro ANS tem exatamente 6 dígitos" in response.content.decode()
    assert not Operator.objects.exists()


def test_the_admin_refuses_a_bad_cnpj_and_a_duplicate_ans(admin_client):
    OperatorFactory(ans_registration="123456")
    response = admin_client.post(
        "/admin/tenancy/operator/add/", _operator_form(cnpj="11.111.111/1111-11")
    )
    content = response.content.decode()
    assert "CNPJ inválido" in content
    assert "Outra operadora já tem este registro ANS" in content


def test_the_admin_accepts_a_formatted_cnpj_and_stores_digits(admin_client):
    response = admin_client.post(
        "/admin/tenancy/operator/add/", _operator_form(cnpj="11.222.333/0001-81")
    )
    assert response.status_code == 302
    assert Operator.objects.get().cnpj == "11222333000181"


def test_the_admin_refuses_a_duplicate_user_e_mail(admin_client):
    UserFactory(email="joana@exemplo.com.br")
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "JOANA@exemplo.com.br",
            "full_name": "Joana",
            "password1": "Senha-forte-2026",
            "password2": "Senha-forte-2026",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert "já existe" in response.content.decode()
    assert User.objects.filter(email__iexact="joana@exemplo.com.br").count() == 1
