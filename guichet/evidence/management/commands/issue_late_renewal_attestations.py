"""Attest, once, that a renewal still without an appointment at the permit's expiry was asked before it."""

from django.core.management.base import BaseCommand

from guichet.evidence import services


class Command(BaseCommand):
    help = "Issue late-renewal attestations where the prefecture has enabled them (idempotent)."

    def handle(self, *args, **options):
        issued = services.issue_late_renewal_attestations()
        self.stdout.write(f"{issued} late-renewal attestation(s) issued")
