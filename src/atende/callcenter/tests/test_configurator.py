"""The configurator's side of the call center: the cascading lists (the level follows
from the parent), the scales, and the settings refusing a type that cannot end a call."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from atende.callcenter.models import CallCenterSettings
from atende.catalog.models import Classification, ClassificationLevel, Level
from atende.catalog.services import classification_create
from atende.tenancy.models import Role
from atende.testing.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def configurator(operator_a):
    client = Client()
    client.force_login(MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user)
    return client


def test_lists_are_built_type_then_category_then_subcategory(configurator, operator_a):
    url = f"/configuracao/{operator_a.pk}/manifestacoes/novo/"
    assert configurator.post(url, {"name": "Reclamação"}).status_code == 302
    kind = Classification.objects.get(name="Reclamação")
    assert configurator.post(url, {"name": "Rede", "parent": kind.pk}).status_code == 302
    category = Classification.objects.get(name="Rede")
    assert configurator.post(url, {"name": "Negativa", "parent": category.pk}).status_code == 302
    levels = dict(Classification.objects.values_list("name", "level"))
    assert levels == {
        "Reclamação": ClassificationLevel.TYPE,
        "Rede": ClassificationLevel.CATEGORY,
        "Negativa": ClassificationLevel.SUBCATEGORY,
    }
    page = configurator.get(f"/configuracao/{operator_a.pk}/manifestacoes/").content.decode()
    assert "Reclamação / Rede" in page
    twice = configurator.post(url, {"name": "rede", "parent": kind.pk})
    assert twice.status_code == 400
    assert "Esta lista já tem um item com este nome." in twice.content.decode()


def test_a_subcategory_holds_nothing(operator_a):
    kind = classification_create(operator=operator_a, name="Elogio")
    category = classification_create(operator=operator_a, name="Atendimento", parent=kind)
    leaf = classification_create(operator=operator_a, name="Atendente", parent=category)
    with pytest.raises(ValidationError) as refused:
        classification_create(operator=operator_a, name="Mais", parent=leaf)
    assert "parent" in refused.value.message_dict


def test_another_operators_entry_cannot_be_a_parent(configurator, operator_a, operator_b):
    foreign = classification_create(operator=operator_b, name="Alheio")
    response = configurator.post(
        f"/configuracao/{operator_a.pk}/manifestacoes/novo/", {"name": "X", "parent": foreign.pk}
    )
    assert response.status_code == 400
    assert not Classification.objects.filter(operator=operator_a).exists()


def test_scales_take_levels_and_deactivate_them(configurator, operator_a):
    url = f"/configuracao/{operator_a.pk}/escalas/novo/"
    response = configurator.post(url, {"scale": "priority", "name": "Urgente", "rank": 5})
    assert response.status_code == 302
    level = Level.objects.get()
    edit = f"/configuracao/{operator_a.pk}/escalas/{level.pk}/"
    assert configurator.post(edit, {"name": "Urgente", "rank": 5}).status_code == 302
    level.refresh_from_db()
    assert level.is_active is False


def test_the_settings_refuse_a_type_that_cannot_end_a_call(
    configurator, operator_a, app_a, catalog_a, call_center_a
):
    config = CallCenterSettings.objects.get(operator=operator_a)
    url = f"/configuracao/{operator_a.pk}/central/"
    assert configurator.get(url).status_code == 200
    kind = catalog_a["Atualização Cadastral"]
    kind.statuses.filter(closing="closed").update(is_active=False)
    response = configurator.post(
        url,
        {
            "application": app_a.pk,
            "occurrence_type": kind.pk,
            "abandon_after_minutes": 10,
            "missed_after_seconds": 60,
        },
    )
    assert response.status_code == 400
    assert "não resolvido" in response.content.decode()
    config.refresh_from_db()
    assert config.occurrence_type.name == "Atendimento ao beneficiário"
    response = configurator.post(
        url,
        {
            "application": app_a.pk,
            "occurrence_type": config.occurrence_type_id,
            "abandon_after_minutes": 10,
            "missed_after_seconds": 60,
        },
    )
    assert response.status_code == 302
    config.refresh_from_db()
    assert config.abandon_after_minutes == 10


def test_attendants_do_not_reach_the_settings(operator_a, attendant_a, call_center_a):
    client = Client()
    client.force_login(attendant_a)
    assert client.get(f"/configuracao/{operator_a.pk}/central/").status_code == 404
