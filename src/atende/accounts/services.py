import hashlib
import hmac
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from atende.accounts.models import LoginFailure, User
from atende.core.db import transaction_lock
from atende.core.mail import mail_from_templates
from atende.notifications.models import Channel, Purpose
from atende.notifications.services import delivery_enqueue


class LoginThrottledError(Exception):
    """Too many failed sign-ins for this account or from this address; try again later."""


def _key(value: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), value.strip().lower().encode(), hashlib.sha256
    ).hexdigest()


def _keys(*, account: str, address: str) -> list[tuple[str, str]]:
    keys = [(LoginFailure.Kind.ACCOUNT, _key(account))] if account else []
    if address:
        keys.append((LoginFailure.Kind.ADDRESS, _key(address)))
    return keys


def _reserve(keys: list[tuple[str, str]], limits: dict[str, int]) -> list[int]:
    """Count the rows of each key in the window and add one, as one step per key: the
    counts of concurrent callers include each other's rows. Raises ``LoginThrottledError``
    (adding nothing) when a key is at its limit."""
    since = timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    with transaction.atomic():
        transaction_lock(*(f"throttle:{key}" for _kind, key in keys))
        for kind, key in keys:
            if (
                LoginFailure.objects.filter(kind=kind, key=key, at__gte=since).count()
                >= limits[kind]
            ):
                raise LoginThrottledError
        rows = LoginFailure.objects.bulk_create(LoginFailure(kind=k, key=v) for k, v in keys)
    return [row.pk for row in rows]


def login_attempt_reserve(*, account: str, address: str) -> list[int]:
    """Take this sign-in attempt's place among the failures allowed, before the password is
    checked: it is written as a failure at once, so that forty attempts sent together
    cannot all pass a count none of them has added to yet. ``account`` names what is
    signed in to (an e-mail, a portal's CPF). Returns the reservation for
    ``login_attempt_succeeded``; raises ``LoginThrottledError`` past the limit."""
    limit = settings.LOGIN_FAILURE_LIMIT
    return _reserve(
        _keys(account=account, address=address),
        {LoginFailure.Kind.ACCOUNT: limit, LoginFailure.Kind.ADDRESS: limit},
    )


def login_attempt_succeeded(*, reservation: list[int], account: str) -> None:
    """The password was right: the reservation was no failure, and the account's earlier
    mistakes are forgiven (not the address's)."""
    LoginFailure.objects.filter(
        Q(pk__in=reservation) | Q(kind=LoginFailure.Kind.ACCOUNT, key=_key(account))
    ).delete()


def password_reset_allowed(*, account: str, address: str) -> bool:
    """Whether one more reset e-mail may be sent for this account to this client address
    now; counts it when so. The page answers the same either way."""
    keys = _keys(account=f"reset:{account}", address=f"reset:{address}" if address else "")
    limits = {
        LoginFailure.Kind.ACCOUNT: settings.PASSWORD_RESET_ACCOUNT_LIMIT,
        LoginFailure.Kind.ADDRESS: settings.PASSWORD_RESET_ADDRESS_LIMIT,
    }
    try:
        _reserve(keys, limits)
    except LoginThrottledError:
        return False
    return True


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


def password_reset_request(*, email: str, address: str) -> None:
    """Sends a reset link to the account with this e-mail, if there is an active one and
    neither the account nor the client ``address`` asked too often lately.

    The answer to the person is the same either way, so the form does not reveal which
    addresses have accounts. The e-mail is a delivery of the pipeline whose link is made at
    send time (``password_reset_content``), so no reset token ever sits in a row.
    """
    if not password_reset_allowed(account=email, address=address):
        return
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


# --- "Meu perfil": a person's own e-mail address, confirmed by a link -----------------

EMAIL_CONFIRM_SALT = "atende.accounts.email-confirm"
EMAIL_CONFIRM_SECONDS = 24 * 3600


class EmailChangeRefused(Exception):
    """The confirmation link is not valid (expired, altered, another person's, or the
    address was taken meanwhile)."""


def email_change_request(*, user: User, email: str) -> None:
    """Send a confirmation link to the new address; the address changes only when the link
    is opened (by the same person, signed in, within 24 hours). The link is made at send
    time, as a password reset's is."""
    email = User.objects.normalize_email(email.strip()).lower()
    if email == user.email:
        raise ValidationError({"email": _("This is already your e-mail address.")})
    if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        raise ValidationError({"email": _("Another user already has this e-mail address.")})
    delivery_enqueue(
        key=f"email_confirm:{user.pk}:{uuid.uuid4().hex}",
        purpose=Purpose.EMAIL_CONFIRM,
        channel=Channel.EMAIL,
        recipient=email,
        payload={"user_id": user.pk, "email": email, "was": user.email},
    )


def email_confirm_content(delivery: object) -> tuple[str, str, str]:
    user = User.objects.filter(pk=delivery.payload["user_id"], is_active=True).first()
    if user is None:
        raise LookupError("the account is no longer active")
    token = signing.dumps(
        {"u": user.pk, "e": delivery.payload["email"], "w": delivery.payload["was"]},
        salt=EMAIL_CONFIRM_SALT,
    )
    link = settings.SITE_URL + reverse("accounts:email_confirm", kwargs={"token": token})
    message = mail_from_templates(
        name="accounts/email_confirm",
        context={"user": user, "link": link, "email": delivery.payload["email"]},
        to=[delivery.recipient],
    )
    return message.subject, message.body, message.alternatives[0].content


def email_change_confirm(*, user: User, token: str) -> str:
    """Make the address in the link the person's; returns it."""
    try:
        data = signing.loads(token, salt=EMAIL_CONFIRM_SALT, max_age=EMAIL_CONFIRM_SECONDS)
    except signing.SignatureExpired:
        raise EmailChangeRefused(_("This link expired: ask for a new one.")) from None
    except signing.BadSignature:
        raise EmailChangeRefused(_("This link is not valid.")) from None
    if data.get("u") != user.pk or data.get("w") != user.email:
        raise EmailChangeRefused(
            _("This link is not for this account, or its address changed since it was sent.")
        )
    with transaction.atomic():
        if User.objects.filter(email__iexact=data["e"]).exclude(pk=user.pk).exists():
            raise EmailChangeRefused(_("Another user already has this e-mail address."))
        user.email = data["e"]
        user.save(update_fields=["email"])
    return user.email
