"""Sign the head of every audit chain (at most once per chain per day) and audit the checkpoint."""

from django.core.management.base import BaseCommand

from guichet.evidence import services


class Command(BaseCommand):
    help = "Write a signed checkpoint {chain, seq, hash, at} of each audit chain head."

    def handle(self, *args, **options):
        made = services.checkpoint_audit()
        for checkpoint in made:
            self.stdout.write(f"checkpoint {checkpoint.chain}#{checkpoint.seq} {checkpoint.hash}")
        self.stdout.write(f"{len(made)} checkpoint(s) written")
