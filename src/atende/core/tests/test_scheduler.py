from datetime import timedelta

import pytest
from django.utils import timezone

from atende.core import scheduler
from atende.core.models import ScheduledJob


@pytest.fixture
def counting_job():
    calls = []
    name = "test.counting"
    scheduler.periodic(every=timedelta(minutes=5), name=name)(lambda: calls.append(1))
    yield name, calls
    scheduler._jobs.pop(name)


@pytest.mark.django_db
def test_a_due_job_runs_once_per_period_however_often_workers_tick(counting_job):
    name, calls = counting_job
    assert name in scheduler.run_due_jobs()
    assert name not in scheduler.run_due_jobs()
    assert calls == [1]
    job = ScheduledJob.objects.get(name=name)
    assert job.runs == 1
    assert job.next_run_at > timezone.now() + timedelta(minutes=4)


@pytest.mark.django_db
def test_a_job_runs_again_when_its_period_has_passed(counting_job):
    name, calls = counting_job
    scheduler.run_due_jobs()
    ScheduledJob.objects.filter(name=name).update(next_run_at=timezone.now())
    scheduler.run_due_jobs()
    assert len(calls) == 2


@pytest.mark.django_db
def test_a_failing_job_keeps_its_error_and_does_not_stop_the_others(counting_job):
    name, calls = counting_job

    def broken() -> None:
        raise RuntimeError("quebrado")

    scheduler.periodic(every=timedelta(minutes=1), name="test.broken")(broken)
    try:
        ran = scheduler.run_due_jobs()
    finally:
        scheduler._jobs.pop("test.broken")
    assert "test.broken" in ran and name in ran
    assert ScheduledJob.objects.get(name="test.broken").last_error == "RuntimeError: quebrado"
    assert calls == [1]


def test_apps_register_their_housekeeping_jobs():
    names = {job.name for job in scheduler.registered_jobs()}
    assert {
        "core.prune",
        "accounts.prune_login_failures",
        "beneficiaries.imports",
        "beneficiaries.statistics",
    } <= names
