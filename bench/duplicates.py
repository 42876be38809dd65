"""The Registro de Atendimento's duplicate check with a million registrations: open ones
of the same specification at the same property, the same address, or within 100 m.

A water company's registrations are loaded in bulk (places spread over a 30 km square
around Belo Horizonte's centre, three specifications, one in eight still open, addresses
from 5,000 streets, one property registration each), then checks are timed as the intake
page makes them — the service (`duplicates_find`) and the API's
`GET /api/v1/registrations/duplicates` through the whole request stack — with the query
plan printed. Target (issue 20): p95 under 50 ms on PostgreSQL, an index serving the
distance query, not a scan."""

import argparse
import random
import time
from datetime import timedelta

import common

CENTRE = (-19.9245, -43.9352)
SPAN = 0.27  # degrees: about 30 km


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--registrations", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=1000)
    args = parser.parse_args()
    common.setup()
    from django.db import connection
    from django.test import Client

    from atende.occurrences.models import Occurrence
    from atende.registrations.selectors import duplicates_find
    from atende.tenancy.models import Scope
    from atende.tenancy.services import api_token_create

    operator, application, subjects = _target()
    have = Occurrence.objects.filter(operator=operator).count()
    if have < args.registrations:
        started = time.perf_counter()
        _load(operator, application, subjects, have, args.registrations - have)
        elapsed = time.perf_counter() - started
        print(f"loaded {args.registrations - have:,} registrations in {elapsed:.0f} s")
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("VACUUM ANALYZE")
    rng = random.Random(7)
    probes = [_probe(rng, subjects, operator) for _ in range(args.checks)]

    def check(probe: dict) -> int:
        return len(
            duplicates_find(
                operator_id=operator.pk, subject_id=probe["subject_id"], place=probe["place"]
            )
        )

    for probe in probes[:20]:
        check(probe)
    timings, found = [], 0
    for probe in probes:
        began = time.perf_counter()
        found += check(probe)
        timings.append((time.perf_counter() - began) * 1000)
    total = Occurrence.objects.filter(operator=operator).count()
    print(f"machine: {common.machine()}; revision {common.git_revision()}")
    print(
        f"duplicate check (service) over {total:,} registrations, {len(probes)} checks: "
        f"{common.summary(timings)}; {found / len(probes):.1f} matches per check"
    )

    _, token = api_token_create(
        application=application, name="bench", scopes=[Scope.OCCURRENCES_READ]
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")

    def through_api(probe: dict) -> None:
        place = {k: v for k, v in probe["place"].items() if v not in (None, "")}
        response = client.get(
            "/api/v1/registrations/duplicates", {"subject_id": probe["subject_id"], **place}
        )
        assert response.status_code == 200, response.content

    for probe in probes[:20]:
        through_api(probe)
    timings = []
    for probe in probes:
        began = time.perf_counter()
        through_api(probe)
        timings.append((time.perf_counter() - began) * 1000)
    print(f"duplicate check (API, whole request) : {common.summary(timings)}")
    _explain(operator, probes[0])


def _target() -> tuple:
    from atende.catalog.presets import install_sanitation_catalog
    from atende.registrations.models import RegistrationSettings
    from atende.registrations.presets import LEAK, install_registrations
    from atende.tenancy.models import Instance, Operator
    from atende.tenancy.services import application_create, operator_create, unit_create

    operator = Operator.objects.filter(name="Bench Saneamento").first()
    if operator is None:
        operator = operator_create(
            name="Bench Saneamento", cnpj="", state="MG", municipality="Belo Horizonte"
        )
        application_create(
            operator=operator,
            name="Bench",
            bundle="br.com.bench.agua",
            instance=Instance.PRODUCTION,
        )
        unit_create(operator=operator, name="Manutenção de Redes")
        unit_create(operator=operator, name="Atendimento")
        install_sanitation_catalog(operator)
    application = operator.applications.get()
    if not RegistrationSettings.objects.filter(operator=operator).exists():
        units = {u.name: u for u in operator.units.all()}
        install_registrations(
            operator,
            application,
            units={"field": units["Manutenção de Redes"], "desk": units["Atendimento"]},
            city="Belo Horizonte",
        )
    leak = operator.occurrence_types.get(name=LEAK)
    return operator, application, list(leak.subjects.order_by("pk"))


def _street(index: int) -> str:
    return f"Rua {index:04d} do Bench"


def _load(operator, application, subjects, start: int, count: int) -> None:
    """Registrations and their places, in batches, as rows (no events nor deliveries: the
    check reads the places and the occurrences' state)."""
    from django.db import transaction
    from django.utils import timezone

    from atende.occurrences.models import Mode, Occurrence, State
    from atende.registrations.models import Place

    leak = subjects[0].occurrence_type
    statuses = {s.closing: s for s in leak.statuses.all()}
    opened, closed = statuses["none"], statuses["resolved"]
    now = timezone.now()
    rng = random.Random(start + 1)
    batch = 20_000
    for first in range(start, start + count, batch):
        size = min(batch, start + count - first)
        rows, places = [], []
        for n in range(first, first + size):
            is_open = rng.random() < 0.125
            at = now - timedelta(minutes=n % 500_000)
            rows.append(
                Occurrence(
                    operator=operator,
                    application=application,
                    protocol=f"B{n:012d}",
                    protocol_type=leak.protocol_type,
                    occurrence_type=leak,
                    subject=subjects[n % len(subjects)],
                    status=opened if is_open else closed,
                    state=State.NEW if is_open else State.CLOSED,
                    mode=Mode.ACTIVE,
                    channel="telefone",
                    registered_at=at,
                    updated_at=at,
                    closed_at=None if is_open else at,
                )
            )
        with transaction.atomic():
            Occurrence.objects.bulk_create(rows, batch_size=5000)
            for occurrence in rows:
                place = Place(
                    occurrence=occurrence,
                    operator=operator,
                    subject_id=occurrence.subject_id,
                    street=_street(rng.randrange(5000)),
                    number=str(rng.randrange(1, 2000)),
                    neighbourhood=f"Bairro {rng.randrange(400)}",
                    city="Belo Horizonte",
                    latitude=CENTRE[0] + rng.uniform(-SPAN / 2, SPAN / 2),
                    longitude=CENTRE[1] + rng.uniform(-SPAN / 2, SPAN / 2),
                    property_registration=f"{rng.randrange(10**7):07d}",
                )
                place.keys_refresh()
                places.append(place)
            Place.objects.bulk_create(places, batch_size=5000)
        print(f"  {first + size - start:,} / {count:,}", flush=True)


def _probe(rng: random.Random, subjects, operator) -> dict:
    """A place as an attendant types it: coordinates always, an address and a property
    registration most of the time."""
    place = {
        "latitude": CENTRE[0] + rng.uniform(-SPAN / 2, SPAN / 2),
        "longitude": CENTRE[1] + rng.uniform(-SPAN / 2, SPAN / 2),
        "street": _street(rng.randrange(5000)) if rng.random() < 0.8 else "",
        "number": str(rng.randrange(1, 2000)),
        "city": "Belo Horizonte",
        "property_registration": f"{rng.randrange(10**7):07d}" if rng.random() < 0.6 else "",
    }
    return {"subject_id": rng.choice(subjects).pk, "place": place}


def _explain(operator, probe: dict) -> None:
    """The plan of the check's query, to show the indexes at work."""
    from django.db import connection

    from atende.registrations import selectors

    captured = []
    with connection.execute_wrapper(
        lambda execute, sql, params, many, context: (
            captured.append((sql, params)) or execute(sql, params, many, context)
        )
    ):
        selectors.duplicates_find(
            operator_id=operator.pk, subject_id=probe["subject_id"], place=probe["place"]
        )
    sql, params = next((q for q in captured if "registrations_place" in q[0]), captured[-1])
    with connection.cursor() as cursor:
        prefix = (
            "EXPLAIN (ANALYZE, BUFFERS) "
            if connection.vendor == "postgresql"
            else "EXPLAIN QUERY PLAN "
        )
        cursor.execute(prefix + sql, params)
        print("plan of the check's query:")
        for row in cursor.fetchall():
            print("   ", " | ".join(str(c) for c in row))


if __name__ == "__main__":
    main()
