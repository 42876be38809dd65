"""Writing the registry: cards upserted in batches (the file import and the ERP's API share
``beneficiaries_upsert``), cancellation of a card removed at the source, invoices, guides,
waiting periods and partial coverage, the access log and anonymisation.

Every write runs in the caller's transaction and records a ``Change`` with its source;
writes of one operator's registry take that operator's lock, so an import and the API
never race on the same card."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.beneficiaries.models import (
    Access,
    Address,
    Beneficiary,
    CardWaitingPeriod,
    Change,
    ChangeKind,
    Contact,
    ContactKind,
    Guide,
    Import,
    Invoice,
    PartialCoverage,
    ProcedureGroup,
    Product,
    Situation,
    WaitingPeriod,
)
from atende.beneficiaries.records import (
    SCALARS,
    AddressRecord,
    Record,
    emails_parse,
    name_fold,
    phones_parse,
)
from atende.core.db import (
    ids_reserve,
    plans_cached,
    plans_per_call,
    references_checked_per_statement,
    rows_update,
    rows_write,
    transaction_lock,
)
from atende.tenancy.models import ApiToken, Operator

BATCH_MAX = 1000


@dataclass(frozen=True)
class Source:
    """Who writes: a person, an import or an application's token."""

    user: object = None
    job: Import | None = None
    token: ApiToken | None = None

    def change(self, **fields: object) -> Change:
        return Change(user=self.user, job=self.job, token=self.token, **fields)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: "Counts") -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


def registry_lock(operator: Operator | int) -> None:
    """Writes of one operator's registry run one at a time; their lookups by the thousand
    are planned for their values (``plans_per_call``)."""
    operator_id = operator if isinstance(operator, int) else operator.pk
    transaction_lock(f"beneficiaries:{operator_id}")
    plans_per_call()


