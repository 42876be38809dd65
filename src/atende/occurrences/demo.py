"""Demo occurrences: a few hundred contacts over the last 90 days, in every state, made
through the real services (so their events, protocols and SLA are exactly what use makes)."""

import random
from datetime import datetime, timedelta

from django.utils import timezone
from validate_docbr import CPF

from atende.catalog.models import CannedReply, OccurrenceType, Status
from atende.catalog.services import canned_reply_create
from atende.occurrences.models import Channel, Mode, Nature, Occurrence
from atende.occurrences.services import (
    Actor,
    actor_for_application,
    actor_for_user,
    occurrence_add_note,
    occurrence_change_status,
    occurrence_close,
    occurrence_create,
    occurrence_customer_message,
    occurrence_fill_tab,
    occurrence_release,
    occurrence_reply,
    occurrence_start_attendance,
)
from atende.tenancy.models import Application, Instance, Membership, Operator, Role

FIRST_NAMES = "Ana Bruno Carla Daniel Eduarda Felipe Gabriela Heitor Isabela João Larissa Marcos"
LAST_NAMES = "Silva Santos Oliveira Souza Lima Pereira Costa Rodrigues Almeida Nascimento"
CHANNELS = [Channel.APP, Channel.WEB, Channel.PHONE, Channel.WHATSAPP, Channel.PUBLIC_API]
RECEIPT = {"numero": "1001", "data": "2024-06-01", "valor": "180.00", "tipo": "Consulta"}


def demo_occurrences_create(
    *,
    operator: Operator,
    count: int,
    seed: int = 2026,
    people: list[tuple[str, str]] | None = None,
    population: list[tuple[str, str]] | None = None,
) -> int:
    """Create ``count`` occurrences for ``operator`` unless it already has some; one in
    twenty is of one of ``people`` (CPF, name), the demo's portal beneficiaries, the others
    of ``population`` (the registry's people) or of made-up people."""
    if Occurrence.objects.for_operator(operator).exists():
        return 0
    rng = random.Random(seed)
    application = operator.applications.filter(instance=Instance.PRODUCTION, is_active=True).first()
    # The portal's kinds of request (the call center issues its own through calls;
    # registrations, which have a place, are made by ``registrations.demo``).
    types = list(
        OccurrenceType.objects.for_operator(operator)
        .filter(is_active=True, offered_in_portal=True, subjects__isnull=False, has_place=False)
        .distinct()
    )
    members = Membership.objects.filter(
        operator=operator, role__in=[Role.ATTENDANT, Role.SUPERVISOR]
    )
    actors = [actor_for_user(user=m.user, operator=operator) for m in members]
    supervisor = next(a for a in actors if a.is_supervisor)
    units = list(operator.units.filter(is_active=True))
    now = timezone.now()
    for n in range(count):
        start = now - timedelta(minutes=rng.randint(10, 90 * 24 * 60))
        if people and n % 20 == 0:
            person = rng.choice(people)
        else:
            person = rng.choice(population) if population else _person(rng)
        _one(rng, application, rng.choice(types), actors, supervisor, units, start, now, person)
    demo_canned_replies(operator)
    return count


CANNED = [
    (
        "Documentação recebida",
        "Olá, {{ beneficiario }}. Recebemos a documentação do protocolo {{ protocolo }} e a "
        "análise segue; o prazo de resposta é {{ prazo_sla }}.",
    ),
    (
        "Pendência de documentos",
        "Olá, {{ beneficiario }}. Para seguir com o protocolo {{ protocolo }}, envie pelo "
        "portal os documentos pendentes: {{ link_portal }}",
    ),
]


def demo_canned_replies(operator: Operator) -> None:
    """The operator's first canned replies, when it has none."""
    if CannedReply.objects.for_operator(operator).exists():
        return
    for title, text in CANNED:
        canned_reply_create(operator=operator, title=title, text=text)


def _person(rng: random.Random) -> tuple[str, str]:
    name = f"{rng.choice(FIRST_NAMES.split())} {rng.choice(LAST_NAMES.split())}"
    return CPF().generate(), name


