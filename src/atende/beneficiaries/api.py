"""The registry's API for the operator's systems (ERP): cards upserted in batches by card
code, a card removed at the source cancelled, invoices, guides, waiting periods and partial
coverage upserted the same way, and a card's record with its critiques read back.

Only application tokens call it, with the scopes ``beneficiaries:write`` and
``beneficiaries:read``; a token reaches its own operator's registry only. A batch is
written whole or not at all: any refused item refuses it, each named by its position."""

from datetime import date
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Path, Router, Schema

from atende.beneficiaries.critiques import waiting_periods
from atende.beneficiaries.models import (
    Beneficiary,
    GuideKind,
    GuideSituation,
    Situation,
)
from atende.beneficiaries.records import Problems, record_clean
from atende.beneficiaries.selectors import with_critiques
from atende.beneficiaries.services import (
    BATCH_MAX,
    GUIDES,
    INVOICES,
    PARTIAL_COVERAGES,
    WAITING_PERIODS,
    Counts,
    Source,
    beneficiaries_upsert,
    beneficiary_cancel,
    children_upsert,
)
from atende.occurrences.schemas import ErrorOut
from atende.tenancy.auth import TokenAuth, request_token, require_scope
from atende.tenancy.models import Operator, Scope

router = Router(tags=["Cadastro de beneficiários"], auth=[TokenAuth()])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
CardPath = Annotated[str, Path(max_length=30, description="The card code (carteirinha).")]


class AddressIn(Schema):
    street: str
    number: str = ""
    complement: str = ""
    district: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""


class BeneficiaryIn(Schema):
    """A card's record. Dates are aaaa-mm-dd (dd/mm/aaaa is read too); the first phone,
    e-mail and address are the main ones."""

    card: str
    cpf: str
    name: str
    social_name: str = ""
    cns: str = ""
    birth_date: str = ""
    sex: str = Field("", description="F, M or empty.")
    mother_name: str = ""
    holder_card: str = Field("", description="The holder's card; empty for a holder.")
    product_code: str = ""
    product_name: str = ""
    product_registration: str = ""
    segmentation: str = ""
    contract_number: str = ""
    contract_kind: str = Field("", description="individual, empresarial or adesao.")
    company: str = ""
    contract_start: str = ""
    card_valid_until: str = ""
    situation: str = Field("", description="ativo (default), suspenso or cancelado.")
    situation_date: str = ""
    situation_reason: str = ""
    phones: list[str] = []
    emails: list[str] = []
    addresses: list[AddressIn] = []


class BeneficiariesIn(Schema):
    beneficiaries: list[BeneficiaryIn] = Field(..., min_length=1, max_length=BATCH_MAX)


class CountsOut(Schema):
    created: int
    updated: int
    unchanged: int


class InvoiceIn(Schema):
    number: str = Field(..., min_length=1, max_length=30)
    card: str = Field(..., min_length=1, max_length=30)
    competence: date = Field(..., description="Any day of the invoice's month.")
    due_on: date
    amount: str = Field(
        ..., pattern=r"^\d{1,10}(\.\d{1,2})?$", description="In reais, e.g. 321.50."
    )
    paid_on: date | None = None


class InvoicesIn(Schema):
    invoices: list[InvoiceIn] = Field(..., min_length=1, max_length=BATCH_MAX)


class GuideIn(Schema):
    number: str = Field(..., min_length=1, max_length=30)
    card: str = Field(..., min_length=1, max_length=30)
    kind: GuideKind
    issued_on: date
    procedure: str = Field(..., min_length=1, max_length=200)
    situation: GuideSituation
    denial_reason: str = Field("", max_length=300)


class GuidesIn(Schema):
    guides: list[GuideIn] = Field(..., min_length=1, max_length=BATCH_MAX)


class WaitingPeriodIn(Schema):
    card: str = Field(..., min_length=1, max_length=30)
    group: str = Field(..., min_length=1, max_length=30, description="The group's code.")
    days: int = Field(..., ge=0, le=3650)


class WaitingPeriodsIn(Schema):
    waiting_periods: list[WaitingPeriodIn] = Field(..., min_length=1, max_length=BATCH_MAX)


class PartialCoverageIn(Schema):
    card: str = Field(..., min_length=1, max_length=30)
    group: str = Field(..., min_length=1, max_length=30, description="The group's code.")
    condition: str = Field(..., min_length=1, max_length=200)
    ends_on: date


class PartialCoveragesIn(Schema):
    partial_coverages: list[PartialCoverageIn] = Field(..., min_length=1, max_length=BATCH_MAX)


class CritiqueOut(Schema):
    code: str
    message: str
    blocks: bool


class WaitingOut(Schema):
    group: str
    group_name: str
    days: int
    ends_on: date | None
    fulfilled: bool
    above_legal_ceiling: bool


