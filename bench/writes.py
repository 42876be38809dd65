"""The write path under load, with the production server (gunicorn, as ``atende serve``
runs it) and 16 concurrent clients (wrk) for a fixed time each:

- ``create``: ``POST /api/v1/occurrences`` (an application's token);
- ``status``: ``POST /api/v1/occurrences/{protocol}/status`` with the version read;
- ``panel``: the panel's own status form (``POST /painel/{protocol}/status/``, a supervisor's
  session and CSRF token, answered by the redirect to the occurrence page).

The status changes go back and forth between two statuses of the type ("Em análise" and
"Aguardando documentos") over a pool of occurrences made beforehand; each wrk thread
works its own slice of the pool, so no two requests in flight touch the same occurrence,
and each request sends the version the previous change of that occurrence left.
Afterwards every occurrence's version is checked against the changes answered.

Targets on PostgreSQL: API status change and creation at least 300 per second with p99
under 150 ms; the panel's status change at least 200 per second."""

import argparse
import json
import os
import re
import resource
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

import common

RESULT = r"""
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.3f %.3f %.3f %.3f\n",
    summary.requests, summary.errors.status, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.duration / 1e6))
end
"""

CREATE = r"""
wrk.method = "POST"
wrk.body = [[%(body)s]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
"""

# Each thread takes every THREADS-th occurrence of the pool, round and round; the n-th
# visit of an occurrence sends version (first + n) and alternates the two statuses.
CHANGE = r"""
local pool = {%(pool)s}
local first = %(first)d
local statuses = {%(a)d, %(b)d}
local threads = %(threads)d
local counter = 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end
function init(args)
  mine = {}
  for i = offset + 1, #pool, threads do mine[#mine + 1] = pool[i] end
  -- wrk may build a request it never sends (its first one, or one made for a connection
  -- it then reopens): the occurrence it was for then answers 409 or 422 once or twice,
  -- which the results count as non-2xx.
  turn = 0
end
local logged = 0
function response(status, headers, body)
  if status >= 400 and logged < 3 then
    io.write("REFUSED " .. status .. " " .. string.sub(body, 1, 300) .. "\n")
    logged = logged + 1
  end
end
function request()
  local slot = turn %% #mine
  local visit = math.floor(turn / #mine)
  turn = turn + 1
  local status = statuses[(visit %% 2) + 1]
  %(request)s
end
"""

API_REQUEST = r"""return wrk.format("POST", "/api/v1/occurrences/" .. mine[slot + 1] .. "/status",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(token)s"},
    string.format('{"status_id": %%d, "version": %%d}', status, first + visit))"""

PANEL_REQUEST = r"""return wrk.format("POST", "/painel/" .. mine[slot + 1] .. "/status/",
    {["Content-Type"] = "application/x-www-form-urlencoded",
     ["Cookie"] = "%(cookie)s"},
    string.format("csrfmiddlewaretoken=%(csrf)s&status=%%d&version=%%d", status, first + visit))"""


