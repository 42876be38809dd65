import hashlib
import hmac
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from atende.accounts.models import LoginFailure, User
from atende.core.mail import mail_from_templates
from atende.notifications.models import Channel, Purpose
from atende.notifications.services import delivery_enqueue


class LoginThrottledError(Exception):
    """Too many failed sign-ins for this account or from this address; try again later."""


def _key(value: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), value.strip().lower().encode(), hashlib.sha256
    ).hexdigest()


def _keys(*, email: str, address: str) -> list[tuple[str, str]]:
    keys = [(LoginFailure.Kind.ACCOUNT, _key(email))] if email else []
    if address:
        keys.append((LoginFailure.Kind.ADDRESS, _key(address)))
    return keys


def login_throttle_check(*, email: str, address: str) -> None:
    since = timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    for kind, key in _keys(email=email, address=address):
        failures = LoginFailure.objects.filter(kind=kind, key=key, at__gte=since).count()
        if failures >= settings.LOGIN_FAILURE_LIMIT:
            raise LoginThrottledError


def login_failure_register(*, email: str, address: str) -> None:
    LoginFailure.objects.bulk_create(
        LoginFailure(kind=kind, key=key) for kind, key in _keys(email=email, address=address)
    )


def login_failures_clear(*, email: str) -> None:
    """A successful sign-in forgives the account's earlier mistakes (not the address's)."""
    LoginFailure.objects.filter(kind=LoginFailure.Kind.ACCOUNT, key=_key(email)).delete()


def login_failures_prune() -> int:
    since = timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    deleted, _ = LoginFailure.objects.filter(at__lt=since).delete()
    return deleted


def user_create(
    *, email: str, full_name: str, password: str | None, is_staff: bool = False
) -> User:
    if is_staff:
        return User.objects.create_superuser(email, password, full_name=full_name)
    return User.objects.create_user(email, password, full_name=full_name)


def password_reset_request(*, email: str) -> None:
    """Sends a reset link to the account with this e-mail, if there is an active one.

    The answer to the person is the same either way, so the form does not reveal which
    addresses have accounts. The e-mail is a delivery of the pipeline whose link is made at
    send time (``password_reset_content``), so no reset token ever sits in a row.
    """
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    delivery_enqueue(
        key=f"password_reset:{user.pk}:{uuid.uuid4().hex}",
        purpose=Purpose.PASSWORD_RESET,
        channel=Channel.EMAIL,
        recipient=user.email,
        payload={"user_id": user.pk},
    )


def password_reset_content(delivery: object) -> tuple[str, str, str]:
    """Subject, text and HTML of a reset e-mail, with a token made now for the user named
    in the delivery; an account disabled meanwhile gets nothing."""
    user = User.objects.filter(pk=delivery.payload["user_id"], is_active=True).first()
    if user is None:
        raise LookupError("the account is no longer active")
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {"user": user, "link": settings.SITE_URL + path}
    message = mail_from_templates(name="accounts/password_reset", context=context, to=[user.email])
    return message.subject, message.body, message.alternatives[0].content
