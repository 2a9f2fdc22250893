"""Create a staff account from the command line (the first platform or prefecture administrator)."""

import getpass

from django.core.management.base import BaseCommand, CommandError

from guichet.accounts import services
from guichet.accounts.models import Role
from guichet.catalog.models import Prefecture
from guichet.errors import DomainError


class Command(BaseCommand):
    help = "Create an account with a role in a prefecture, or a platform administrator (--platform-admin)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--prefecture", help="département code")
        parser.add_argument("--role", choices=list(Role.values), default=Role.AGENT)
        parser.add_argument("--platform-admin", action="store_true")
        parser.add_argument("--password", help="default: asked on the terminal")

    def handle(self, *args, **options):
        if not options["prefecture"] and not options["platform_admin"]:
            raise CommandError("give --prefecture (with --role) or --platform-admin")
        prefecture = None
        if options["prefecture"]:
            prefecture = Prefecture.objects.filter(code=options["prefecture"].upper()).first()
            if prefecture is None:
                raise CommandError(f"no prefecture has the code {options['prefecture']!r}")
        password = options["password"] or getpass.getpass("Password: ")
        try:
            user = services.create_account(options["username"], password=password, email=options["email"])
            if prefecture is not None:
                services.set_membership(user, prefecture, options["role"], by=None)
            if options["platform_admin"]:
                services.set_platform_admin(user, True, by=None)
        except DomainError as exc:
            details = "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.message} {details}") from exc
        self.stdout.write(f"Account {user.username} created; the second factor is set up at first login.")
