"""``TenantQuerySet.for_user`` is the one place that decides what a user may see."""

import pytest
from django.contrib.auth.models import AnonymousUser
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from atende.tenancy.models import Application, Membership, Operator, Role, Unit
from atende.testing.factories import (
    ApplicationFactory,
    MembershipFactory,
    OperatorFactory,
    UnitFactory,
    UserFactory,
)


@pytest.mark.django_db
def test_a_user_of_one_operator_never_sees_the_other_operators_rows(
    attendant_a, attendant_b, operator_a, operator_b
):
    ApplicationFactory(operator=operator_a)
    ApplicationFactory(operator=operator_b)
    UnitFactory(operator=operator_b)

    assert list(Operator.objects.for_user(attendant_a)) == [operator_a]
    assert {a.operator_id for a in Application.objects.for_user(attendant_a)} == {operator_a.pk}
    assert {u.operator_id for u in Unit.objects.for_user(attendant_a)} == {operator_a.pk}
    assert {m.operator_id for m in Membership.objects.for_user(attendant_a)} == {operator_a.pk}
    assert list(Operator.objects.for_user(attendant_b)) == [operator_b]


@pytest.mark.django_db
def test_anonymous_inactive_and_unlinked_users_see_nothing(attendant_a, operator_a):
    assert not Operator.objects.for_user(AnonymousUser()).exists()
    stranger = UserFactory()
    assert not Unit.objects.for_user(stranger).exists()
    attendant_a.is_active = False
    assert not Unit.objects.for_user(attendant_a).exists()


@pytest.mark.django_db
def test_an_inactive_membership_grants_nothing(attendant_a, operator_a):
    Membership.objects.filter(user=attendant_a).update(is_active=False)
    assert not Operator.objects.for_user(attendant_a).exists()


@pytest.mark.django_db
def test_platform_administrators_see_no_tenant_rows_outside_the_admin(operator_a):
    admin = UserFactory(is_staff=True, is_superuser=True)
    assert not Operator.objects.for_user(admin).exists()


@pytest.mark.django_db
def test_scoping_by_role(attendant_a, supervisor_a, operator_a):
    supervisors_only = {Role.SUPERVISOR}
    assert not Operator.objects.for_user(attendant_a, roles=supervisors_only).exists()
    assert list(Operator.objects.for_user(supervisor_a, roles=supervisors_only)) == [operator_a]


class TestScopingProperty(TestCase):
    """Whatever the memberships, a user sees exactly the rows of their active operators."""

    @settings(max_examples=25, deadline=None)
    @given(
        links=st.lists(
            st.tuples(st.integers(0, 2), st.integers(0, 3), st.booleans()),
            max_size=8,
            unique_by=lambda link: (link[0], link[1]),
        )
    )
    def test_visible_units_are_exactly_those_of_the_users_active_memberships(self, links):
        operators = [OperatorFactory(ans_registration="") for _ in range(4)]
        users = [UserFactory() for _ in range(3)]
        for operator in operators:
            UnitFactory(operator=operator)
            UnitFactory(operator=operator)
        for user_index, operator_index, active in links:
            MembershipFactory(
                user=users[user_index], operator=operators[operator_index], is_active=active
            )
        for user_index, user in enumerate(users):
            expected = {operators[o].pk for u, o, active in links if u == user_index and active}
            seen = {unit.operator_id for unit in Unit.objects.for_user(user)}
            assert seen == expected
            assert Unit.objects.for_user(user).count() == 2 * len(expected)
