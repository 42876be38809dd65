#!/usr/bin/env python3
"""Side-by-side benchmark: Atende against django-helpdesk (the peer), same machine,
same client code, same concurrency. Run it through sbs.sh (the peer venv's python).

The load client is the peer harness's own: bench.load (n requests, k in flight, httpx
asyncio) for a and b, and one sequential sampler (below) for c; both systems go through
the same functions, the same httpx version and the same percentile (bench.pct, nearest
rank).  Each system runs on its own PostgreSQL 15 cluster with the peer harness's
settings (fsync on); only one cluster and one web server run at a time.

Commands
  setup     Atende's cluster (initdb as the peer's setup.sh does, same postgresql.conf
            lines), database, migrations, static files, the synthetic operator, a
            supervisor, an API token (atende api-token create).  Run the peer's
            setup.sh first.
  ab        a (create N via the REST API) and b (a status change on each), at each
            concurrency, passes of: peer, Atende (each --atende-shapes), alternating.
  bulk      c (list latencies with --records in the database; Atende also at
            --atende-million) and d (export) for one --system.
  report    renders every recorded row (runs.jsonl) and the ratios.

Before every measured phase it waits (poll 15 s, at most SBS_QUIET_MAX_S = 1200 s) for
the 1-minute load average to fall below SBS_QUIET_BELOW (1.0), and records the load
average at the phase's start and end.
"""
import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if "PEER_HARNESS" not in os.environ:
    raise SystemExit("set PEER_HARNESS to the peer harness (django-helpdesk set-up): README.md")
PEER_HARNESS = Path(os.environ["PEER_HARNESS"]).resolve()
sys.path.insert(0, str(PEER_HARNESS))
import bench  # noqa: E402  (the peer harness: its client loop, percentiles and servers)

SBS = Path(os.environ.get("SBS_DIR", "/tmp/sbs"))
ATENDE_DIR = Path(os.environ.get("ATENDE_DIR", str(SBS / "atende"))).resolve()
A_PY = ATENDE_DIR / ".venv" / "bin" / "python"
A_CLI = ATENDE_DIR / ".venv" / "bin" / "atende"
A_GUNICORN = ATENDE_DIR / ".venv" / "bin" / "gunicorn"
PEER_PY = bench.PB / "venv" / "bin" / "python"
A_PGDATA = SBS / "atende-pg" / "data"
A_PGPORT = int(os.environ.get("SBS_ATENDE_PGPORT", "55433"))
A_HTTP_PORT = int(os.environ.get("SBS_ATENDE_HTTP_PORT", "8766"))
A_BASE = f"http://127.0.0.1:{A_HTTP_PORT}"
A_ENV = {
    "ATENDE_DATABASE_URL": f"postgres://postgres@127.0.0.1:{A_PGPORT}/atende",
    "ATENDE_DATA_DIR": str(SBS / "atende-data"),
    "ATENDE_DEBUG": "false",
}
RUNS = SBS / "runs.jsonl"
# The peer's label in the results: gunicorn 2 sync workers and the peer venv's Python.
PEER_SHAPE = os.environ.get("SBS_PEER_SHAPE", "gunicorn-sync-2")
QUIET_BELOW = float(os.environ.get("SBS_QUIET_BELOW", "1.0"))
QUIET_MAX_S = float(os.environ.get("SBS_QUIET_MAX_S", "1200"))
QUIET_POLL_S = 15
DESCRIPTION = bench.DESCRIPTION  # the same text in both systems' records
CPFS = ["52998224725", "11144477735", "39053344705", "86288366757", "71428793860"]

log = bench.log


# --------------------------------------------------------------------------
# machine state
# --------------------------------------------------------------------------
def loadavg():
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def wait_quiet(label):
    """Wait until the 1-minute load average is below QUIET_BELOW (poll every 15 s,
    at most QUIET_MAX_S); returns what to record."""
    began = time.time()
    la = loadavg()
    if la[0] >= QUIET_BELOW:
        log(f"  waiting for load < {QUIET_BELOW} before {label} (now {la[0]})")
    while la[0] >= QUIET_BELOW and time.time() - began < QUIET_MAX_S:
        time.sleep(QUIET_POLL_S)
        la = loadavg()
    waited = round(time.time() - began)
    if la[0] >= QUIET_BELOW:
        log(f"  load still {la[0]} after {waited} s: measuring anyway (recorded)")
    return {"load_start": la, "waited_s": waited, "quiet": la[0] < QUIET_BELOW}


