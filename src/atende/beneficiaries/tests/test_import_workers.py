"""Real ``atende worker`` processes: one killed with SIGKILL halfway through an import, and
another that takes over once its lease runs out and finishes it without duplicating anyone."""

import csv
import signal

import pytest

from atende.beneficiaries.imports import import_queue, imports_folder
from atende.beneficiaries.models import Beneficiary, Change, ChangeKind, Import, ImportState
from atende.synth import beneficiaries as synth
from atende.testing.processes import atende, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

LINES = 12_000
WORKER_ENV = {"ATENDE_IMPORT_LEASE_SECONDS": "5"}


def test_an_import_whose_worker_is_killed_is_finished_by_another(operator_a):
    folder = imports_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "killed-worker.csv"
    with path.open("w", newline="") as out:
        rows = synth.rows(LINES, seed=11)
        first = next(rows)
        writer = csv.DictWriter(out, fieldnames=list(first), delimiter=";")
        writer.writeheader()
        writer.writerow(first)
        writer.writerows(rows)
    job = import_queue(operator=operator_a, user=None, path=path, file_name="lista.csv")

    def current() -> Import:
        return Import.objects.get(pk=job.pk)

    doomed = atende("worker", "--interval", "0.1", **WORKER_ENV)
    try:
        wait_until(lambda: current().lines_done >= 2000, timeout=90, interval=0.05)
        doomed.send_signal(signal.SIGKILL)
        doomed.communicate(timeout=30)
    finally:
        if doomed.poll() is None:
            doomed.kill()
    stopped = current()
    assert stopped.state == ImportState.RUNNING and stopped.lines_done < LINES

    survivor = atende("worker", "--interval", "0.1", **WORKER_ENV)
    try:
        wait_until(lambda: current().state == ImportState.DONE, timeout=120)
    finally:
        survivor.kill()
        survivor.communicate(timeout=30)

    done = current()
    assert (done.attempts, done.lines_done, done.created, done.invalid) == (2, LINES, LINES, 0)
    assert Beneficiary.objects.filter(operator=operator_a).count() == LINES
    assert Change.objects.filter(job=done, kind=ChangeKind.CREATED).count() == LINES
    assert not path.exists()
