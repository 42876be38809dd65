"""Creating occurrences through the API with the production server (gunicorn, as
``atende serve`` runs it): 16 concurrent clients (wrk) for a fixed time. Prints the rate and
the latency percentiles, and checks every answered creation is stored with a unique
protocol. Target on PostgreSQL: at least 300 per second sustained, p99 under 150 ms."""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import common

LUA = """
wrk.method = "POST"
wrk.body = [[%(body)s]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%.3f %%.3f %%.3f %%.3f\\n",
    summary.requests, summary.errors.status, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.duration / 1e6))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    common.setup()
    from atende.catalog.presets import REIMBURSEMENT
    from atende.occurrences.models import Occurrence
    from atende.occurrences.synth import synth_target
    from atende.tenancy.models import Scope
    from atende.tenancy.services import api_token_create

    operator, application = synth_target(seed=1)
    occurrence_type = operator.occurrence_types.get(name=REIMBURSEMENT)
    _, token = api_token_create(
        application=application, name="bench", scopes=[Scope.OCCURRENCES_WRITE]
    )
    before = Occurrence.objects.filter(operator=operator).count()
    body = json.dumps(
        {
            "occurrence_type_id": occurrence_type.pk,
            "subject_id": occurrence_type.subjects.first().pk,
            "beneficiary_identifier": "52998224725",
            "beneficiary_name": "Maria da Silva",
            "description": "Solicitação de reembolso de consulta.",
        }
    )
    port = free_port()
    env = {**os.environ, "ATENDE_DEBUG": "false"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "atende",
            "serve",
            "--no-worker",
            "--bind",
            f"127.0.0.1:{port}",
            "--web-workers",
            str(args.web_workers),
            "--threads",
            str(args.threads),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("the server did not start")
                time.sleep(0.3)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(LUA % {"body": body, "token": token})
        # Warm-up, so the figures are of a running server, not of imports.
        subprocess.run(
            [
                "wrk",
                "-t2",
                "-c4",
                "-d3s",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}/api/v1/occurrences",
            ],
            check=True,
            capture_output=True,
        )
        output = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.seconds}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}/api/v1/occurrences",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        Path(script.name).unlink()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    match = re.search(r"RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)", output)
    requests, bad_status, timeouts = (int(match.group(i)) for i in (1, 2, 3))
    p50, p95, p99, duration = (float(match.group(i)) for i in (4, 5, 6, 7))
    stored = Occurrence.objects.filter(operator=operator)
    protocols = stored.values_list("protocol", flat=True)
    duplicates = stored.count() - len(set(protocols))
    print(f"machine: {common.machine()}; revision {common.git_revision()}")
    print(
        f"API creation: {requests} requests by {args.connections} clients in {duration:.1f} s "
        f"= {requests / duration:,.0f}/s (gunicorn {args.web_workers} workers x "
        f"{args.threads} threads); p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms; "
        f"non-2xx {bad_status}, timeouts {timeouts}; stored {stored.count() - before} "
        f"(incl. warm-up); duplicate protocols {duplicates}"
    )


if __name__ == "__main__":
    main()
