"""The daily print run of the postal channel: one PDF of the letters waiting, to print and post."""

import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from guichet.backoffice import letters
from guichet.catalog.models import Prefecture


class Command(BaseCommand):
    help = "Write the PDF of the letters waiting (queued on or before --date) and mark them printed."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", help="YYYY-MM-DD; letters queued on or before this day (default: today)"
        )
        parser.add_argument("--prefecture", help="département code; default: every prefecture")
        parser.add_argument(
            "--output", help="PDF file to write (default: var/letters/letters-<prefecture>-<date>.pdf)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="write the PDF but do not mark the letters printed"
        )
        parser.add_argument(
            "--reprint", action="store_true", help="the letters already marked printed on --date, again"
        )

    def handle(self, *args, **options):

        try:
            day = datetime.date.fromisoformat(options["date"]) if options["date"] else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD, not {options['date']!r}") from exc
        prefecture = None
        if options["prefecture"]:
            prefecture = Prefecture.objects.filter(code=options["prefecture"].upper()).first()
            if prefecture is None:
                raise CommandError(f"no prefecture has the code {options['prefecture']!r}")
        if options["reprint"]:
            messages = letters.printed_letters(prefecture, day)
            pdf, count = letters.render_batch(messages), len(messages)
        else:
            run = letters.print_run(prefecture, day, mark=not options["dry_run"])
            pdf, count = run.pdf, run.count
        if not count:
            self.stdout.write(f"No letter to print for {day.isoformat()}.")
            return
        label = prefecture.code if prefecture else "all"
        output = Path(
            options["output"] or settings.BASE_DIR / "var" / "letters" / f"letters-{label}-{day}.pdf"
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(pdf)
        state = "not marked (dry run)" if options["dry_run"] or options["reprint"] else "marked printed"
        self.stdout.write(f"{count} letter(s) written to {output}, {state}.")
