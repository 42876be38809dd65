"""The demo's Registro de Atendimento: the water company's settings, a few registrations in
Belo Horizonte's centre and two citizens' reports waiting in the intake queue, one of them
40 m from an open registration (the duplicate check offers it)."""

from atende.occurrences.services import actor_for_application
from atende.registrations.models import RegistrationSettings
from atende.registrations.presets import LEAK, install_registrations
from atende.registrations.services import registration_open, report_receive
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
    )
    leak = operator.occurrence_types.get(name=LEAK)
    street_leak = leak.subjects.get(name="Vazamento na rua")
    actor = actor_for_application(application=application)
    made = 0
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