def beneficiaries_upsert(
    *,
    operator: Operator,
    records: Iterable[Record],
    source: Source,
    products: dict | None = None,
) -> Counts:
    """Create the cards not yet known and change those whose record differs; a card sent
    twice in one batch takes its last record. ``products`` caches the operator's products
    between batches of one import. Runs in the caller's transaction, and checks each row's
    references as it writes it (``references_checked_per_statement``)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("beneficiaries_upsert needs a transaction")
    by_card = {record.card: record for record in records}
    counts = Counts()
    if not by_card:
        return counts
    registry_lock(operator)
    # The cards first, then the rows that refer to them: each is checked as it is written.
    with references_checked_per_statement():
        now = timezone.now()
        product_ids = _products_upsert(
            operator, by_card.values(), {} if products is None else products
        )
        known = dict(
            Beneficiary.objects.filter(operator=operator, card__in=list(by_card)).values_list(
                "card", "digest"
            )
        )
        new = [record for card, record in by_card.items() if card not in known]
        changed = [r for card, r in by_card.items() if card in known and known[card] != r.digest]
        counts.unchanged = len(by_card) - len(new) - len(changed)
        changes = []
        written = []
        if new:
            # Their references are looked up by primary key: a plan that never goes stale.
            with plans_cached():
                _cards_insert(operator, new, product_ids, now, source)
        if changed:
            rows = {
                b.card: b
                for b in Beneficiary.objects.filter(
                    operator=operator, card__in=[r.card for r in changed]
                ).select_related("product")
            }
            befores = _snapshots(list(rows.values()))
            updated = []
            for record in changed:
                beneficiary = rows[record.card]
                before = befores[beneficiary.pk]
                after = record_fields(record)
                _apply(beneficiary, record, product_ids, now)
                diff = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
                updated.append(beneficiary)
                written.append((beneficiary.pk, record))
                changes.append(
                    source.change(
                        operator=operator,
                        beneficiary=beneficiary,
                        at=now,
                        kind=ChangeKind.UPDATED,
                        fields=diff,
                    )
                )
            Contact.objects.filter(beneficiary__in=updated).delete()
            Address.objects.filter(beneficiary__in=updated).delete()
            # Rows written, or their references checked, by primary key: as for new cards.
            with plans_cached():
                rows_update(updated, [*SCALARS, "product", "name_key", "digest", "updated_at"])
                _contacts_write(operator, written)
                Change.objects.bulk_create(changes)
        counts.created, counts.updated = len(new), len(changed)
        _logins_link(operator, [*new, *changed])
        return counts


CARD_COLUMNS = [
    "id", "operator_id", "card", "product_id", "name_key", "digest", "created_at",
    "updated_at", *SCALARS,
]  # fmt: skip


def _cards_insert(
    operator: Operator, records: list[Record], product_ids: dict, now: object, source: Source
) -> None:
    """New cards with their contacts, addresses and creation records, written as plain
    rows (COPY on PostgreSQL): a file of a million cards spends its time here."""
    ids = ids_reserve(Beneficiary._meta.db_table, len(records))
    rows_write(
        Beneficiary._meta.db_table,
        CARD_COLUMNS,
        (
            (
                pk, operator.pk, r.card, product_ids.get(r.product_code), r.name_key, r.digest,
                now, now, *(getattr(r, name) for name in SCALARS),
            )
            for pk, r in zip(ids, records, strict=True)
        ),
    )  # fmt: skip
    _contacts_write(operator, zip(ids, records, strict=True))
    user_id = getattr(source.user, "pk", None)
    job_id = source.job.pk if source.job else None
    token_id = source.token.pk if source.token else None
    rows_write(
        Change._meta.db_table,
        ["operator_id", "beneficiary_id", "at", "kind", "user_id", "job_id", "token_id", "fields"],
        (
            (operator.pk, pk, now, ChangeKind.CREATED.value, user_id, job_id, token_id, "{}")
            for pk in ids
        ),
    )


def _apply(beneficiary: Beneficiary, record: Record, product_ids: dict, now: object) -> Beneficiary:
    for name in SCALARS:
        setattr(beneficiary, name, getattr(record, name))
    beneficiary.product_id = product_ids.get(record.product_code)
    beneficiary.name_key = record.name_key
    beneficiary.digest = record.digest
    beneficiary.updated_at = now
    return beneficiary


def _products_upsert(operator: Operator, records: Iterable[Record], cache: dict) -> dict:
    """The products the records name, created or brought up to date; code → id."""
    wanted = {}
    for record in records:
        if record.product_code:
            wanted[record.product_code] = (
                record.product_name or record.product_code,
                record.product_registration,
                record.segmentation,
            )
    missing = [code for code in wanted if code not in cache]
    if missing:
        for product in Product.objects.filter(operator=operator, code__in=missing):
            cache[product.code] = product
    for code, (name, registration, segmentation) in wanted.items():
        product = cache.get(code)
        if product is None:
            cache[code] = Product.objects.create(
                operator=operator,
                code=code,
                name=name,
                ans_registration=registration,
                segmentation=segmentation,
            )
        elif (product.name, product.ans_registration, product.segmentation) != (
            name,
            registration,
            segmentation,
        ):
            product.name, product.ans_registration = name, registration
            product.segmentation = segmentation
            product.save(update_fields=["name", "ans_registration", "segmentation"])
    return {code: cache[code].pk for code in wanted}


def record_fields(record: Record) -> dict:
    """The record as the audit keeps it: JSON values, field by field."""
    fields = {name: _json(getattr(record, name)) for name in SCALARS}
    fields["product"] = record.product_code
    fields["phones"] = list(record.phones)
    fields["emails"] = list(record.emails)
    fields["addresses"] = [_json_address(a) for a in record.addresses]
    return fields


def _json(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def _json_address(address: AddressRecord | Address) -> dict:
    names = ("street", "number", "complement", "district", "city", "state", "postal_code")
    return {name: getattr(address, name) for name in names}


def _snapshots(beneficiaries: list[Beneficiary]) -> dict[int, dict]:
    """Each card's current fields as ``record_fields`` gives them."""
    contacts = defaultdict(lambda: {ContactKind.PHONE: [], ContactKind.EMAIL: []})
    for contact in Contact.objects.filter(beneficiary__in=beneficiaries).order_by("-is_main", "id"):
        contacts[contact.beneficiary_id][contact.kind].append(contact.value)
    addresses = defaultdict(list)
    for address in Address.objects.filter(beneficiary__in=beneficiaries).order_by("-is_main", "id"):
        addresses[address.beneficiary_id].append(_json_address(address))
    snapshots = {}
    for b in beneficiaries:
        fields = {name: _json(getattr(b, name)) for name in SCALARS}
        fields["product"] = b.product.code if b.product else ""
        fields["phones"] = contacts[b.pk][ContactKind.PHONE]
        fields["emails"] = contacts[b.pk][ContactKind.EMAIL]
        fields["addresses"] = addresses[b.pk]
        snapshots[b.pk] = fields
    return snapshots


