"""Many hook deliveries at once, for the worker tests and the benchmark."""

from django.utils import timezone

from atende.catalog.models import StatusAction
from atende.notifications.models import Channel, Delivery, Purpose


def hook_deliveries(action: StatusAction, count: int, *, prefix: str = "test") -> list[Delivery]:
    now = timezone.now()
    return Delivery.objects.bulk_create(
        [
            Delivery(
                operator_id=action.status.occurrence_type.operator_id,
                purpose=Purpose.TEST,
                channel=Channel.HOOK,
                action=action,
                recipient=action.recipient,
                payload={"type": "test", "data": {"n": n}},
                key=f"{prefix}:{n}",
                created_at=now,
                next_attempt_at=now,
            )
            for n in range(count)
        ],
        batch_size=2000,
    )
