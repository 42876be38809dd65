"""The audit tables keep what happened: accesses are never changed nor removed; a change is
never removed and only its fields may be rewritten (by an anonymisation)."""

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from atende.beneficiaries.models import Access, Change, ChangeKind
from atende.beneficiaries.services import access_record
from atende.testing.beneficiaries import card_upserted, cpf_numbers

pytestmark = pytest.mark.django_db

[CPF] = cpf_numbers(1)


@pytest.fixture
def card(operator_a):
    return card_upserted(operator_a, card="Z1", cpf=CPF)


def refused(action) -> bool:
    try:
        with transaction.atomic():
            action()
    except DatabaseError:
        return True
    return False


def test_an_access_is_neither_changed_nor_removed(card, attendant_a):
    access_record(user=attendant_a, beneficiary=card, screen="beneficiary_page")
    access = Access.objects.get()

    assert refused(lambda: Access.objects.filter(pk=access.pk).update(screen="x"))
    assert refused(lambda: Access.objects.filter(pk=access.pk).delete())
    assert Access.objects.get().screen == "beneficiary_page"


def test_a_change_is_kept_and_only_its_fields_rewritten(card, attendant_a):
    change = Change.objects.get(beneficiary=card)
    assert change.kind == ChangeKind.CREATED

    assert refused(lambda: Change.objects.filter(pk=change.pk).delete())
    assert refused(lambda: Change.objects.filter(pk=change.pk).update(kind=ChangeKind.UPDATED))
    assert refused(lambda: Change.objects.filter(pk=change.pk).update(at=timezone.now()))
    assert refused(lambda: Change.objects.filter(pk=change.pk).update(user=attendant_a))
    assert not refused(lambda: Change.objects.filter(pk=change.pk).update(fields={"x": [1, 2]}))
    change.refresh_from_db()
    assert (change.kind, change.fields) == (ChangeKind.CREATED, {"x": [1, 2]})