def _contacts_write(operator: Operator, cards: Iterable[tuple[int, Record]]) -> None:
    """The contacts and addresses of the records, for the card of each id, as plain rows;
    the first of each kind is the main one."""
    contacts, addresses = [], []
    for pk, r in cards:
        for kind, values in ((ContactKind.PHONE, r.phones), (ContactKind.EMAIL, r.emails)):
            contacts += [
                (operator.pk, pk, kind, value, position == 0)
                for position, value in enumerate(values)
            ]
        addresses += [(pk, position == 0, *astuple(a)) for position, a in enumerate(r.addresses)]
    rows_write(
        Contact._meta.db_table,
        ["operator_id", "beneficiary_id", "kind", "value", "is_main"],
        contacts,
    )
    rows_write(
        Address._meta.db_table,
        ["beneficiary_id", "is_main", *(f.name for f in fields(AddressRecord))],
        addresses,
    )


def _logins_link(operator: Operator, records: list[Record]) -> None:
    """Portal logins named after a card (the login is the card code) hang from that card."""
    from atende.portal.models import BeneficiaryLogin

    by_card = {r.card: r for r in records}
    loose = BeneficiaryLogin.objects.filter(
        operator=operator, beneficiary=None, cpf__in={r.cpf for r in records}
    )
    for login in loose:
        record = by_card.get(login.login.upper())
        if record is not None and record.cpf == login.cpf:
            login.beneficiary = Beneficiary.objects.get(operator=operator, card=record.card)
            login.save(update_fields=["beneficiary"])


def beneficiary_cancel(
    *, operator: Operator, card: str, source: Source, on: date | None = None, reason: str = ""
) -> Beneficiary:
    """A card removed at the source is cancelled, never deleted: its protocols, invoices
    and history stay. Cancelling a cancelled card changes nothing."""
    registry_lock(operator)
    beneficiary = Beneficiary.objects.select_for_update().get(operator=operator, card=card)
    if beneficiary.situation == Situation.CANCELLED:
        return beneficiary
    on = on or timezone.localdate()
    reason = reason or _("Removed from the operator's system.")
    before = {
        "situation": beneficiary.situation,
        "situation_date": _json(beneficiary.situation_date),
        "situation_reason": beneficiary.situation_reason,
    }
    beneficiary.situation = Situation.CANCELLED
    beneficiary.situation_date = on
    beneficiary.situation_reason = reason
    # The next record sent for this card is a change, whatever it holds.
    beneficiary.digest = ""
    beneficiary.updated_at = timezone.now()
    beneficiary.save(
        update_fields=["situation", "situation_date", "situation_reason", "digest", "updated_at"]
    )
    after = {
        "situation": Situation.CANCELLED,
        "situation_date": on.isoformat(),
        "situation_reason": reason,
    }
    source.change(
        operator=operator,
        beneficiary=beneficiary,
        at=beneficiary.updated_at,
        kind=ChangeKind.CANCELLED,
        fields={k: [before[k], v] for k, v in after.items() if before[k] != v},
    ).save()
    return beneficiary


