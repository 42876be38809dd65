from argparse import ArgumentParser

from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string

from atende.core.worker import AtendeWorker


class Command(BaseCommand):
    help = "Runs background tasks and the scheduler loop until SIGTERM or Ctrl-C."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--queues", default="*", help="Comma-separated queues, or * for all")
        parser.add_argument("--interval", type=float, default=1.0, help="Idle poll, seconds")
        parser.add_argument(
            "--scheduler-interval", type=float, default=5.0, help="Scheduler tick, seconds"
        )
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument("--batch", action="store_true", help="Exit when no task is left")
        parser.add_argument("--worker-id", default=None)

    def handle(self, *args: object, **options: object) -> None:
        worker = AtendeWorker(
            queue_names=str(options["queues"]).split(","),
            interval=float(options["interval"]),
            scheduler_interval=float(options["scheduler_interval"]),
            batch=bool(options["batch"]),
            backend_name="default",
            startup_delay=False,
            max_tasks=options["max_tasks"],
            worker_id=str(options["worker_id"] or get_random_string(32)),
            excluded_queue_names=[],
        )
        worker.configure_signals()
        worker.run()
