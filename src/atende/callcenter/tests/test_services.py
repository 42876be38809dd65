"""The call center's rules: the protocol first, manifestations on the occurrence core,
pendencies routed to units, the derived status of a contact, abandonment explicit and by
inactivity, and who may do what."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from atende.beneficiaries.models import Guide, GuideKind, GuideSituation
from atende.callcenter.models import Contact, ContactEntry, ContactStatus, EntryKind
from atende.callcenter.selectors import contact_items, contact_status
from atende.callcenter.services import (
    audit_record,
    contact_abandon,
    contact_finish,
    contact_new_event,
    contact_start,
    contacts_abandon_idle,
    entry_record,
    manifestation_record,
    pendency_create,
)
from atende.callcenter.tests.conftest import manifestation_values
from atende.catalog.models import Classification, ClassificationLevel, Closing, Level, Scale
from atende.occurrences.models import Event, EventKind, Occurrence, State
from atende.occurrences.services import NotAllowed, actor_for_user, occurrence_close
from atende.tenancy.models import Role
from atende.testing.beneficiaries import card_upserted, cpf_numbers
from atende.testing.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def first(contact: Contact) -> Occurrence:
    return contact_items(contact)[0].occurrence


def record(contact, group, user, occurrence=None, **overrides):
    occurrence = occurrence or first(contact)
    return manifestation_record(
        user=user,
        contact=contact,
        occurrence_id=occurrence.pk,
        **manifestation_values(contact.operator, group, **overrides),
    )


def test_starting_issues_the_protocol_attended_by_the_attendant(contact, attendant_a, card_a):
    occurrence = first(contact)
    assert occurrence.protocol and not occurrence.protocol.startswith("~")
    assert occurrence.attendant_id == attendant_a.pk
    assert occurrence.state == State.IN_ATTENDANCE
    assert occurrence.beneficiary_identifier == card_a.cpf
    assert occurrence.beneficiary_name == "Joana Beneficiária"
    assert occurrence.contract_number == "CT-9"
    assert occurrence.contact_email == "joana@example.com"
    assert occurrence.contact_phone == "+5511987654321"
    assert occurrence.channel == "telefone"
    assert contact_status(contact) == ContactStatus.IN_PROGRESS


@pytest.mark.parametrize(
    ("card", "message"),
    [("C-999", "No beneficiary"), ("", "No beneficiary")],
)
def test_an_unknown_card_is_refused(call_center_a, attendant_a, operator_a, card, message):
    with pytest.raises(ValidationError) as refused:
        contact_start(
            user=attendant_a,
            attendant_operator_id=operator_a.pk,
            operator_id=operator_a.pk,
            card=card,
        )
    assert "card" in refused.value.message_dict
    assert not Contact.objects.exists()


def test_another_operators_card_is_not_found(call_center_a, attendant_a, operator_a, operator_b):
    card_upserted(operator_b, card="C-100", cpf=cpf_numbers(2)[1])
    with pytest.raises(ValidationError):
        contact_start(
            user=attendant_a,
            attendant_operator_id=operator_a.pk,
            operator_id=operator_a.pk,
            card="C-200",
        )


def test_someone_of_another_operator_cannot_start(
    call_center_a, card_a, attendant_b, operator_a, operator_b
):
    with pytest.raises(NotAllowed):
        contact_start(
            user=attendant_b,
            attendant_operator_id=operator_b.pk,
            operator_id=operator_a.pk,
            card="C-100",
        )
    assert not Contact.objects.exists()


def test_an_unconfigured_call_center_says_so(card_a, attendant_a, operator_a, catalog_a):
    with pytest.raises(ValidationError) as refused:
        contact_start(
            user=attendant_a,
            attendant_operator_id=operator_a.pk,
            operator_id=operator_a.pk,
            card="C-100",
        )
    assert refused.value.code == "not_configured"


def test_a_manifestation_lands_on_the_occurrence_with_its_event(contact, group_a, attendant_a):
    occurrence = record(contact, group_a, attendant_a, observation="Ligar após 14h")
    occurrence.refresh_from_db()
    assert occurrence.classification.level == ClassificationLevel.SUBCATEGORY
    assert occurrence.procedure_group_id == group_a.pk
    assert occurrence.priority.scale == Scale.PRIORITY
    assert occurrence.observation == "Ligar após 14h"
    event = Event.objects.get(occurrence=occurrence, kind=EventKind.MANIFESTATION)
    assert event.payload["subcategory"] == occurrence.classification.name
    assert event.payload["category"] == occurrence.classification.parent.name
    assert event.payload["priority"] == occurrence.priority.name
    assert event.actor_id == attendant_a.pk


def test_a_category_is_not_a_classification(contact, group_a, attendant_a, operator_a):
    category = Classification.objects.filter(
        operator=operator_a, level=ClassificationLevel.CATEGORY
    ).first()
    with pytest.raises(ValidationError) as refused:
        record(contact, group_a, attendant_a, classification=category.pk)
    assert "classification" in refused.value.message_dict


def test_an_inactive_branch_cannot_classify(contact, group_a, attendant_a, operator_a):
    subcategory = Classification.objects.filter(
        operator=operator_a, level=ClassificationLevel.SUBCATEGORY
    ).first()
    Classification.objects.filter(pk=subcategory.parent.parent_id).update(is_active=False)
    with pytest.raises(ValidationError):
        record(contact, group_a, attendant_a, classification=subcategory.pk)


def test_a_level_of_another_scale_or_operator_is_refused(
    contact, group_a, attendant_a, operator_b, app_b, catalog_b
):
    sentiment = Level.objects.filter(operator=contact.operator, scale=Scale.SENTIMENT).first()
    with pytest.raises(ValidationError) as refused:
        record(contact, group_a, attendant_a, priority=sentiment.pk)
    assert "priority" in refused.value.message_dict
    foreign = Level.objects.create(operator=operator_b, scale=Scale.URGENCY, name="X", rank=1)
    with pytest.raises(ValidationError) as refused:
        record(contact, group_a, attendant_a, urgency=foreign.pk)
    assert "urgency" in refused.value.message_dict


def test_the_description_is_required(contact, group_a, attendant_a):
    with pytest.raises(ValidationError) as refused:
        record(contact, group_a, attendant_a, description="  ")
    assert "description" in refused.value.message_dict
    assert first(contact).classification_id is None


def test_guides_are_checked_against_the_registry(contact, group_a, attendant_a, card_a):
    other = card_upserted(contact.operator, card="C-200", cpf=cpf_numbers(3)[2])
    for number, beneficiary in (("111", card_a), ("222", other)):
        Guide.objects.create(
            operator=contact.operator,
            beneficiary=beneficiary,
            number=number,
            kind=GuideKind.AUTHORISATION,
            issued_on=timezone.localdate(),
            procedure="Consulta",
            situation=GuideSituation.AUTHORISED,
        )
    with pytest.raises(ValidationError) as refused:
        record(contact, group_a, attendant_a, guides=[{"number": "222", "kind": "consulta"}])
    assert "222" in refused.value.message_dict["guides"][0]
    with pytest.raises(ValidationError):
        record(contact, group_a, attendant_a, guides=[{"number": "12a", "kind": "consulta"}])
    occurrence = record(
        contact,
        group_a,
        attendant_a,
        guides=[
            {"number": "111", "kind": "sp_sadt", "password": "XPTO1"},
            {"number": "999", "kind": "consulta", "password": ""},
        ],
    )
    occurrence.refresh_from_db()
    assert [g["number"] for g in occurrence.guides] == ["111", "999"]


def test_a_whole_call_pending_until_the_unit_closes_its_pendency(
    contact, group_a, attendant_a, supervisor_a, pendency_unit_a, catalog_a, operator_a
):
    manifestation = record(contact, group_a, attendant_a)
    second = contact_new_event(user=attendant_a, contact=contact)
    assert second.protocol != manifestation.protocol
    record(contact, group_a, attendant_a, occurrence=second)
    kind = catalog_a["Solicitação de Autorização"]
    pendency = pendency_create(
        user=attendant_a,
        contact=contact,
        occurrence_id=manifestation.pk,
        occurrence_type=kind,
        subject=None,
        unit=pendency_unit_a,
        description="Autorizar consulta",
    )
    assert pendency.parent_id == manifestation.pk
    assert pendency.unit_id == pendency_unit_a.pk
    assert pendency.protocol not in (manifestation.protocol, second.protocol)
    contact_finish(user=attendant_a, contact=contact)
    assert contact_status(contact) == ContactStatus.PENDING
    second.refresh_from_db()
    manifestation.refresh_from_db()
    assert second.state == State.CLOSED and second.resolved is True
    assert manifestation.state != State.CLOSED

    actor = actor_for_user(user=supervisor_a, operator=operator_a)
    closing = kind.statuses.get(closing=Closing.RESOLVED)
    occurrence_close(
        actor=actor,
        occurrence=pendency,
        status=closing,
        outcome_text="Autorizada",
        expected_version=None,
    )
    assert contact_status(contact) == ContactStatus.CONCLUDED


def test_finishing_needs_every_manifestation(contact, group_a, attendant_a):
    record(contact, group_a, attendant_a)
    second = contact_new_event(user=attendant_a, contact=contact)
    with pytest.raises(ValidationError) as refused:
        contact_finish(user=attendant_a, contact=contact)
    assert second.protocol in refused.value.messages[0]
    contact.refresh_from_db()
    assert contact.finished_at is None
    assert not Occurrence.objects.filter(state=State.CLOSED).exists()


def test_an_abandoned_call_keeps_its_protocol_closed_unresolved(contact, group_a, attendant_a):
    occurrence = first(contact)
    contact_abandon(user=attendant_a, contact=contact)
    assert contact_status(contact) == ContactStatus.ABANDONED
    occurrence.refresh_from_db()
    assert occurrence.state == State.CLOSED and occurrence.resolved is False
    assert occurrence.outcome_text.startswith("Atendimento abandonado")
    with pytest.raises(ValidationError) as refused:
        record(contact, group_a, attendant_a)
    assert refused.value.code == "abandoned"
    with pytest.raises(ValidationError):
        contact_finish(user=attendant_a, contact=contact)


def test_inactivity_abandons_only_past_the_limit(contact, call_center_a):
    now = timezone.now()
    assert contacts_abandon_idle(now=now + timedelta(minutes=29)) == 0
    assert contacts_abandon_idle(now=now + timedelta(minutes=31)) == 1
    contact.refresh_from_db()
    assert contact.abandoned_idle
    assert contact_status(contact) == ContactStatus.ABANDONED
    closed = Event.objects.get(occurrence=first(contact), kind=EventKind.CLOSED)
    assert closed.actor_id is None and closed.actor_application_id is not None


def test_activity_postpones_the_idle_limit(contact, group_a, attendant_a):
    Contact.objects.filter(pk=contact.pk).update(
        last_activity_at=timezone.now() - timedelta(minutes=40)
    )
    record(contact, group_a, attendant_a)
    assert contacts_abandon_idle() == 0


def test_another_attendant_cannot_work_the_contact_but_a_supervisor_can(
    contact, group_a, operator_a, supervisor_a
):
    other = MembershipFactory(operator=operator_a, role=Role.ATTENDANT).user
    with pytest.raises(NotAllowed):
        record(contact, group_a, other)
    with pytest.raises(NotAllowed):
        contact_abandon(user=other, contact=contact)
    record(contact, group_a, supervisor_a)
    contact_finish(user=supervisor_a, contact=contact)
    assert contact_status(contact) == ContactStatus.CONCLUDED


def test_a_protocol_of_another_contact_is_refused(
    contact, group_a, attendant_a, operator_a, card_a
):
    other = contact_start(
        user=attendant_a,
        attendant_operator_id=operator_a.pk,
        operator_id=operator_a.pk,
        card="C-100",
    )
    with pytest.raises(ValidationError) as refused:
        record(contact, group_a, attendant_a, occurrence=first(other))
    assert refused.value.code == "foreign"


def test_entries_are_kept_and_never_changed(contact, attendant_a):
    entry_record(user=attendant_a, contact=contact, kind=EntryKind.HISTORY)
    audit_record(user=attendant_a, contact=contact, text="Beneficiária confirmou o endereço.")
    assert list(contact.entries.values_list("kind", flat=True)) == [
        EntryKind.HISTORY,
        EntryKind.AUDIT,
    ]
    with pytest.raises(DatabaseError), transaction.atomic():
        ContactEntry.objects.filter(contact=contact).update(text="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        ContactEntry.objects.filter(contact=contact).delete()
    with pytest.raises(ValidationError):
        audit_record(user=attendant_a, contact=contact, text=" ")