def access_record(*, user: object, beneficiary: Beneficiary, screen: str) -> None:
    """Log that ``user`` saw the card's record (LGPD art. 37: who processed whose data)."""
    Access.objects.create(
        operator_id=beneficiary.operator_id,
        beneficiary=beneficiary,
        user=user,
        at=timezone.now(),
        screen=screen,
    )


def _ids_by_code(model: type, field: str, operator: Operator, codes: set[str], refusal: str):
    """Code → id of the operator's rows with those codes; refuses the batch naming any
    other (``refusal`` has a ``%(codes)s``)."""
    found = dict(
        model.objects.filter(operator=operator, **{f"{field}__in": codes}).values_list(field, "id")
    )
    unknown = sorted(codes - found.keys())
    if unknown:
        raise ValidationError(refusal % {"codes": ", ".join(unknown[:20])}, code="unknown")
    return found


# --- What hangs from a card: invoices, guides, waiting periods, partial coverage -------


@dataclass(frozen=True)
class Kind:
    """A kind of row hanging from a card, upserted by ``key`` within the operator."""

    model: type
    key: tuple[str, ...]
    label: str


INVOICES = Kind(Invoice, ("number",), "fatura")
GUIDES = Kind(Guide, ("number",), "guia")
WAITING_PERIODS = Kind(CardWaitingPeriod, ("beneficiary_id", "group_id"), "carência")
PARTIAL_COVERAGES = Kind(PartialCoverage, ("beneficiary_id", "group_id", "condition"), "CPT")


def children_upsert(*, operator: Operator, kind: Kind, items: list[dict], source: Source) -> Counts:
    """Create or change rows of ``kind``; each item holds ``card`` and the row's fields
    (a procedure group by its code, as ``group``). A batch naming an unknown card or group
    is refused whole. Each card whose rows changed gets one ``Change``."""
    registry_lock(operator)
    cards = _ids_by_code(
        Beneficiary,
        "card",
        operator,
        {item["card"].upper() for item in items},
        _("Unknown cards: %(codes)s."),
    )
    groups = _ids_by_code(
        ProcedureGroup,
        "code",
        operator,
        {item["group"] for item in items if "group" in item},
        _("Unknown procedure groups: %(codes)s."),
    )
    rows = []
    for item in items:
        values = {k: v for k, v in item.items() if k not in ("card", "group")}
        values["beneficiary_id"] = cards[item["card"].upper()]
        if "group" in item:
            values["group_id"] = groups[item["group"]]
        named = [item.get("number") or item.get("group"), item.get("condition")]
        rows.append((values, " ".join([kind.label, *(str(n) for n in named if n)])))
    first = kind.key[0]
    found = kind.model.objects.filter(
        **{"beneficiary__operator": operator, f"{first}__in": {row[first] for row, _n in rows}}
    )
    existing = {tuple(getattr(o, k) for k in kind.key): o for o in found}
    now = timezone.now()
    counts, new, changed = Counts(), {}, {}
    diffs = defaultdict(dict)
    for values, name in rows:
        key = tuple(values[k] for k in kind.key)
        row = existing.get(key) or new.get(key)
        if row is None:
            extra = {"operator": operator} if _has_operator(kind.model) else {}
            new[key] = kind.model(**values, **extra)
            diffs[values["beneficiary_id"]][name] = [None, _plain(values)]
            continue
        before = {k: getattr(row, k) for k in values}
        if before == values:
            counts.unchanged += 1
            continue
        for k, v in values.items():
            setattr(row, k, v)
        changed[key] = row
        diffs[values["beneficiary_id"]][name] = [_plain(before), _plain(values)]
    fields = [k for k in rows[0][0] if k not in kind.key] if rows else []
    # Rows written, or their references checked, by primary key (``plans_cached``).
    with plans_cached():
        kind.model.objects.bulk_create(new.values())
        if changed and fields:
            rows_update(list(changed.values()), fields)
        Change.objects.bulk_create(
            source.change(
                operator=operator,
                beneficiary_id=beneficiary_id,
                at=now,
                kind=ChangeKind.UPDATED,
                fields=fields_changed,
            )
            for beneficiary_id, fields_changed in diffs.items()
        )
    counts.created, counts.updated = len(new), len(changed)
    return counts


