"""``atende api-token``: create, list and revoke an application's API tokens.

The token is printed once, when created; only its hash is stored.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from atende.tenancy.models import ApiToken, Application, Scope
from atende.tenancy.services import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Creates, lists or revokes API tokens of an application."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="New token, printed once.")
        create.add_argument("--application", type=int, required=True, help="Application id.")
        create.add_argument("--name", required=True)
        create.add_argument(
            "--scope", action="append", choices=Scope.values, required=True, dest="scopes"
        )
        listing = sub.add_parser("list", help="Tokens of an application.")
        listing.add_argument("--application", type=int, required=True)
        revoke = sub.add_parser("revoke", help="Revoke a token by its prefix.")
        revoke.add_argument("prefix")

    def handle(self, *args: object, action: str, **options: object) -> None:
        if action == "revoke":
            token = ApiToken.objects.filter(prefix=options["prefix"]).first()
            if token is None:
                raise CommandError("No token with this prefix.")
            api_token_revoke(token=token)
            self.stdout.write(f"Revoked {token}.")
            return
        application = Application.objects.filter(pk=options["application"]).first()
        if application is None:
            raise CommandError("No application with this id.")
        if action == "list":
            for token in application.tokens.all():
                state = "revoked" if token.revoked_at else "active"
                self.stdout.write(
                    f"{token.prefix}  {state:<8} {','.join(token.scopes)}  {token.name}"
                )
            return
        try:
            token, plain = api_token_create(
                application=application, name=options["name"], scopes=options["scopes"]
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Token for {application} (shown only now):\n{plain}")
