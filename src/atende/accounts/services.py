import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from atende.accounts.models import LoginFailure, User


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
    addresses have accounts. The e-mail goes out from the worker after commit.
    """
    from atende.accounts.tasks import password_reset_send

    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    transaction.on_commit(lambda: password_reset_send.enqueue(user_id=user.pk))