def record(row):
    row = {"at": dt.datetime.now().isoformat(timespec="seconds"), **row}
    SBS.mkdir(parents=True, exist_ok=True)
    with RUNS.open("a") as f:
        f.write(json.dumps(row, default=str) + "\n")
    return row


def run_json(cmd, env=None):
    """Run a helper; its last stdout line is JSON."""
    p = subprocess.run([str(c) for c in cmd], env={**os.environ, **(env or {})},
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed (rc {p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def peer_ops(*args):
    return run_json([PEER_PY, HERE / "peer_ops.py", *args])


def atende_ops(*args):
    return run_json([A_PY, HERE / "atende_ops.py", *args], A_ENV)


# --------------------------------------------------------------------------
# servers
# --------------------------------------------------------------------------
def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def _port_free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


class AtendeServers:
    """Atende's PostgreSQL cluster and web server; stops exactly those, by PID.

    shape "serve": `atende serve --no-worker` (gunicorn as Atende runs it: 2 workers x 4
    threads, gthread, access log on stdout), its documented web command with defaults.
    shape "sync2": the peer's exact gunicorn shape (2 sync workers, --timeout 300,
    --graceful-timeout 10, --log-level warning, no access log)."""

    def __init__(self):
        self.pg_pid = None
        self.web = None

    def start_pg(self):
        pidfile = A_PGDATA / "postmaster.pid"
        if pidfile.exists() and _alive(int(pidfile.read_text().split()[0])):
            raise SystemExit(f"a postgres is already running on {A_PGDATA}; stop it first")
        subprocess.run(["runuser", "-u", bench.PGOSUSER, "--", str(bench.PGBIN / "pg_ctl"),
                        "-D", str(A_PGDATA), "-l", str(A_PGDATA.parent / "server.log"),
                        "-w", "-t", "60", "start"], check=True, stdout=subprocess.DEVNULL)
        self.pg_pid = int(pidfile.read_text().split()[0])
        log(f"atende postgres started, pid {self.pg_pid}, 127.0.0.1:{A_PGPORT}")

    def start_web(self, shape):
        if not _port_free(A_HTTP_PORT):
            raise SystemExit(f"127.0.0.1:{A_HTTP_PORT} is already in use")
        bind = f"127.0.0.1:{A_HTTP_PORT}"
        if shape == "serve":
            cmd = [str(A_CLI), "serve", "--no-worker", "--bind", bind]
        elif shape == "sync2":
            cmd = [str(A_GUNICORN), "atende.wsgi:application", "--workers", "2", "--bind", bind,
                   "--timeout", "300", "--graceful-timeout", "10", "--log-level", "warning",
                   "--error-logfile", str(SBS / "atende-gunicorn.log")]
        else:
            raise SystemExit(f"unknown shape {shape}")
        logf = open(SBS / f"atende-{shape}.log", "ab")
        self.web = subprocess.Popen(cmd, env={**os.environ, **A_ENV}, stdout=logf,
                                    stderr=subprocess.STDOUT, cwd=str(SBS))
        import httpx

        deadline = time.time() + 60
        while time.time() < deadline:
            if self.web.poll() is not None:
                raise SystemExit(f"atende web exited (rc {self.web.returncode}); see {logf.name}")
            try:
                if httpx.get(f"{A_BASE}/healthz", timeout=5).status_code == 200:
                    log(f"atende web ({shape}) started, pid {self.web.pid}, {A_BASE}")
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise SystemExit("atende web did not answer within 60 s")

    def stop_web(self):
        if self.web is not None and self.web.poll() is None:
            pid = self.web.pid
            self.web.send_signal(signal.SIGTERM)
            try:
                self.web.wait(40)
            except subprocess.TimeoutExpired:
                os.kill(pid, signal.SIGKILL)
                self.web.wait(10)
            log(f"atende web (pid {pid}) stopped")
        self.web = None

    def stop(self):
        self.stop_web()
        if self.pg_pid is not None and _alive(self.pg_pid):
            os.kill(self.pg_pid, signal.SIGINT)  # fast shutdown
            for _ in range(240):
                if not _alive(self.pg_pid):
                    break
                time.sleep(0.25)
            log(f"atende postgres (pid {self.pg_pid}) " +
                ("stopped" if not _alive(self.pg_pid) else "still running!"))
        self.pg_pid = None


def peer_stop_web(servers):
    """bench.Servers.stop stops both; this stops gunicorn only (the same way)."""
    g = servers.gunicorn
    if g is not None and g.poll() is None:
        g.send_signal(signal.SIGTERM)
        try:
            g.wait(30)
        except subprocess.TimeoutExpired:
            os.kill(g.pid, signal.SIGKILL)
            g.wait(10)
        log(f"gunicorn (pid {g.pid}) stopped")
    servers.gunicorn = None


# --------------------------------------------------------------------------
# the two systems, as the client sees them
# --------------------------------------------------------------------------
class Peer:
    name = "peer"
    base = bench.BASE
    P = bench.P

    def __init__(self):
        ids = peer_ops("ids")
        self.queue_id, self.token = ids["queue_id"], ids["token"]
        self.headers = {"Authorization": f"Token {self.token}"}

    create_expect, change_expect = 201, 201

    def create(self, client, i):
        return client.post(f"{self.P}/api/tickets/", json={
            "queue": self.queue_id, "title": f"Bench ticket {i}", "description": DESCRIPTION,
            "submitter_email": f"customer{i % 500}@example.com", "priority": 3})

    @staticmethod
    def key(response):
        return response.json()["id"]

    def change(self, client, key):
        return client.post(f"{self.P}/api/followups/", json={
            "ticket": key, "new_status": 3, "public": True,
            "title": "Resolved", "comment": "Refund issued, closing as resolved."})

    def verify(self, keys):
        f = SBS / "verify-peer.txt"
        f.write_text("\n".join(str(k) for k in keys))
        return peer_ops("verify", f)


class Atende:
    name = "atende"
    base = A_BASE

    def __init__(self):
        self.cfg = json.loads((SBS / "atende.json").read_text())
        self.headers = {"Authorization": f"Bearer {self.cfg['token']}"}

    create_expect, change_expect = 201, 200

    def create(self, client, i):
        return client.post("/api/v1/occurrences", json={
            "occurrence_type_id": self.cfg["occurrence_type_id"],
            "subject_id": self.cfg["subject_id"],
            "beneficiary_identifier": CPFS[i % len(CPFS)],
            "beneficiary_name": f"Maria da Silva {i % 500}",
            "contact_email": f"customer{i % 500}@example.com",
            "description": f"Bench occurrence {i}. {DESCRIPTION}"})

    @staticmethod
    def key(response):
        body = response.json()
        return body["protocol"], body["version"]

    def change(self, client, key):
        protocol, version = key
        return client.post(f"/api/v1/occurrences/{protocol}/status",
                           json={"status_id": self.cfg["status_id"], "version": version})

    def verify(self, keys):
        f = SBS / "verify-atende.txt"
        f.write_text("\n".join(p for p, _ in keys))
        return atende_ops("verify", self.cfg["status_id"], f)


def client(system, conc, timeout=310.0, headers=True):
    import httpx

    return httpx.AsyncClient(
        base_url=system.base, headers=system.headers if headers else None,
        limits=httpx.Limits(max_connections=conc, max_keepalive_connections=conc),
        timeout=httpx.Timeout(timeout))


# --------------------------------------------------------------------------
# a / b
# --------------------------------------------------------------------------
async def ab_phases(system, shape, npass, n, concs, warmup):
    async with client(system, max(concs)) as c:
        log(f"warm-up: {warmup} creations + {warmup} status changes (not measured)")
        _, made = await bench.load(c, "warm-up create", warmup, concs[0], system.create,
                                   system.create_expect)
        keys = [system.key(made[i]) for i in sorted(made)]
        await bench.load(c, "warm-up change", len(keys), concs[0],
                         lambda cl, i: system.change(cl, keys[i]), system.change_expect)
    common = {"system": system.name, "shape": shape, "pass": npass}
    for conc in concs:
        q = wait_quiet(f"a conc {conc}")
        async with client(system, conc) as c:
            s, made = await bench.load(c, f"a. create via API ({system.name}, {shape})", n, conc,
                                       system.create, system.create_expect)
        record({**common, "phase": "a", **s, **q, "load_end": loadavg()})
        keys = [system.key(made[i]) for i in sorted(made)]
        q = wait_quiet(f"b conc {conc}")
        async with client(system, conc) as c:
            s, _ = await bench.load(c, f"b. status change via API ({system.name}, {shape})",
                                    len(keys), conc, lambda cl, i: system.change(cl, keys[i]),
                                    system.change_expect)
        load_end = loadavg()
        checked = system.verify(keys)
        log(f"   verified: {checked['in_status']}/{checked['listed']} in the new status")
        record({**common, "phase": "b", **s, **q, "load_end": load_end, "verified": checked})


def ab_run(system_name, shape, npass, args):
    log(f"=== ab pass {npass}: {system_name} ({shape})")
    if system_name == "peer":
        servers = bench.Servers("pg")
        try:
            servers.start_pg()
            log(f"   reset {peer_ops('reset')}")
            servers.start_gunicorn(2, timeout=300)
            asyncio.run(ab_phases(Peer(), shape, npass, args.n, args.conc, args.warmup))
        finally:
            servers.stop()
    else:
        servers = AtendeServers()
        try:
            servers.start_pg()
            log(f"   reset {atende_ops('reset')}")
            servers.start_web(shape)
            asyncio.run(ab_phases(Atende(), shape, npass, args.n, args.conc, args.warmup))
        finally:
            servers.stop()


def cmd_ab(args):
    for npass in range(args.first_pass, args.first_pass + args.passes):
        ab_run("peer", PEER_SHAPE, npass, args)
        for shape in args.atende_shapes:
            ab_run("atende", shape, npass, args)


# --------------------------------------------------------------------------
# c / d
# --------------------------------------------------------------------------
async def seq_sample(c, name, fetch, samples, warmup, check=None):
    """Sequential latency: `warmup` unmeasured calls, then `samples` calls, one in
    flight.  fetch(c, i) -> the last response (a page made of two requests times both)."""
    for i in range(warmup):
        await fetch(c, -1 - i)
    q = wait_quiet(name)
    lat, errs, codes = [], 0, {}
    t_start = time.perf_counter()
    for i in range(samples):
        t0 = time.perf_counter()
        try:
            r = await fetch(c, i)
            codes[r.status_code] = codes.get(r.status_code, 0) + 1
            ok = r.status_code == 200 and (check is None or check(r))
        except Exception as e:  # noqa: BLE001
            codes[type(e).__name__] = codes.get(type(e).__name__, 0) + 1
            ok = False
        d = time.perf_counter() - t0
        if ok:
            lat.append(d)
        else:
            errs += 1
    s = bench.summarize(name, lat, errs, time.perf_counter() - t_start, samples, 1, {"codes": codes})
    log(f"{name}: {s['ok']}/{samples} ok, p50 {s['p50']} ms, p95 {s['p95']} ms, "
        f"p99 {s['p99']} ms, codes {codes}")
    return {**s, **q, "load_end": loadavg()}


async def peer_lists(system, bl, common, args):
    P = system.P
    q0 = bl["queue_ids"][0]
    async with client(system, 1, headers=False) as c:
        await c.get(f"{P}/login/")
        r = await c.post(f"{P}/login/", data={
            "username": bench.ADMIN_USER, "password": bench.ADMIN_PASSWORD,
            "csrfmiddlewaretoken": c.cookies.get("csrftoken", ""), "next": f"{P}/tickets/"},
            headers={"Referer": f"{system.base}{P}/login/"})
        if "sessionid" not in c.cookies:
            raise SystemExit(f"peer staff login failed (HTTP {r.status_code})")
        list_url = f"{P}/tickets/?queue={q0}&status=1&status=2"
        page = await c.get(list_url)
        import re

        m = re.search(r"datatables_ticket_list/([A-Za-z0-9+/=]+)", page.text)
        dt_base = f"{P}/datatables_ticket_list/{m.group(1)}?draw=1&start=0"
        rows = lambda r: len(r.json()["data"]) > 0  # noqa: E731

        async def page_and_rows(cl, i):
            await cl.get(list_url)
            return await cl.get(f"{dt_base}&length=25")

        tests = [
            ("c1 staff list HTML shell (queue + status)", lambda cl, i: cl.get(list_url), None),
            ("c2 staff list rows, DataTables JSON, 25 rows", lambda cl, i: cl.get(f"{dt_base}&length=25"), rows),
            ("c2 staff list rows, DataTables JSON, 50 rows", lambda cl, i: cl.get(f"{dt_base}&length=50"), rows),
            ("c1+c2 staff list page with its 25 rows (both requests)", page_and_rows, rows),
        ]
        for name, fetch, check in tests:
            s = await seq_sample(c, name, fetch, args.samples, args.warmup_samples, check)
            record({**common, "phase": "c", **s})
        c.headers["Authorization"] = f"Token {system.token}"
        s = await seq_sample(c, "c4 API list ?status=1,2 (25 rows; the API has no queue filter)",
                             lambda cl, i: cl.get(f"{P}/api/tickets/?status=1,2"),
                             args.peer_api_samples, 1, lambda r: len(r.json()["results"]) > 0)
        record({**common, "phase": "c", **s})


async def atende_lists(system, common, args):
    cfg = system.cfg
    unit, state = cfg["units"][0], 2  # state 2 = Aberto (open)
    async with client(system, 1, headers=False) as c:
        r = await c.get("/conta/entrar/")
        email, password = cfg["supervisor"]
        r = await c.post("/conta/entrar/", data={
            "username": email, "password": password, "next": "/painel/",
            "csrfmiddlewaretoken": c.cookies.get("atende_csrftoken", "")},
            headers={"Referer": f"{system.base}/conta/entrar/"})
        if "atende_session" not in c.cookies:
            raise SystemExit(f"atende supervisor login failed (HTTP {r.status_code})")
        panel = f"/painel/?unit={unit}&state={state}"
        probe = await c.get(panel)
        if probe.status_code != 200 or "/painel/" not in probe.text:
            raise SystemExit(f"panel page: HTTP {probe.status_code}")
        s = await seq_sample(c, "panel page HTML (unit + state, 50 rows, counts by state and unit)",
                             lambda cl, i: cl.get(panel), args.samples, args.warmup_samples,
                             lambda r: r.text.count('href="/painel/') >= 25)
        record({**common, "phase": "c", **s})
        c.cookies.clear()
        c.headers["Authorization"] = f"Bearer {cfg['token']}"
        for limit in (25, 50):
            s = await seq_sample(
                c, f"API list ?unit&state ({limit} rows)",
                lambda cl, i, limit=limit: cl.get(f"/api/v1/occurrences?unit={unit}&state={state}&limit={limit}"),
                args.samples, args.warmup_samples, lambda r: len(r.json()["items"]) > 0)
            record({**common, "phase": "c", **s})


def timed_process(cmd, env=None):
    """Wall time and peak RSS of a child process."""
    began = time.perf_counter()
    p = subprocess.Popen([str(x) for x in cmd], env={**os.environ, **(env or {})},
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    wall = time.perf_counter() - began
    if p.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed: {err.decode()[-3000:]}")
    return wall, out.decode(), err.decode()


def peer_bulk(args):
    servers = bench.Servers("pg")
    system = None
    try:
        servers.start_pg()
        log(f"   reset {peer_ops('reset')}")
        q = wait_quiet("peer bulk load")
        bl = peer_ops("bulk", args.records)
        bl.update(peer_ops("count", bl["queue_ids"][0]))
        log(f"   bulk: {bl}")
        common = {"system": "peer", "shape": PEER_SHAPE, "records": args.records}
        record({**common, "phase": "load", "loaded": bl, **q, "load_end": loadavg()})
        servers.start_gunicorn(2, timeout=300)
        system = Peer()
        asyncio.run(peer_lists(system, bl, common, args))
        peer_stop_web(servers)
        export = SBS / "peer-export.csv"
        q = wait_quiet("peer export")
        wall, out, _ = timed_process([PEER_PY, HERE / "peer_ops.py", "export", export])
        e = json.loads(out.strip().splitlines()[-1])
        e.update(process_wall_s=round(wall, 1), lines=e["rows"] + 1)
        record({**common, "phase": "d", "test": "ORM CSV export (bench.export_csv)", **e, **q,
                "load_end": loadavg()})
        log(f"   export: {e}")
        export.unlink()
        q = wait_quiet("peer COPY")
        cp = peer_ops("copy")
        record({**common, "phase": "d", "test": "PostgreSQL COPY of the same rows (CSV, discarded)",
                **cp, **q, "load_end": loadavg()})
        log(f"   copy: {cp}")
    finally:
        servers.stop()


def atende_bulk(args):
    servers = AtendeServers()
    system = Atende()
    cfg = system.cfg
    try:
        servers.start_pg()
        log(f"   reset {atende_ops('reset')}")
        have = 0
        for target, seed in ((args.records, 1), (args.atende_million, 2)):
            if not target:
                continue
            q = wait_quiet(f"atende synth to {target}")
            wall, out, err = timed_process(
                [A_CLI, "synth", "--occurrences", target - have, "--seed", seed], A_ENV)
            have = target
            bl = {"synth_wall_s": round(wall, 1), "synth_says": out.strip().splitlines()[-1]}
            bl.update(atende_ops("vacuum"))
            bl.update(atende_ops("count", cfg["units"][0], 2))
            log(f"   synth: {bl}")
            common = {"system": "atende", "shape": "serve", "records": target}
            record({**common, "phase": "load", "loaded": bl, **q, "load_end": loadavg()})
            servers.start_web("serve")
            asyncio.run(atende_lists(system, common, args))
            servers.stop_web()
            report = SBS / "atende-report.txt"
            q = wait_quiet("atende report")
            began = time.perf_counter()
            proc = subprocess.Popen(
                [str(A_CLI), "report", "--application", str(cfg["application_id"]),
                 "--start", "01/01/2020", "--end", "31/12/2030", "--output", str(report)],
                env={**os.environ, **A_ENV}, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - began
            said = proc.stderr.read().decode().strip()
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"atende report failed: {said}")
            with report.open("rb") as f:
                lines = sum(b.count(b"\n") for b in iter(lambda: f.read(1 << 20), b""))
            e = {"lines": lines, "mb": round(report.stat().st_size / 2**20, 1),
                 "process_wall_s": round(wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024),
                 "says": said[-200:]}
            record({**common, "phase": "d", "test": "atende report (whole history, defaults)", **e,
                    **q, "load_end": loadavg()})
            log(f"   report: {e}")
            report.unlink()
            q = wait_quiet("atende COPY")
            cp = atende_ops("copy")
            record({**common, "phase": "d", "test": "PostgreSQL COPY of the report's statement (discarded)",
                    **cp, **q, "load_end": loadavg()})
            log(f"   copy: {cp}")
    finally:
        servers.stop()


def cmd_bulk(args):
    (peer_bulk if args.system == "peer" else atende_bulk)(args)


# --------------------------------------------------------------------------
# setup
# --------------------------------------------------------------------------
def cmd_setup(args):
    if not PEER_PY.exists() or not (bench.PGDATA / "postgresql.conf").exists():
        raise SystemExit("run the peer harness's setup.sh first (same PEERBENCH_DIR)")
    if not A_CLI.exists():
        raise SystemExit(f"no Atende install at {ATENDE_DIR} (scripts/install.sh there)")
    conf = (bench.PGDATA / "postgresql.conf").read_text()
    peer_lines = conf[conf.index("# --- peerbench"):]
    if A_PGDATA.exists() and args.fresh:
        import shutil

        shutil.rmtree(A_PGDATA.parent)
    if not A_PGDATA.exists():
        A_PGDATA.parent.mkdir(parents=True)
        subprocess.run(["chown", bench.PGOSUSER, str(A_PGDATA.parent)], check=True)
        A_PGDATA.parent.chmod(0o700)
        subprocess.run(["runuser", "-u", bench.PGOSUSER, "--", str(bench.PGBIN / "initdb"),
                        "-D", str(A_PGDATA), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                        "--locale=C.UTF-8"], check=True, stdout=subprocess.DEVNULL)
        with (A_PGDATA / "postgresql.conf").open("a") as f:
            # The peer cluster's own lines, but for the port.
            f.write("\n" + peer_lines.replace(f"port = {bench.PGPORT}", f"port = {A_PGPORT}")
                    + "\n")
    servers = AtendeServers()
    try:
        servers.start_pg()
        subprocess.run([str(bench.PGBIN / "psql"), "-h", "127.0.0.1", "-p", str(A_PGPORT), "-U",
                        "postgres", "-qc", "CREATE DATABASE atende"], check=False)
        cfg = atende_ops("setup")
        p = subprocess.run([str(A_CLI), "api-token", "create", "--application",
                            str(cfg["application_id"]), "--name", "sbs",
                            "--scope", "occurrences:read", "--scope", "occurrences:write",
                            "--scope", "catalog:read"],
                           env={**os.environ, **A_ENV}, capture_output=True, text=True, check=True)
        cfg["token"] = p.stdout.strip().splitlines()[-1]
        (SBS / "atende.json").write_text(json.dumps(cfg, indent=1))
        log(f"atende ready: { {k: v for k, v in cfg.items() if k not in ('token', 'supervisor')} }")
    finally:
        servers.stop()


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------
def versions():
    def pyver(py, mods):
        code = ("import importlib.metadata as m, platform, json; print(json.dumps("
                "{'python': platform.python_version(), " +
                ", ".join(f"'{x}': m.version('{x}')" for x in mods) + "}))")
        p = subprocess.run([str(py), "-c", code], capture_output=True, text=True)
        return json.loads(p.stdout) if p.returncode == 0 else {}

    import httpx

    return {"peer": pyver(PEER_PY, ["django-helpdesk", "Django", "djangorestframework", "gunicorn",
                                    "psycopg"]),
            "atende": pyver(A_PY, ["Django", "django-ninja", "gunicorn", "psycopg"]),
            "client": {"python": platform.python_version(), "httpx": httpx.__version__},
            "machine": f"{os.cpu_count()} cores, {platform.platform()}"}


def _load(r):
    return (f"load {r['load_start'][0]:.2f}->{r['load_end'][0]:.2f}"
            + ("" if r.get("quiet") else " (not quiet)"))


def _med(xs):
    return round(statistics.median(xs), 1) if xs else float("nan")


def cmd_report(args):
    rows = [json.loads(x) for x in RUNS.read_text().splitlines() if x.strip()]
    if args.since:
        rows = [r for r in rows if r["at"] >= args.since]
    out = [f"side-by-side {dt.datetime.now():%Y-%m-%d %H:%M}; {json.dumps(versions())}", ""]
    ab = [r for r in rows if r.get("phase") in ("a", "b")]
    out.append("a/b, each run (req/s; latency ms; load = 1-min load average at start->end)")
    for r in ab:
        out.append(f"  pass {r['pass']} {r['system']:<6} {r['shape']:<15} {r['phase']} conc {r['conc']:>2}: "
                   f"{r['ok']}/{r['n']} ok, err {r['err']}, {r['rate']}/s, p50 {r['p50']}, "
                   f"p95 {r['p95']}, p99 {r['p99']}, max {r['max']}; codes {r['codes']}; "
                   f"cpu {r['machine_cpu_busy_pct']}% (client {r['client_cpu_pct_of_machine']}%); "
                   f"{_load(r)}, waited {r['waited_s']} s")
    out.append("")
    out.append("a/b medians and ratios Atende/peer (ratio per pass, then the median of the ratios)")
    shapes = sorted({r["shape"] for r in ab if r["system"] == "atende"})
    peer_shapes = sorted({r["shape"] for r in ab if r["system"] == "peer"})

    def sel(phase, conc, **k):
        return {r["pass"]: r for r in ab if r["phase"] == phase and r["conc"] == conc
                and all(r[x] == v for x, v in k.items())}

    for phase in ("a", "b"):
        for conc in sorted({r["conc"] for r in ab}):
            for pshape in peer_shapes:
                peer = sel(phase, conc, system="peer", shape=pshape)
                if not peer:
                    continue
                vals = list(peer.values())
                out.append(f"  {phase} conc {conc}: peer [{pshape}] passes {sorted(peer)}: rate median "
                           f"{_med([r['rate'] for r in vals])}/s, p50 {_med([r['p50'] for r in vals])} ms, "
                           f"p99 {_med([r['p99'] for r in vals])} ms")
                for shape in shapes:
                    at = sel(phase, conc, system="atende", shape=shape)
                    pairs = [(at[p], peer[p]) for p in sorted(at) if p in peer]
                    if not pairs:
                        continue
                    rate = [a["rate"] / b["rate"] for a, b in pairs]
                    p50 = [a["p50"] / b["p50"] for a, b in pairs]
                    p99 = [a["p99"] / b["p99"] for a, b in pairs]
                    out.append(
                        f"    atende [{shape}]: rate median {_med([a['rate'] for a, _ in pairs])}/s, "
                        f"p50 {_med([a['p50'] for a, _ in pairs])} ms, p99 {_med([a['p99'] for a, _ in pairs])} ms;"
                        f" Atende/peer: rate x{statistics.median(rate):.2f} ({', '.join(f'{x:.2f}' for x in rate)}),"
                        f" p50 x{statistics.median(p50):.2f} ({', '.join(f'{x:.2f}' for x in p50)}),"
                        f" p99 x{statistics.median(p99):.2f}")
    out.append("")
    out.append("c/d")
    for r in rows:
        if r.get("phase") == "load":
            out.append(f"  {r['system']} loaded {r['records']:,}: {r['loaded']}; {_load(r)}")
        elif r.get("phase") == "c":
            out.append(f"  {r['system']:<6} {r['records']:>9,} {r['test']:<62} {r['ok']}/{r['n']} ok: "
                       f"p50 {r['p50']}, p95 {r['p95']}, p99 {r['p99']}, max {r['max']} ms; "
                       f"codes {r['codes']}; {_load(r)}")
        elif r.get("phase") == "d":
            secs = r.get("export_s") or r.get("seconds") or r.get("process_wall_s")
            extra = {k: r[k] for k in ("lines", "rows", "tickets", "mb", "bytes", "export_s",
                                       "process_wall_s", "seconds", "peak_rss_mb") if k in r}
            out.append(f"  {r['system']:<6} {r['records']:>9,} {r['test']:<55} "
                       f"{r['lines'] / secs:,.0f} lines/s; {extra}; {_load(r)}")
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--fresh", action="store_true", help="initdb Atende's cluster again")
    s = sub.add_parser("ab")
    s.add_argument("--passes", type=int, default=2)
    s.add_argument("--first-pass", type=int, default=1, help="number of the first pass (to add passes later)")
    s.add_argument("--n", type=int, default=2000)
    s.add_argument("--conc", type=lambda x: [int(v) for v in x.split(",")], default=[8, 16])
    s.add_argument("--warmup", type=int, default=40)
    s.add_argument("--atende-shapes", type=lambda x: x.split(","), default=["serve", "sync2"])
    s = sub.add_parser("bulk")
    s.add_argument("--system", choices=["peer", "atende"], required=True)
    s.add_argument("--records", type=int, default=200_000)
    s.add_argument("--atende-million", type=int, default=1_000_000,
                   help="Atende only: then grow to this many and measure again (0: no)")
    s.add_argument("--samples", type=int, default=30)
    s.add_argument("--warmup-samples", type=int, default=3)
    s.add_argument("--peer-api-samples", type=int, default=30)
    s = sub.add_parser("report")
    s.add_argument("--since", help="only rows recorded at or after this ISO time")
    s.add_argument("--out", help="also write the text here")
    args = ap.parse_args()
    SBS.mkdir(parents=True, exist_ok=True)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")  # the servers' finally blocks stop them

    signal.signal(signal.SIGTERM, on_signal)
    {"setup": cmd_setup, "ab": cmd_ab, "bulk": cmd_bulk, "report": cmd_report}[args.cmd](args)


if __name__ == "__main__":
    main()
