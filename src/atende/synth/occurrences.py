"""Synthetic occurrences in bulk, for benchmarks and load tests (``atende synth``).

It writes rows directly (COPY on PostgreSQL), bypassing the per-change services for
speed, but not their rules: states come from ``state_derive``, report codes from
``report_code_for``, protocols are reserved from the real sequences (so they never clash
with numbers issued by the services), and every occurrence's row equals the replay of its
events — the test of this module checks it.
"""

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone
from validate_docbr import CPF

from atende.catalog.calendars import sla_clock
from atende.catalog.models import Closing, OccurrenceType, Status
from atende.catalog.protocols import protocol_block
from atende.core.db import ids_reserve, rows_write
from atende.occurrences.models import (
    Channel,
    EventKind,
    Mode,
    Nature,
    State,
)
from atende.occurrences.services import VISIBLE_KINDS, report_code_for, state_derive
from atende.synth import occurrences_pg as synth_pg
from atende.synth.occurrences_pg import EVENT_COLUMNS, OCCURRENCE_COLUMNS
from atende.tenancy.models import Application, Instance, Membership, Operator, Role

FIRST = "Ana Bruno Carla Daniel Eduarda Felipe Gabriela Heitor Isabela João Larissa Marcos"
LAST = "Silva Santos Oliveira Souza Lima Pereira Costa Rodrigues Almeida Nascimento"
CHANNELS = [c.value for c in Channel]
CHUNK = 20_000


@dataclass
class _Kind:
    """One occurrence type, read once: its statuses by role and its SLA clock."""

    type: OccurrenceType
    default: Status
    start: Status | None
    middle: list[Status]
    closing: list[Status]
    subjects: list[int]
    due: object

    @classmethod
    def of(cls, occurrence_type: OccurrenceType, operator: Operator) -> "_Kind":
        statuses = list(occurrence_type.statuses.filter(is_active=True))
        default = next(s for s in statuses if s.is_default)
        start = next((s for s in statuses if s.starts_attendance), None)
        policy = occurrence_type.sla_policy
        return cls(
            type=occurrence_type,
            default=default,
            start=start,
            middle=[s for s in statuses if not s.is_closing and not s.is_default and s != start],
            closing=[s for s in statuses if s.is_closing],
            subjects=list(occurrence_type.subjects.values_list("pk", flat=True)),
            due=sla_clock(policy=policy, time_zone=operator.time_zone, state=operator.state)
            if policy
            else None,
        )


@dataclass
class _Occ:
    """The occurrence being built: its current fields and its events."""

    id: int
    kind: _Kind
    at: datetime
    status: Status
    unit_id: int | None
    attendant_id: int | None = None
    attended: bool = False
    state: int = State.NEW
    closed_at: datetime | None = None
    outcome: tuple = ("", None, None)
    events: list[tuple] = field(default_factory=list)