def _has_operator(model: type) -> bool:
    return any(field.name == "operator" for field in model._meta.concrete_fields)


def _plain(values: dict) -> dict:
    return {
        k: v.isoformat()
        if isinstance(v, date)
        else str(v)
        if not isinstance(v, int | str | None)
        else v
        for k, v in values.items()
        if k not in ("beneficiary_id", "group_id")
    }


# --- The configurator's settings -------------------------------------------------------


def procedure_group_save(*, group: ProcedureGroup) -> ProcedureGroup:
    group.code = group.code.strip().upper()
    group.name = group.name.strip()
    duplicate = ProcedureGroup.objects.filter(operator=group.operator, code=group.code)
    if duplicate.exclude(pk=group.pk).exists():
        raise ValidationError({"code": _("Another procedure group has this code.")})
    group.full_clean()
    group.save()
    return group


def waiting_periods_set(*, product: Product, days: dict[ProcedureGroup, int | None]) -> None:
    """Set the product's waiting period per group; None removes the group's."""
    for group, value in days.items():
        if group.operator_id != product.operator_id:
            raise ValidationError(_("This procedure group belongs to another operator."))
        if value is None:
            WaitingPeriod.objects.filter(product=product, group=group).delete()
        else:
            WaitingPeriod.objects.update_or_create(
                product=product, group=group, defaults={"days": value}
            )


# --- LGPD: anonymisation of a person who asks for it -----------------------------------

PLACEHOLDER = "[anonimizado]"
ANONYMOUS_NAME = "Pessoa anonimizada"


