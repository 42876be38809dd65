from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from ninja import Router, Schema

from atende.catalog.models import AttendanceTab, OccurrenceType, Status, Subject
from atende.occurrences.schemas import ErrorOut
from atende.tenancy.auth import API_AUTH, request_token, require_scope
from atende.tenancy.models import Scope

router = Router(tags=["Catálogo"], auth=API_AUTH)


class SubjectOut(Schema):
    id: int
    name: str


class StatusOut(Schema):
    id: int
    internal_description: str
    external_description: str
    color: str
    is_default: bool
    starts_attendance: bool
    visible_in_history: bool
    closing: str
    order: int


class TabOut(Schema):
    id: int
    name: str
    form_id: int
    multiple_entries: bool
    display: str
    required: bool
    order: int


class OccurrenceTypeOut(Schema):
    id: int
    operator_id: int
    name: str
    protocol_type: str
    view_mode: str
    allow_attendance: bool
    offered_in_portal: bool
    functionality_id: str
    functionality_description: str
    request_template_id: str
    request_template_description: str
    subjects: list[SubjectOut]
    statuses: list[StatusOut]
    tabs: list[TabOut]

    @staticmethod
    def resolve_protocol_type(obj: OccurrenceType) -> str:
        return obj.protocol_type.name


def _types(request: HttpRequest) -> QuerySet[OccurrenceType]:
    token = request_token(request)
    if token is not None:
        return OccurrenceType.objects.for_operator(token.application.operator_id)
    return OccurrenceType.objects.for_user(request.auth)


@router.get(
    "/catalog/occurrence-types",
    response={200: list[OccurrenceTypeOut], 401: ErrorOut, 403: ErrorOut},
    summary="The active occurrence types with their subjects, statuses and tabs",
)
def occurrence_types(request: HttpRequest) -> list[OccurrenceType]:
    require_scope(request, Scope.CATALOG_READ)
    return list(
        _types(request)
        .filter(is_active=True)
        .select_related("protocol_type")
        .prefetch_related(
            Prefetch("subjects", Subject.objects.filter(is_active=True)),
            Prefetch("statuses", Status.objects.filter(is_active=True)),
            Prefetch("tabs", AttendanceTab.objects.filter(is_active=True)),
        )
        .order_by("operator_id", "name")
    )
