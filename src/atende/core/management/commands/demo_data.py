"""``atende demo-data``: two demo operators with units, users of every role, the seeds'
catalogs and a few hundred occurrences of the last 90 days.

Idempotent: what exists is left as it is. The demo passwords are public (README.md); never
run this against a production database.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from atende.accounts.models import User
from atende.accounts.services import user_create
from atende.beneficiaries.demo import demo_registry_create, registry_people
from atende.callcenter.presets import install_call_center
from atende.catalog.models import OccurrenceType
from atende.catalog.presets import install_health_catalog, install_sanitation_catalog
from atende.occurrences.demo import demo_occurrences_create
from atende.portal.models import BeneficiaryLogin
from atende.portal.services import beneficiary_login_create
from atende.registrations.demo import demo_registrations_create
from atende.tenancy.models import Instance, Membership, Operator, Role, Unit
from atende.tenancy.services import (
    application_create,
    membership_grant,
    operator_create,
    unit_create,
)
from atende.tenancy.validators import only_digits

DEMO_PASSWORD = "Demo@Atende2026"  # noqa: S105 - public by design, see README
PLATFORM_ADMIN = ("admin@atende.demo", "Administradora da Plataforma")

OPERATORS = [
    {
        "operator": {
            "name": "Saúde Demo Operadora",
            "ans_registration": "417505",
            "cnpj": "11.222.333/0001-81",
            "state": "SP",
            "municipality": "São Paulo",
        },
        "applications": [
            ("Saúde Demo — app", "br.com.atende.demo", Instance.PRODUCTION),
            ("Saúde Demo — app (sandbox)", "br.com.atende.demo", Instance.SANDBOX),
            (
                "Saúde Demo — central de atendimento",
                "br.com.atende.demo.central",
                Instance.PRODUCTION,
            ),
        ],
        # The phone system names the attendant of a call by this extension.
        "call_center": {"atendente@saude.demo": "2001", "supervisor@saude.demo": "2002"},
        "units": ["Central de Atendimento", "Reembolso", "Autorizações", "Ouvidoria"],
        "catalog": install_health_catalog,
        "occurrences": 300,
        "registry": 3000,
        # Portal logins: one person with two contracts (the portal asks which to use).
        "beneficiaries": [
            ("0001234", "529.982.247-25", "Beatriz Beneficiária", "beatriz@saude.demo", "1234567"),
            ("0007654", "529.982.247-25", "Beatriz Beneficiária", "beatriz@saude.demo", "7654321"),
        ],
        "users": [
            (
                "atendente@saude.demo",
                "Ana Atendente",
                Role.ATTENDANT,
                ["Central de Atendimento", "Reembolso"],
            ),
            (
                "supervisor@saude.demo",
                "Sérgio Supervisor",
                Role.SUPERVISOR,
                ["Central de Atendimento", "Reembolso", "Autorizações", "Ouvidoria"],
            ),
            ("configurador@saude.demo", "Carla Configuradora", Role.CONFIGURATOR, []),
        ],
    },
    {
        "operator": {
            "name": "Águas Demo Saneamento",
            "cnpj": "45.997.418/0001-53",
            "state": "MG",
            "municipality": "Belo Horizonte",
        },
        "applications": [("Águas Demo — portal", "br.com.atende.agua", Instance.PRODUCTION)],
        "units": ["Atendimento", "Manutenção de Redes", "Comercial"],
        "catalog": install_sanitation_catalog,
        "occurrences": 80,
        "registrations": True,
        "users": [
            ("atendente@agua.demo", "Paulo Atendente", Role.ATTENDANT, []),
            (
                "supervisor@agua.demo",
                "Marta Supervisora",
                Role.SUPERVISOR,
                ["Atendimento", "Manutenção de Redes", "Comercial"],
            ),
            ("configurador@agua.demo", "Igor Configurador", Role.CONFIGURATOR, []),
        ],
    },
]


class Command(BaseCommand):
    help = "Loads the demo operators, users, catalogs and occurrences (idempotent)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        created = [self._user(*PLATFORM_ADMIN, is_staff=True)]
        for spec in OPERATORS:
            operator = self._operator(spec)
            units = {unit.name: unit for unit in Unit.objects.for_operator(operator)}
            for email, name, role, unit_names in spec["users"]:
                user = self._user(email, name)
                created.append(user)
                if not Membership.objects.filter(user=user, operator=operator).exists():
                    membership_grant(
                        user=user,
                        operator=operator,
                        role=role,
                        units=[units[unit_name] for unit_name in unit_names],
                    )
            if not OccurrenceType.objects.for_operator(operator).exists():
                spec["catalog"](operator)
            extensions = spec.get("call_center")
            if extensions:
                central = operator.applications.get(bundle="br.com.atende.demo.central")
                install_call_center(operator, central)
                for email, extension in extensions.items():
                    Membership.objects.filter(operator=operator, user__email=email).update(
                        extension=extension
                    )
            beneficiaries = spec.get("beneficiaries", [])
            for login, cpf, name, email, contract in beneficiaries:
                if not BeneficiaryLogin.objects.filter(operator=operator, login=login).exists():
                    beneficiary_login_create(
                        operator=operator,
                        login=login,
                        cpf=cpf,
                        name=name,
                        email=email,
                        contract_number=contract,
                        password=DEMO_PASSWORD,
                    )
            registry = spec.get("registry", 0)
            if registry:
                loaded = demo_registry_create(
                    operator=operator,
                    count=registry,
                    people=[(b[0], only_digits(b[1]), b[2]) for b in beneficiaries],
                    importer=operator.memberships.filter(role=Role.CONFIGURATOR).first().user,
                )
                if loaded:
                    self.stdout.write(f"{operator.name}: {loaded} beneficiaries in the registry.")
            made = demo_occurrences_create(
                operator=operator,
                count=spec["occurrences"],
                people=[(only_digits(b[1]), b[2]) for b in beneficiaries[:1]],
                population=registry_people(operator) if registry else None,
            )
            if made:
                self.stdout.write(f"{operator.name}: {made} demo occurrences over 90 days.")
            if spec.get("registrations"):
                application = operator.applications.get(bundle=spec["applications"][0][1])
                registrations = demo_registrations_create(
                    operator=operator, application=application
                )
                if registrations:
                    self.stdout.write(
                        f"{operator.name}: {registrations} registrations and reports (RA)."
                    )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for user in created:
            self.stdout.write(f"  {user.email:<28} {user.full_name}")
        for spec in OPERATORS:
            for login, cpf, name, *_rest in spec.get("beneficiaries", []):
                bundle = spec["applications"][0][1]
                self.stdout.write(f"  portal /portal/{bundle}/  CPF {cpf}  ({name}, {login})")

    def _operator(self, spec: dict) -> Operator:
        operator = Operator.objects.filter(name=spec["operator"]["name"]).first()
        if operator is None:
            operator = operator_create(**spec["operator"])
        for name, bundle, instance in spec["applications"]:
            if not operator.applications.filter(bundle=bundle, instance=instance).exists():
                application_create(operator=operator, name=name, bundle=bundle, instance=instance)
        for unit_name in spec["units"]:
            if not operator.units.filter(name=unit_name).exists():
                unit_create(operator=operator, name=unit_name)
        return operator

    def _user(self, email: str, full_name: str, *, is_staff: bool = False) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = user_create(
                email=email, full_name=full_name, password=DEMO_PASSWORD, is_staff=is_staff
            )
        return user
