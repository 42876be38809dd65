"""The demo's Registro de Atendimento: the water company's settings, service types, the
refund type, an operational incident, a few hundred registrations of the last 90 days in
every state (some with service orders), three in Belo Horizonte's centre and two citizens'
reports waiting in the intake queue, one of them 40 m from an open registration (the
duplicate check offers it)."""

import random
from datetime import timedelta

from django.utils import timezone

from atende.catalog.models import Closing
from atende.occurrences.services import (
    actor_for_application,
    occurrence_close,
    occurrence_release,
    occurrence_start_attendance,
)
from atende.registrations.models import (
    IncidentReason,
    OrderOutcome,
    OrderState,
    RegistrationSettings,
)
from atende.registrations.presets import (
    LEAK,
    install_attended_sms,
    install_refunds,
    install_registrations,
)
from atende.registrations.services import (
    incident_create,
    order_create,
    order_move,
    registration_open,
    report_receive,
)
from atende.tenancy.models import Application, Operator, Unit

CITY = "Belo Horizonte"
STREETS = [
    ("Avenida Afonso Pena", "1212", "Centro", -19.92450, -43.93520, "Maria das Dores"),
    ("Rua da Bahia", "1148", "Centro", -19.92200, -43.93800, "José Ferreira"),
    ("Rua Pernambuco", "1000", "Savassi", -19.93400, -43.93300, "Luiza Campos"),
]


def demo_registrations_create(*, operator: Operator, application: Application) -> int:
    """Installs the settings and the examples once; returns how many were made."""
    if RegistrationSettings.objects.filter(operator=operator).exists():
        return 0
    units = {unit.name: unit for unit in Unit.objects.for_operator(operator)}
    install_registrations(
        operator,
        application,
        units={"field": units["Manutenção de Redes"], "desk": units["Atendimento"]},
        city=CITY,
        attended_sms=False,
    )
    install_refunds(operator, unit=units["Comercial"])
    leak = operator.occurrence_types.get(name=LEAK)
    street_leak = leak.subjects.get(name="Vazamento na rua")
    actor = actor_for_application(application=application)
    made = _history(actor, application, leak)
    # The SMS to requesters once the history is in: it tells the demo's own citizens.
    install_attended_sms(leak)
    reason = IncidentReason.objects.create(operator=operator, description="Rompimento de adutora")
    IncidentReason.objects.create(operator=operator, description="Parada programada")
    now = timezone.now()
    incident_create(
        actor=_supervisor(operator),
        reason=reason,
        description="Adutora da Av. do Contorno",
        subjects=list(leak.subjects.filter(name="Falta de água")),
        city=CITY,
        neighbourhoods=["Funcionários", "Savassi"],
        starts_at=now - timedelta(hours=3),
        expected_end_at=now + timedelta(hours=9),
    )
    for index, (street, number, area, lat, lon, name) in enumerate(STREETS):
        registration_open(
            actor=actor,
            application=application,
            occurrence_type=leak,
            subject=street_leak,
            channel="telefone",
            description="Água correndo pela sarjeta desde a manhã.",
            place={
                "street": street,
                "number": number,
                "neighbourhood": area,
                "city": CITY,
                "state": "MG",
                "latitude": lat,
                "longitude": lon,
                "property_registration": f"10{index:04d}",
            },
            requesters=[{"name": name, "phone": f"3199000{index:04d}"}],
        )
        made += 1
    # Two reports wait: one 40 m from the first registration, one by SMS without a place.
    report_receive(
        application=application,
        subject=street_leak,
        description="Vazamento na calçada, perto do ponto de ônibus.",
        phone="31998887766",
        place={"latitude": -19.92486, "longitude": -43.93520, "city": CITY},
    )
    report_receive(
        application=application,
        subject=None,
        occurrence_type=leak,
        channel="sms",
        description="Vazamento na Rua Pernambuco 1000, jorrando muita água",
        phone="31997776655",
        place={},
    )
    return made + 2


AREAS = ["Centro", "Savassi", "Funcionários", "Santa Efigênia", "Barro Preto", "Lourdes"]
STREET_NAMES = ["Rua da Bahia", "Rua Espírito Santo", "Avenida Amazonas", "Rua Tupis", "Rua Goiás"]


def _supervisor(operator: object) -> object:
    from atende.occurrences.services import actor_for_user
    from atende.tenancy.models import Membership, Role

    membership = (
        Membership.objects.filter(operator=operator, role=Role.SUPERVISOR, is_active=True)
        .select_related("user")
        .first()
    )
    return actor_for_user(user=membership.user, operator=operator)


def _history(actor: object, application: object, leak: object, count: int = 300) -> int:
    """Registrations over the last 90 days in every state: new, in attendance, open with
    a service order in each of its states, closed attended or not."""
    rng = random.Random(2004)
    supervisor = _supervisor(application.operator)
    subjects = list(leak.subjects.order_by("pk"))
    closes = {s.closing: s for s in leak.statuses.exclude(closing=Closing.NONE)}
    now = timezone.now()
    for n in range(count):
        subject = rng.choice(subjects)
        lat = -19.93 + rng.uniform(-0.02, 0.02)
        lon = -43.94 + rng.uniform(-0.02, 0.02)
        occurrence = registration_open(
            actor=actor,
            application=application,
            occurrence_type=leak,
            subject=subject,
            channel=rng.choice(["telefone", "appMobile", "presencial", "sms"]),
            description=rng.choice(
                ["Água na calçada", "Sem água desde ontem", "Vazamento no cavalete"]
            ),
            place={
                "street": rng.choice(STREET_NAMES),
                "number": str(rng.randrange(10, 2000)),
                "neighbourhood": rng.choice(AREAS),
                "city": CITY,
                "state": "MG",
                "latitude": lat,
                "longitude": lon,
            },
            requesters=[{"name": f"Morador {n + 1}"}],
            at=now - timedelta(days=rng.uniform(0, 90)),
        )
        fate = n % 6
        if fate == 0:
            continue  # new, in the queue
        occurrence_start_attendance(actor=supervisor, occurrence=occurrence, expected_version=None)
        if fate == 1:
            if rng.random() < 0.5:  # back in the queue, attended before: Aberto
                occurrence_release(actor=supervisor, occurrence=occurrence, expected_version=None)
            continue
        service = subject.service_types.filter(is_active=True).first()
        if fate in (2, 3) and service is not None:
            order = order_create(actor=supervisor, occurrence=occurrence, service_type=service)
            if fate == 2 and rng.random() < 0.5:
                order_move(actor=supervisor, order=order, state=OrderState.RUNNING)
            if fate == 3:
                order = order_move(actor=supervisor, order=order, state=OrderState.RUNNING)
                order_move(
                    actor=supervisor,
                    order=order,
                    state=OrderState.CLOSED,
                    outcome=OrderOutcome.EXECUTED,
                    opinion="Serviço executado pela equipe.",
                )
            else:
                continue  # open, its order pending
        elif fate == 2:
            continue  # a team on its way, no order
        occurrence_close(
            actor=supervisor,
            occurrence=occurrence,
            status=closes[Closing.RESOLVED if fate in (3, 4) else Closing.CLOSED],
            outcome_text="Reparo executado." if fate in (3, 4) else "Vazamento não localizado.",
            expected_version=None,
        )
    return count
