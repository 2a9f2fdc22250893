"""Sign proofs with a new Ed25519 key from now on; every old public key stays published."""

from django.core.management.base import BaseCommand, CommandError

from guichet.evidence import services


class Command(BaseCommand):
    help = "Generate a new signing key (in SIGNING_KEY_FILE); old public keys stay in the JWK set."

    def handle(self, *args, **options):
        try:
            key = services.rotate_signing_key()
        except RuntimeError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"new signing key {key.kid}; {len(services.published_keys())} keys published")