class Synthesizer:
    def __init__(
        self,
        *,
        operator: Operator,
        application: Application,
        seed: int,
        skip_checks: bool = False,
    ) -> None:
        self.skip_checks = skip_checks
        self.rng = random.Random(seed)
        self.operator = operator
        self.application = application
        self.now = timezone.now()
        self.kinds = [
            _Kind.of(t, operator)
            for t in OccurrenceType.objects.for_operator(operator)
            .filter(is_active=True)
            .select_related("protocol_type__operator", "sla_policy__calendar")
        ]
        people = Membership.objects.filter(
            operator=operator, is_active=True, role__in=[Role.ATTENDANT, Role.SUPERVISOR]
        ).select_related("user")
        self.people = [(m.user_id, m.user.full_name or m.user.email) for m in people]
        self.units = list(operator.units.filter(is_active=True).values_list("pk", flat=True))
        self.reasons = list(operator.outcome_reasons.values_list("pk", "description"))
        self.pg = connection.vendor == "postgresql"
        self.tz = ZoneInfo(operator.time_zone)
        self.cpfs = [CPF().generate() for _ in range(500)]
        self.first_names = FIRST.split()
        self.last_names = LAST.split()
        self.channels = CHANNELS

    # --- the story of one occurrence ---------------------------------------------------

    def _event(self, occ: _Occ, kind: str, at: datetime, actor: tuple | None, **after) -> None:
        before = (occ.status, occ.state, occ.attendant_id, occ.unit_id)
        for name, value in after.items():
            setattr(occ, name, value)
        occ.attended = occ.attended or occ.attendant_id is not None or not occ.status.is_default
        occ.state = state_derive(
            status=occ.status, attendant_id=occ.attendant_id, attended=occ.attended
        )
        status_changed = occ.status.pk != before[0].pk
        first = not occ.events
        text, reason, resolved = occ.outcome if kind == EventKind.CLOSED else ("", None, None)
        occ.events.append(
            (
                self.operator.pk,
                occ.id,
                len(occ.events) + 1,
                kind,
                report_code_for(
                    kind=kind,
                    status_changed=status_changed or first,
                    state_before=occ.state if first else before[1],
                    state_after=occ.state,
                ),
                at,
                actor[0] if actor else None,
                actor[1] if actor else "",
                None if actor else self.application.pk,
                None if first else before[0].pk,
                "" if first else before[0].internal_description,
                occ.status.pk,
                occ.status.internal_description,
                None if first else before[1],
                occ.state,
                None if first else before[2],
                occ.attendant_id,
                None if first else before[3],
                occ.unit_id,
                True,
                occ.status.visible_in_history and kind in VISIBLE_KINDS,
                text,
                "",
                reason[0] if reason else None,
                reason[1] if reason else "",
                resolved,
                "{}",
            )
        )
        occ.at = at

    def _later(self, occ: _Occ) -> datetime:
        return min(occ.at + timedelta(minutes=self.rng.randint(1, 3 * 24 * 60)), self.now)

    def _story(self, occ: _Occ, creator: tuple | None) -> None:
        rng = self.rng
        self._event(occ, EventKind.CREATED, occ.at, creator)
        fate = rng.random()
        if fate < 0.15:
            return
        person = rng.choice(self.people)
        start = occ.kind.start if occ.kind.start is not None else occ.status
        self._event(
            occ,
            EventKind.ATTENDANCE_STARTED,
            self._later(occ),
            person,
            attendant_id=person[0],
            status=start,
        )
        if occ.kind.middle and rng.random() < 0.5:
            self._event(
                occ,
                EventKind.STATUS_CHANGED,
                self._later(occ),
                person,
                status=rng.choice(occ.kind.middle),
            )
        if fate < 0.35:
            return
        if fate < 0.5:
            self._event(occ, EventKind.RELEASED, self._later(occ), person, attendant_id=None)
            return
        self._close(occ, person)
        if rng.random() < 0.05:
            supervisor = rng.choice(self.people)
            self._event(
                occ,
                EventKind.REOPENED,
                self._later(occ),
                supervisor,
                status=occ.kind.start or occ.kind.default,
                attendant_id=None,
                closed_at=None,
                outcome=("", None, None),
            )
            if rng.random() < 0.5:
                occ.attendant_id = None
                self._close(occ, supervisor)

    def _close(self, occ: _Occ, person: tuple) -> None:
        status = self.rng.choice(occ.kind.closing)
        at = self._later(occ)
        reason = self.rng.choice(self.reasons) if self.reasons else None
        resolved = status.closing == Closing.RESOLVED
        occ.outcome = ("Solicitação atendida." if resolved else "Não procede.", reason, resolved)
        self._event(occ, EventKind.CLOSED, at, person, status=status, closed_at=at)

    # --- rows ----------------------------------------------------------------------------

    def _occurrence_row(self, occ: _Occ, protocol: str, registered: datetime, creator) -> tuple:
        kind, t = occ.kind, occ.kind.type
        cpf = self.rng.choice(self.cpfs)
        name = f"{self.rng.choice(FIRST.split())} {self.rng.choice(LAST.split())}"
        text, reason, resolved = occ.outcome
        return (
            occ.id,
            self.operator.pk,
            self.application.pk,
            protocol,
            t.protocol_type_id,
            None,
            t.pk,
            self.rng.choice(kind.subjects) if kind.subjects else None,
            occ.status.pk,
            occ.state,
            Mode.ACTIVE,
            self.rng.choice(CHANNELS),
            Nature.ATTENDANCE if creator else Nature.SELF_SERVICE,
            cpf,
            name,
            cpf,
            name,
            f"{self.rng.randint(1, 99999):07d}",
            "",  # contact e-mail
            "",  # contact phone
            "",
            t.functionality_id,
            t.functionality_description,
            t.request_template_id,
            t.request_template_description,
            creator[0] if creator else None,
            occ.attendant_id,
            occ.unit_id,
            occ.attended,
            registered,
            occ.at,
            kind.due(registered) if kind.due else None,
            None,
            occ.closed_at,
            text,
            "",
            reason[0] if reason else None,
            resolved,
            None,  # not a duplicate
            None,  # the call center's manifestation: classification,
            None,  # procedure group,
            None,  # urgency,
            None,  # sentiment,
            None,  # priority,
            "",  # observation
            "[]",  # and TISS guides
            None,  # no message waiting for an answer
            len(occ.events),
            len(occ.events),
        )

    def run(self, count: int, *, days: int = 365) -> int:
        if synth_pg.supported(self):
            synth_pg.load(self, count, days)
            return count
        for made in range(0, count, CHUNK):
            with transaction.atomic():
                self._skip_checks()
                self._chunk(min(CHUNK, count - made), days)
        return count

    def _skip_checks(self) -> None:
        if self.pg and self.skip_checks:
            # The rows are built consistent (the test replays them); per-row foreign-key
            # triggers would cost more than everything else. Needs a superuser.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")

    def _chunk(self, count: int, days: int) -> None:
        ids = ids_reserve("occurrences_occurrence", count)
        span = int(timedelta(days=days).total_seconds())
        starts = sorted(
            self.now - timedelta(seconds=self.rng.randint(3600, span)) for _ in range(count)
        )
        kinds = [self.rng.choice(self.kinds) for _ in range(count)]
        protocols = self._protocols(starts, kinds)
        occurrences, events = [], []
        for occ_id, registered, kind, protocol in zip(ids, starts, kinds, protocols, strict=True):
            creator = self.rng.choice(self.people) if self.rng.random() < 0.6 else None
            occ = _Occ(
                id=occ_id,
                kind=kind,
                at=registered,
                status=kind.default,
                unit_id=self.rng.choice(self.units) if self.units else None,
            )
            self._story(occ, creator)
            occurrences.append(self._occurrence_row(occ, protocol, registered, creator))
            events.extend(occ.events)
        rows_write("occurrences_occurrence", OCCURRENCE_COLUMNS, occurrences)
        rows_write("occurrences_event", EVENT_COLUMNS, events)

    def _protocols(self, starts: Sequence[datetime], kinds: Sequence[_Kind]) -> list[str]:
        """Reserve one block per (protocol type, day) from the real sequences."""
        groups: dict[tuple[int, str], list[int]] = defaultdict(list)
        for index, (at, kind) in enumerate(zip(starts, kinds, strict=True)):
            groups[(kind.type.protocol_type_id, at.astimezone(self.tz).date().isoformat())].append(
                index
            )
        protocols = [""] * len(starts)
        for (_, _day), indexes in sorted(groups.items()):
            protocol_type = kinds[indexes[0]].type.protocol_type
            block = protocol_block(
                protocol_type=protocol_type, at=starts[indexes[0]], count=len(indexes)
            )
            for index, protocol in zip(indexes, block, strict=True):
                protocols[index] = protocol
        return protocols


