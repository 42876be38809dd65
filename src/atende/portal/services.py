"""The beneficiary's side: logins to an operator's portal, signing in, and resetting a
forgotten password by an e-mailed one-time link."""

import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from atende.accounts.services import (
    login_attempt_reserve,
    login_attempt_succeeded,
    password_reset_allowed,
)
from atende.core.mail import mail_from_templates
from atende.notifications.models import Channel, Purpose
from atende.notifications.services import delivery_enqueue
from atende.portal.models import BeneficiaryLogin
from atende.tenancy.models import Application, Operator
from atende.tenancy.validators import cpf_parse

TEMPORARY_PASSWORD_HOURS = 24


class _LoginTokens(PasswordResetTokenGenerator):
    """Django's reset tokens, bound to a beneficiary login: the token dies when the
    password changes (so it is one-time), when the login signs in, or after
    ``PASSWORD_RESET_TIMEOUT``."""

    key_salt = "atende.portal.reset"

    def _make_hash_value(self, login: BeneficiaryLogin, timestamp: int) -> str:
        signed_in = "" if login.last_login is None else login.last_login.replace(microsecond=0)
        return f"{login.pk}{login.password}{signed_in}{timestamp}{login.email}{login.is_active}"


reset_tokens = _LoginTokens()


def beneficiary_login_create(
    *,
    operator: Operator,
    login: str,
    cpf: str,
    name: str,
    password: str,
    email: str = "",
    contract_number: str = "",
) -> BeneficiaryLogin:
    digits = cpf_parse(cpf)
    if digits is None:
        raise ValidationError({"cpf": _("Invalid CPF: check the 11 digits.")})
    account = BeneficiaryLogin(
        operator=operator,
        login=login.strip(),
        cpf=digits,
        name=name.strip(),
        email=email.strip().lower(),
        contract_number=contract_number.strip(),
    )
    validate_password(password)
    account.set_password(password)
    account.full_clean(exclude=["password"])
    account.save()
    return account


def _throttle_key(operator: Operator, cpf: str) -> str:
    return f"portal:{operator.pk}:{cpf}"


def beneficiary_authenticate(
    *, operator: Operator, cpf: str, password: str, address: str
) -> list[BeneficiaryLogin]:
    """The active logins of this CPF whose password is this one: none when the CPF or the
    password is wrong (counted towards the throttle), several when the person uses the
    same password on more than one. Raises ``LoginThrottledError`` after too many tries."""
    digits = cpf_parse(cpf) or ""
    key = _throttle_key(operator, digits or cpf)
    reservation = login_attempt_reserve(account=key, address=address)
    candidates = BeneficiaryLogin.objects.filter(operator=operator, cpf=digits, is_active=True)
    matches = [account for account in candidates if account.check_password(password)]
    if not matches:
        matches = [a for a in candidates if _temporary_used(a, password)]
    if not candidates:
        # Hash once anyway, so an unknown CPF takes as long to refuse as a wrong password.
        make_password(password)
    if matches:
        login_attempt_succeeded(reservation=reservation, account=key)
    return matches


def _temporary_used(account: BeneficiaryLogin, password: str) -> bool:
    """Whether ``password`` is the login's temporary one, still valid; if so it is spent
    (one use) and the person must choose a new password before anything else."""
    if not account.temporary_password or account.temporary_until is None:
        return False
    if account.temporary_until <= timezone.now():
        return False
    if not check_password(password, account.temporary_password):
        return False
    spent = BeneficiaryLogin.objects.filter(
        pk=account.pk, temporary_password=account.temporary_password
    ).update(temporary_password="", temporary_until=None, must_change_password=True)
    account.must_change_password = True
    return spent == 1  # a second sign-in racing with the same password gets nothing


def temporary_password_content(delivery: object) -> tuple[str, str, str]:
    """The e-mail with a temporary password of 8 digits, made at send time so that it never
    sits in a row: only its hash is kept on the login, valid for
    ``TEMPORARY_PASSWORD_HOURS``. A later try of the same message makes a new one, and only
    the last one sent works."""
    account = BeneficiaryLogin.objects.filter(
        pk=delivery.payload["login_id"], is_active=True
    ).first()
    if account is None:
        raise LookupError("the login is no longer active")
    code = f"{secrets.randbelow(10**8):08d}"
    until = timezone.now() + timedelta(hours=TEMPORARY_PASSWORD_HOURS)
    BeneficiaryLogin.objects.filter(pk=account.pk).update(
        temporary_password=make_password(code), temporary_until=until
    )
    context = {"account": account, "code": code, "hours": TEMPORARY_PASSWORD_HOURS}
    message = mail_from_templates(
        name="portal/temporary_password", context=context, to=[account.email]
    )
    return message.subject, message.body, message.alternatives[0].content


def beneficiary_signed_in(account: BeneficiaryLogin) -> None:
    BeneficiaryLogin.objects.filter(pk=account.pk).update(last_login=timezone.now())


def beneficiary_password_reset_request(*, application: Application, cpf: str, address: str) -> int:
    """One e-mail per active login of this CPF that has an address, each naming its login
    (the person chooses which one to reset by the link they follow), unless this CPF or
    the client ``address`` asked too often lately. The page answers the same whatever
    happens, so it does not tell who is a beneficiary."""
    digits = cpf_parse(cpf)
    if digits is None:
        return 0
    if not password_reset_allowed(
        account=_throttle_key(application.operator, digits), address=address
    ):
        return 0
    accounts = BeneficiaryLogin.objects.filter(
        operator_id=application.operator_id, cpf=digits, is_active=True
    ).exclude(email="")
    for account in accounts:
        delivery_enqueue(
            key=f"portal_password_reset:{account.pk}:{uuid.uuid4().hex}",
            purpose=Purpose.PORTAL_PASSWORD_RESET,
            channel=Channel.EMAIL,
            recipient=account.email,
            operator_id=application.operator_id,
            payload={"login_id": account.pk, "bundle": application.bundle},
        )
    return len(accounts)


def password_reset_content(delivery: object) -> tuple[str, str, str]:
    """Subject, text and HTML of the reset e-mail, with a token made at send time, so no
    token ever sits in a row; a login disabled meanwhile gets nothing."""
    account = BeneficiaryLogin.objects.filter(
        pk=delivery.payload["login_id"], is_active=True
    ).first()
    if account is None:
        raise LookupError("the login is no longer active")
    path = reverse(
        "portal:password_reset_confirm",
        kwargs={
            "bundle": delivery.payload["bundle"],
            "uidb64": urlsafe_base64_encode(force_bytes(account.pk)),
            "token": reset_tokens.make_token(account),
        },
    )
    context = {"account": account, "link": settings.SITE_URL + path}
    message = mail_from_templates(name="portal/password_reset", context=context, to=[account.email])
    return message.subject, message.body, message.alternatives[0].content


def beneficiary_password_set(*, account: BeneficiaryLogin, password: str) -> None:
    validate_password(password)
    with transaction.atomic():
        account.set_password(password)
        account.must_change_password = False
        BeneficiaryLogin.objects.filter(pk=account.pk).update(
            password=account.password,
            must_change_password=False,
            temporary_password="",
            temporary_until=None,
        )
