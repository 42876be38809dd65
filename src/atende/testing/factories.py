import factory
from factory.django import DjangoModelFactory

from atende.accounts.models import User
from atende.tenancy.models import Application, Instance, Membership, Operator, Role, Unit

TEST_PASSWORD = "Senha-de-teste-1"  # noqa: S105


class OperatorFactory(DjangoModelFactory):
    class Meta:
        model = Operator

    name = factory.Sequence(lambda n: f"Operadora {n}")
    ans_registration = factory.Sequence(lambda n: f"{300000 + n:06d}")


class ApplicationFactory(DjangoModelFactory):
    class Meta:
        model = Application

    operator = factory.SubFactory(OperatorFactory)
    name = factory.Sequence(lambda n: f"App {n}")
    bundle = factory.Sequence(lambda n: f"br.com.teste.app{n}")
    instance = Instance.PRODUCTION


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = Unit

    operator = factory.SubFactory(OperatorFactory)
    name = factory.Sequence(lambda n: f"Unidade {n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"pessoa{n}@exemplo.com.br")
    full_name = factory.Sequence(lambda n: f"Pessoa {n}")
    password = factory.django.Password(TEST_PASSWORD)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    operator = factory.SubFactory(OperatorFactory)
    role = Role.ATTENDANT
