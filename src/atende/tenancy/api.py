from django.http import HttpRequest
from ninja import Router, Schema

from atende.tenancy.selectors import memberships_for_user

router = Router(tags=["Conta"])


class UnitOut(Schema):
    id: int
    name: str


class MembershipOut(Schema):
    operator_id: int
    operator_name: str
    role: str
    units: list[UnitOut]


class MeOut(Schema):
    email: str
    full_name: str
    memberships: list[MembershipOut]


class ErrorOut(Schema):
    code: str
    message: str


@router.get("/me", response={200: MeOut, 401: ErrorOut}, summary="The signed-in user")
def me(request: HttpRequest) -> MeOut:
    user = request.auth
    return MeOut(
        email=user.email,
        full_name=user.full_name,
        memberships=[
            MembershipOut(
                operator_id=m.operator_id,
                operator_name=m.operator.name,
                role=m.role,
                units=[UnitOut(id=u.pk, name=u.name) for u in m.units.all()],
            )
            for m in memberships_for_user(user=user)
        ],
    )