def wrk(script: str, url: str, *, connections: int, seconds: int, threads: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script + RESULT)
    before = common.processes_cpu()
    before["wrk"] = _children_cpu()
    try:
        output = common.run_wrk(
            file.name, url, connections=connections, seconds=seconds, threads=threads
        )
    finally:
        Path(file.name).unlink()
    after = common.processes_cpu()
    after["wrk"] = _children_cpu()
    match = re.search(r"RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)", output)
    requests, bad, timeouts = (int(match.group(i)) for i in (1, 2, 3))
    p50, p95, p99, duration = (float(match.group(i)) for i in (4, 5, 6, 7))
    return {
        "requests": requests,
        "bad": bad,
        "timeouts": timeouts,
        "p50": p50,
        "p95": p95,
        "p99": p99,
        "rate": requests / duration,
        "duration": duration,
        "output": output,
        "cpu": {name: after[name] - before[name] for name in after},
    }


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def line(name: str, figures: dict, shape: str) -> str:
    f = figures
    cpu = ", ".join(
        f"{who} {seconds / f['requests'] * 1000:.2f} ms" for who, seconds in f["cpu"].items()
    )
    busy = sum(f["cpu"].values()) / f["duration"] / (os.cpu_count() or 1)
    return (
        f"{name}: {f['requests']} requests in {f['duration']:.1f} s = {f['rate']:,.0f}/s "
        f"({shape}); p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} ms, p99 {f['p99']:.1f} ms; "
        f"non-2xx/3xx {f['bad']}, timeouts {f['timeouts']}\n"
        f"  CPU a request: {cpu}; the machine {busy:.0%} busy with these"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument(
        "--pool", type=int, default=12000, help="occurrences changed in turn (each test)"
    )
    parser.add_argument(
        "--only", choices=["create", "status", "panel"], action="append", help="repeatable"
    )
    args = parser.parse_args()
    only = args.only or ["create", "status", "panel"]
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    common.setup()
    from django.db import transaction
    from django.test import Client

    from atende.accounts.models import User
    from atende.accounts.services import user_create
    from atende.catalog.presets import REIMBURSEMENT
    from atende.occurrences.models import Channel, Occurrence
    from atende.occurrences.services import actor_for_application, occurrence_create
    from atende.synth.occurrences import synth_target
    from atende.tenancy.models import Role, Scope
    from atende.tenancy.services import api_token_create, membership_grant

    operator, application = synth_target(seed=1)
    kind = operator.occurrence_types.get(name=REIMBURSEMENT)
    subject = kind.subjects.order_by("pk").first()
    status_a = kind.statuses.get(internal_description="Em análise")
    status_b = kind.statuses.get(internal_description="Aguardando documentos")
    _, token = api_token_create(
        application=application, name="bench", scopes=[Scope.OCCURRENCES_WRITE]
    )
    email = "bench-supervisor@synth.atende"
    supervisor = User.objects.filter(email=email).first()
    if supervisor is None:
        supervisor = user_create(email=email, full_name="Supervisora", password=None)
        membership_grant(user=supervisor, operator=operator, role=Role.SUPERVISOR, units=[])
    browser = Client()
    browser.force_login(supervisor)
    csrf = secrets.token_hex(16)  # an unmasked secret: the cookie and the form carry it
    cookie = f"atende_session={browser.cookies['atende_session'].value}; atende_csrftoken={csrf}"

    actor = actor_for_application(application=application)
    pools = {}
    for name in only:
        if name == "create":
            continue
        pool = []
        with transaction.atomic():
            for _ in range(args.pool):
                occurrence = occurrence_create(
                    actor=actor,
                    application=application,
                    occurrence_type=kind,
                    subject=subject,
                    channel=Channel.PUBLIC_API,
                    beneficiary_identifier="52998224725",
                    beneficiary_name="Maria da Silva",
                    description="Solicitação de reembolso de consulta.",
                )
                pool.append(occurrence)
        pools[name] = pool
    body = json.dumps(
        {
            "occurrence_type_id": kind.pk,
            "subject_id": subject.pk,
            "beneficiary_identifier": "52998224725",
            "beneficiary_name": "Maria da Silva",
            "description": "Solicitação de reembolso de consulta.",
        }
    )
    shape = f"gunicorn {args.web_workers} workers x {args.threads} threads"
    wrk_threads = 2
    results = []
    with common.serving(web_workers=args.web_workers, threads=args.threads) as base:
        create_script = CREATE % {"body": body, "token": token}
        # Warm-up, so the figures are of a running server, not of imports.
        wrk(
            create_script,
            f"{base}/api/v1/occurrences",
            connections=4,
            seconds=3,
            threads=wrk_threads,
        )
        for name in only:
            if name == "create":
                script, url = create_script, f"{base}/api/v1/occurrences"
            else:
                pool = pools[name]
                request = (
                    (API_REQUEST % {"token": token})
                    if name == "status"
                    else (PANEL_REQUEST % {"cookie": cookie, "csrf": csrf})
                )
                script = CHANGE % {
                    "pool": ", ".join(f'"{o.protocol}"' for o in pool),
                    "first": pool[0].version,
                    "a": status_a.pk,
                    "b": status_b.pk,
                    "threads": wrk_threads,
                    "request": request,
                }
                url = base
            figures = wrk(
                script,
                url,
                connections=args.connections,
                seconds=args.seconds,
                threads=wrk_threads,
            )
            results.append((name, figures))
            for refused in re.findall(r"^REFUSED .*$", figures["output"], re.MULTILINE):
                print(f"  {name}: {refused}")
    print(f"machine: {common.machine()}; revision {common.git_revision()}; load {os.getloadavg()}")
    for name, figures in results:
        print(
            line(
                {
                    "create": "API creation",
                    "status": "API status change",
                    "panel": "panel status change",
                }[name],
                figures,
                shape,
            )
        )
        if name != "create":
            pool = pools[name]
            versions = dict(
                Occurrence.objects.filter(pk__in=[o.pk for o in pool]).values_list("pk", "version")
            )
            changed = sum(versions[o.pk] - o.version for o in pool)
            print(
                f"  stored: {changed} changes over {len(pool)} occurrences "
                f"(answered without error: {figures['requests'] - figures['bad']})"
            )


if __name__ == "__main__":
    main()