def person_anonymise(*, operator: Operator, cpf: str, user: object) -> dict[str, int]:
    """Replace a person's personal data, at one operator, by placeholders: every card of
    the CPF (name, documents, birth, contacts, addresses; the card code becomes
    ``ANON<id>``), the values in those cards' change history, their occurrences'
    identification, contact and texts, the messages sent about those occurrences, the
    portal logins and push devices. Protocols, dates, states and counts stay; each card
    records an ``anonymised`` change by ``user``, who must be the operator's supervisor.
    Runs in the caller's transaction."""
    from atende.beneficiaries.selectors import supervises
    from atende.notifications.models import Delivery, PushTarget
    from atende.occurrences.models import Occurrence
    from atende.portal.models import BeneficiaryLogin

    if not supervises(user, operator.pk):
        raise ValidationError(
            _("Only the operator's supervisors anonymise a person."), code="denied"
        )
    registry_lock(operator)
    cards = list(Beneficiary.objects.select_for_update().filter(operator=operator, cpf=cpf))
    if not cards:
        raise ValidationError(_("No card of this operator has this CPF."), code="unknown")
    identifiers = {cpf, *(b.card for b in cards)}
    now = timezone.now()
    for change in Change.objects.filter(beneficiary__in=cards).exclude(fields={}):
        change.fields = {name: [PLACEHOLDER, PLACEHOLDER] for name in change.fields}
        change.save(update_fields=["fields"])
    Contact.objects.filter(beneficiary__in=cards).delete()
    Address.objects.filter(beneficiary__in=cards).delete()
    for b in cards:
        b.card = f"ANON{b.pk}"
        b.cpf = "00000000000"
        b.cns = ""
        b.name = ANONYMOUS_NAME
        b.social_name = ""
        b.name_key = name_fold(ANONYMOUS_NAME)
        b.birth_date = None
        b.sex = ""
        b.mother_name = ""
        b.digest = ""
        b.anonymised_at = now
        b.updated_at = now
        b.save()
    Change.objects.bulk_create(
        Change(operator=operator, beneficiary=b, at=now, kind=ChangeKind.ANONYMISED, user=user)
        for b in cards
    )
    occurrences = Occurrence.objects.filter(operator=operator).filter(
        Q(beneficiary_identifier__in=identifiers) | Q(requester_identifier__in=identifiers)
    )
    occurrence_ids = list(occurrences.values_list("pk", flat=True))
    touched = Occurrence.objects.filter(pk__in=occurrence_ids)
    touched.filter(beneficiary_identifier__in=identifiers).update(
        beneficiary_identifier="", beneficiary_name=ANONYMOUS_NAME
    )
    touched.filter(requester_identifier__in=identifiers).update(
        requester_identifier="", requester_name=ANONYMOUS_NAME
    )
    touched.update(
        contact_email="",
        contact_phone="",
        description=PLACEHOLDER,
        outcome_text=PLACEHOLDER,
        outcome_attachment_url="",
    )
    deliveries = Delivery.objects.filter(occurrence_id__in=occurrence_ids).update(
        recipient=PLACEHOLDER, subject=PLACEHOLDER, body="", html="", payload={}
    )
    logins = BeneficiaryLogin.objects.filter(operator=operator).filter(
        Q(cpf=cpf) | Q(beneficiary__in=cards)
    )
    login_count = 0
    for login in logins:
        login.login = f"anon-{login.pk}"
        login.cpf = "00000000000"
        login.name = ANONYMOUS_NAME
        login.email = ""
        login.contract_number = ""
        login.is_active = False
        login.set_password(None)
        login.save()
        login_count += 1
    devices = PushTarget.objects.filter(
        operator=operator, beneficiary_identifier__in=identifiers
    ).delete()[0]
    return {
        "cards": len(cards),
        "occurrences": len(occurrence_ids),
        "deliveries": deliveries,
        "logins": login_count,
        "devices": devices,
    }


def beneficiary_contacts_set(
    *, user: object, beneficiary: Beneficiary, phones: Iterable[str], emails: Iterable[str]
) -> bool:
    """A person's correction of a card's phones and e-mails (the call center's "Atualizar
    dados"), the first of each the main one, audited like every change. The card's
    digest is cleared, so the next record the operator's systems send for it is applied
    whatever it says: they stay the source of the registry. False when nothing changed."""
    parsed_phones, problems = phones_parse(phones)
    if problems:
        raise ValidationError({"phones": problems[0]})
    parsed_emails, problems = emails_parse(emails)
    if problems:
        raise ValidationError({"emails": problems[0]})
    after = {ContactKind.PHONE: parsed_phones, ContactKind.EMAIL: parsed_emails}
    with transaction.atomic():
        registry_lock(beneficiary.operator_id)
        before = {ContactKind.PHONE: [], ContactKind.EMAIL: []}
        for contact in Contact.objects.filter(beneficiary=beneficiary).order_by("-is_main", "id"):
            before[contact.kind].append(contact.value)
        if before == after:
            return False
        now = timezone.now()
        Contact.objects.filter(beneficiary=beneficiary).delete()
        Contact.objects.bulk_create(
            Contact(
                operator_id=beneficiary.operator_id,
                beneficiary=beneficiary,
                kind=kind,
                value=value,
                is_main=position == 0,
            )
            for kind, values in after.items()
            for position, value in enumerate(values)
        )
        Beneficiary.objects.filter(pk=beneficiary.pk).update(digest="", updated_at=now)
        Source(user=user).change(
            operator_id=beneficiary.operator_id,
            beneficiary=beneficiary,
            at=now,
            kind=ChangeKind.UPDATED,
            fields={
                name: [before[kind], after[kind]]
                for name, kind in (("phones", ContactKind.PHONE), ("emails", ContactKind.EMAIL))
                if before[kind] != after[kind]
            },
        ).save()
    return True