class RecordOut(Schema):
    card: str
    cpf: str
    name: str
    social_name: str
    birth_date: date | None
    holder_card: str
    product_code: str
    product_name: str
    contract_number: str
    situation: Situation
    situation_date: date | None
    card_valid_until: date | None
    critiques: list[CritiqueOut]
    waiting_periods: list[WaitingOut]


def _writer(request: HttpRequest) -> tuple[Operator, Source]:
    require_scope(request, Scope.BENEFICIARIES_WRITE)
    token = request_token(request)
    return token.application.operator, Source(token=token)


@router.put(
    "/registry/beneficiaries",
    response={200: CountsOut, **ERRORS},
    summary="Create or change cards, up to 1,000 a request, by card code",
)
def beneficiaries_put(request: HttpRequest, payload: BeneficiariesIn) -> Counts:
    operator, source = _writer(request)
    records, errors = [], {}
    for position, item in enumerate(payload.beneficiaries):
        try:
            records.append(record_clean(item.model_dump()))
        except Problems as refused:
            for field, reason in refused.problems:
                errors.setdefault(f"beneficiaries.{position}.{field}", []).append(reason)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        return beneficiaries_upsert(operator=operator, records=records, source=source)


@router.delete(
    "/registry/beneficiaries/{card}",
    response={200: RecordOut, **ERRORS},
    summary="A card removed at the source: it is cancelled, never deleted",
)
def beneficiary_delete(request: HttpRequest, card: CardPath) -> dict:
    operator, source = _writer(request)
    with transaction.atomic():
        beneficiary = beneficiary_cancel(operator=operator, card=card.upper(), source=source)
    return _record_out(beneficiary)


def _children(request: HttpRequest, kind: object, items: list[dict]) -> Counts:
    operator, source = _writer(request)
    with transaction.atomic():
        return children_upsert(operator=operator, kind=kind, items=items, source=source)


@router.put(
    "/registry/invoices",
    response={200: CountsOut, **ERRORS},
    summary="Create or change invoices by number",
)
def invoices_put(request: HttpRequest, payload: InvoicesIn) -> Counts:
    items = [
        {
            **item.model_dump(),
            "competence": item.competence.replace(day=1),
            "amount": Decimal(item.amount),
        }
        for item in payload.invoices
    ]
    return _children(request, INVOICES, items)


@router.put(
    "/registry/guides", response={200: CountsOut, **ERRORS}, summary="Create or change guides"
)
def guides_put(request: HttpRequest, payload: GuidesIn) -> Counts:
    return _children(request, GUIDES, [item.model_dump() for item in payload.guides])


@router.put(
    "/registry/waiting-periods",
    response={200: CountsOut, **ERRORS},
    summary="Set a card's waiting period for a procedure group (instead of its product's)",
)
def waiting_periods_put(request: HttpRequest, payload: WaitingPeriodsIn) -> Counts:
    return _children(
        request, WAITING_PERIODS, [item.model_dump() for item in payload.waiting_periods]
    )


@router.put(
    "/registry/partial-coverages",
    response={200: CountsOut, **ERRORS},
    summary="Partial temporary coverage (CPT) of a card's declared condition",
)
def partial_coverages_put(request: HttpRequest, payload: PartialCoveragesIn) -> Counts:
    return _children(
        request, PARTIAL_COVERAGES, [item.model_dump() for item in payload.partial_coverages]
    )


@router.get(
    "/registry/beneficiaries/{card}",
    response={200: RecordOut, **ERRORS},
    summary="A card's record, its critiques today and its waiting periods",
)
def beneficiary_get(request: HttpRequest, card: CardPath) -> dict:
    require_scope(request, Scope.BENEFICIARIES_READ)
    operator = request_token(request).application.operator
    beneficiary = Beneficiary.objects.select_related("product").get(
        operator=operator, card=card.upper()
    )
    return _record_out(beneficiary)


def _record_out(beneficiary: Beneficiary) -> dict:
    today = timezone.localdate()
    product = beneficiary.product
    return {
        **{
            name: getattr(beneficiary, name)
            for name in (
                "card",
                "cpf",
                "name",
                "social_name",
                "birth_date",
                "holder_card",
                "contract_number",
                "situation",
                "situation_date",
                "card_valid_until",
            )
        },
        "product_code": product.code if product else "",
        "product_name": product.name if product else "",
        "critiques": [vars(c) for c in with_critiques([beneficiary])[0].critiques],
        "waiting_periods": [
            {
                "group": w.group.code,
                "group_name": w.group.name,
                "days": w.days,
                "ends_on": w.ends_on,
                "fulfilled": not w.in_force(today),
                "above_legal_ceiling": w.above_ceiling,
            }
            for w in waiting_periods(beneficiary)
        ],
    }