def _one(
    rng: random.Random,
    application: Application,
    occurrence_type: OccurrenceType,
    actors: list[Actor],
    supervisor: Actor,
    units: list,
    start: datetime,
    now: datetime,
    person: tuple[str, str],
) -> None:
    cpf, name = person
    self_service = rng.random() < 0.4
    clock = _Clock(rng, start, now)
    occurrence = occurrence_create(
        actor=actor_for_application(application=application)
        if self_service
        else rng.choice(actors),
        application=application,
        occurrence_type=occurrence_type,
        subject=rng.choice(list(occurrence_type.subjects.all())),
        channel=rng.choice(CHANNELS[:2]) if self_service else rng.choice(CHANNELS[2:]),
        nature=Nature.SELF_SERVICE if self_service else Nature.ATTENDANCE,
        mode=Mode.ACTIVE,
        requester_identifier=cpf,
        requester_name=name,
        beneficiary_identifier=cpf,
        beneficiary_name=name,
        contract_number=f"{rng.randint(1, 99999):07d}",
        unit=rng.choice(units),
        at=clock.now,
    )
    fate = rng.random()
    if fate < 0.15 or not occurrence_type.allow_attendance:
        return  # still Novo
    attendant = rng.choice([a for a in actors if not a.is_supervisor] or actors)
    if not attendant.sees(occurrence):
        attendant = supervisor
    occurrence_start_attendance(
        actor=attendant, occurrence=occurrence, expected_version=1, at=clock.tick()
    )
    statuses = list(occurrence_type.statuses.filter(is_active=True))
    middle = [
        s for s in statuses if not s.is_closing and not s.is_default and s != occurrence.status
    ]
    if middle and rng.random() < 0.5:
        _status(attendant, occurrence, rng.choice(middle), clock)
    if rng.random() < 0.3:
        occurrence_add_note(
            actor=attendant,
            occurrence=occurrence,
            text="Contato com o beneficiário.",
            at=clock.tick(),
        )
    talk = rng.random()
    if talk < 0.3:
        # The conversation: the beneficiary asks, the attendant answers, and some of them
        # write again and wait for the answer.
        occurrence_customer_message(
            application=application,
            occurrence=occurrence,
            author=name,
            text="Bom dia, há alguma novidade sobre o meu pedido?",
            at=clock.tick(),
        )
        occurrence_reply(
            actor=attendant,
            occurrence=occurrence,
            text=f"Olá, {name.split()[0]}: estamos analisando e respondemos em breve.",
            at=clock.tick(),
        )
        if talk < 0.1:
            occurrence_customer_message(
                application=application,
                occurrence=occurrence,
                author=name,
                text="Obrigado. Enviei o comprovante pelo portal também.",
                at=clock.tick(),
            )
    if fate < 0.35:
        return  # Em atendimento
    if fate < 0.5:
        occurrence_release(
            actor=attendant,
            occurrence=occurrence,
            expected_version=occurrence.version,
            at=clock.tick(),
        )
        return  # Aberto
    for tab in occurrence_type.tabs.filter(required=True):
        occurrence_fill_tab(
            actor=attendant, occurrence=occurrence, tab=tab, data=RECEIPT, at=clock.tick()
        )
    closing = rng.choice([s for s in statuses if s.is_closing])
    reason = rng.choice(list(occurrence.operator.outcome_reasons.all()))
    occurrence_close(
        actor=attendant,
        occurrence=occurrence,
        status=closing,
        outcome_text="Solicitação atendida."
        if closing.closing == "resolved"
        else "Solicitação não procede.",
        reason=reason,
        expected_version=occurrence.version,
        at=clock.tick(),
    )


def _status(actor: Actor, occurrence: Occurrence, status: Status, clock: "_Clock") -> None:
    occurrence_change_status(
        actor=actor,
        occurrence=occurrence,
        status=status,
        expected_version=occurrence.version,
        at=clock.tick(),
    )


class _Clock:
    """Moves forward in random steps from the contact, never past now."""

    def __init__(self, rng: random.Random, start: datetime, now: datetime) -> None:
        self.rng, self.now, self.limit = rng, start, now

    def tick(self) -> datetime:
        step = timedelta(minutes=self.rng.randint(1, 6 * 60))
        self.now = min(self.now + step, self.limit)
        return self.now
