"""Issue 19's target: from "Iniciar atendimento" to the protocol on screen, server time p95
under 100 ms on PostgreSQL with 1,000,000 beneficiaries and 1,000,000 occurrences, while 16
clients create occurrences through the API.

Data: the synthetic history (``atende synth``) and the registry's synthetic file imported
by ``atende beneficiaries import`` (as ``registry.py`` does), both kept between runs. The
server is ``atende serve`` (gunicorn); wrk's 16 connections create occurrences through
``POST /api/v1/occurrences`` the whole time, while an attendant's browser session starts
contacts one after the other, alternately as the page sends it (htmx: the ``POST`` is
answered with the contact page itself, the protocol on it) and as a browser without
JavaScript does (``POST /atendimento/`` answered by a redirect, then the ``GET`` of the
contact page that shows the protocol).
Each is timed from a client on the same machine, so the figures are the server's time plus
a loopback round trip."""

import argparse
import json
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import common
import httpx
from registry import import_file, write_file
from writes import CREATE, line, wrk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--occurrences", type=int, default=1_000_000)
    parser.add_argument("--cards", type=int, default=1_000_000)
    parser.add_argument("--starts", type=int, default=600)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    common.setup()
    from django.db import connection
    from django.test import Client

    from atende.accounts.services import user_create
    from atende.beneficiaries.models import Beneficiary
    from atende.callcenter.models import Contact
    from atende.callcenter.presets import install_call_center
    from atende.catalog.presets import REIMBURSEMENT
    from atende.occurrences.models import Occurrence
    from atende.synth import beneficiaries as synth_cards
    from atende.synth.occurrences import Synthesizer, synth_target
    from atende.tenancy.models import Role, Scope
    from atende.tenancy.services import api_token_create, membership_grant

    operator, application = synth_target(seed=1)
    have = Occurrence.objects.filter(operator=operator).count()
    if have < args.occurrences:
        Synthesizer(
            operator=operator, application=application, seed=have + 1, skip_checks=True
        ).run(args.occurrences - have)
    cards = Beneficiary.objects.filter(operator=operator).count()
    if cards < args.cards:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "beneficiarios.csv"
            write_file(path, synth_cards.rows(args.cards - cards, seed=1, first=cards + 1))
            import_file(path, operator.pk, "registry import")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    install_call_center(operator, application)

    email = f"bench-attendant-{time.time_ns()}@synth.atende"
    attendant = user_create(email=email, full_name="Atendente", password=None)
    membership_grant(user=attendant, operator=operator, role=Role.ATTENDANT, units=[])
    browser = Client()
    browser.force_login(attendant)
    csrf = secrets.token_hex(16)  # an unmasked secret: the cookie and the form carry it
    cookies = {"atende_session": browser.cookies["atende_session"].value, "atende_csrftoken": csrf}
    rng = random.Random(3)
    top = Beneficiary.objects.filter(operator=operator).order_by("-pk").first().pk
    chosen = list(
        Beneficiary.objects.filter(
            operator=operator, pk__in=[rng.randint(1, top) for _ in range(args.starts * 2)]
        ).values_list("card", flat=True)[: args.starts]
    )

    kind = operator.occurrence_types.get(name=REIMBURSEMENT)
    _, token = api_token_create(
        application=application, name="bench", scopes=[Scope.OCCURRENCES_WRITE]
    )
    body = json.dumps(
        {
            "occurrence_type_id": kind.pk,
            "subject_id": kind.subjects.order_by("pk").first().pk,
            "beneficiary_identifier": "52998224725",
            "beneficiary_name": "Maria da Silva",
            "description": "Solicitação de reembolso de consulta.",
        }
    )
    occurrences = Occurrence.objects.filter(operator=operator).count()
    total_cards = Beneficiary.objects.filter(operator=operator).count()
    print(f"machine: {common.machine()}; revision {common.git_revision()}")
    print(f"data: {total_cards:,} cards, {occurrences:,} occurrences of the operator")

    starts, pages, both, boosted = [], [], [], []
    load = {}
    with common.serving(web_workers=args.web_workers, threads=args.threads) as base:
        script = CREATE % {"body": body, "token": token}
        wrk(script, f"{base}/api/v1/occurrences", connections=4, seconds=3, threads=2)
        with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
            for card in chosen[:10]:  # warm-up of the attendant's pages
                _start(client, operator.pk, card, csrf)
            seconds = max(20, int(args.starts * 0.25) + 10)
            background = threading.Thread(
                target=lambda: load.update(
                    wrk(
                        script,
                        f"{base}/api/v1/occurrences",
                        connections=args.connections,
                        seconds=seconds,
                        threads=2,
                    )
                )
            )
            background.start()
            time.sleep(2)  # the load under way
            deadline = time.monotonic() + seconds - 4
            for turn, card in enumerate(chosen):
                if time.monotonic() > deadline:
                    break
                if turn % 2:
                    boosted.append(_start_boosted(client, operator.pk, card, csrf))
                    continue
                post_ms, get_ms = _start(client, operator.pk, card, csrf)
                starts.append(post_ms)
                pages.append(get_ms)
                both.append(post_ms + get_ms)
            background.join()
    shape = f"gunicorn {args.web_workers} workers x {args.threads} threads"
    print(f"{len(starts) + len(boosted)} contacts started during the load ({shape}):")
    print(
        f"  as the page sends it (htmx), {len(boosted)}: the POST answered with the contact "
        f"page, the protocol on it: {common.summary(boosted)}"
    )
    print(f"  without JavaScript, {len(starts)}: POST /atendimento/ answered by a redirect:")
    print(f"    POST (contact and protocol issued): {common.summary(starts)}")
    print(f"    GET of the contact page (the protocol shown): {common.summary(pages)}")
    print(f"    both: {common.summary(both)}")
    print(line("  concurrent API creation", load, shape))
    print(f"contacts in the database: {Contact.objects.filter(operator=operator).count():,}")


def _start_boosted(client: httpx.Client, operator_id: int, card: str, csrf: str) -> float:
    began = time.perf_counter()
    answer = client.post(
        "/atendimento/",
        data=_form(operator_id, card, csrf),
        headers={"HX-Request": "true", "HX-Boosted": "true"},
    )
    shown = time.perf_counter()
    assert answer.status_code == 200 and "data-protocol" in answer.text, answer.status_code
    return (shown - began) * 1000


def _form(operator_id: int, card: str, csrf: str) -> dict:
    return {
        "attendant_operator": operator_id,
        "operator": operator_id,
        "card": card,
        "channel": "telefone",
        "csrfmiddlewaretoken": csrf,
    }


def _start(client: httpx.Client, operator_id: int, card: str, csrf: str) -> tuple[float, float]:
    began = time.perf_counter()
    answer = client.post("/atendimento/", data=_form(operator_id, card, csrf))
    posted = time.perf_counter()
    assert answer.status_code == 302, (answer.status_code, answer.text[:500])
    page = client.get(answer.headers["location"])
    shown = time.perf_counter()
    assert page.status_code == 200 and "data-protocol" in page.text
    return (posted - began) * 1000, (shown - posted) * 1000


if __name__ == "__main__":
    main()