def synth_target(*, seed: int) -> tuple[Operator, Application]:
    """The operator to fill: a synthetic health operator with the seeds' catalog, made
    once through the services and reused."""
    from atende.accounts.services import user_create
    from atende.catalog.presets import install_health_catalog
    from atende.tenancy.services import (
        application_create,
        membership_grant,
        operator_create,
        unit_create,
    )

    operator = Operator.objects.filter(name="Operadora Sintética").first()
    if operator is None:
        with transaction.atomic():
            operator = operator_create(
                name="Operadora Sintética",
                ans_registration="999990",
                state="SP",
                municipality="São Paulo",
            )
            application_create(
                operator=operator,
                name="App sintético",
                bundle="br.com.atende.synth",
                instance=Instance.PRODUCTION,
            )
            units = [unit_create(operator=operator, name=f"Unidade {n}") for n in range(1, 6)]
            install_health_catalog(operator)
            for n in range(1, 21):
                user = user_create(
                    email=f"atendente{n}@synth.atende",
                    full_name=f"Atendente {n}",
                    password=None,
                )
                membership_grant(
                    user=user,
                    operator=operator,
                    role=Role.SUPERVISOR if n == 1 else Role.ATTENDANT,
                    units=[units[n % len(units)]],
                )
    application = operator.applications.get(instance=Instance.PRODUCTION)
    return operator, application
