from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.tasks import task
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from atende.accounts.models import User
from atende.accounts.services import login_failures_prune
from atende.core.mail import mail_from_templates
from atende.core.scheduler import periodic


@task()
def password_reset_send(*, user_id: int) -> None:
    # The token is made here, in the worker, so it never sits in the task table.
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {"user": user, "link": settings.SITE_URL + path}
    mail_from_templates(name="accounts/password_reset", context=context, to=[user.email]).send()


@periodic(every=timedelta(minutes=15), name="accounts.prune_login_failures")
def prune_login_failures() -> None:
    login_failures_prune()
