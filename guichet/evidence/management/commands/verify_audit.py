"""Walk every audit chain, checkpoint and proof; say where anything was edited, deleted, inserted or moved.

Exit status 1 when a problem is found, so that a monitoring job can alert on it.
"""

import sys

from django.core.management.base import BaseCommand

from guichet.evidence import audit, services


class Command(BaseCommand):
    help = "Verify the audit hash chains, the signed checkpoints and the stored proofs (exit 1 on problems)."

    def add_arguments(self, parser):
        parser.add_argument("--skip-proofs", action="store_true", help="do not re-verify every stored proof")

    def handle(self, *args, skip_proofs: bool = False, **options):
        chains = audit.chains()
        problems = services.verify_audit(proofs=not skip_proofs)
        for problem in problems:
            self.stderr.write(f"PROBLEM {problem}")
        if problems:
            self.stderr.write(f"{len(problems)} problem(s) in {len(chains)} chain(s)")
            sys.exit(1)
        self.stdout.write(f"OK: {len(chains)} chain(s) verified, no problem found")
