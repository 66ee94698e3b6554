from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.csvexport import safe_cell
from core.models import Job

from ...imports import ImportFileError, import_kinds, parse_mapping
from ...services import import_job_create, import_job_run


class Command(BaseCommand):
    help = (
        "Import a CSV file of accounts, contacts, signals, opportunities or users (upsert; re-running changes nothing)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=import_kinds())
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help="map a column to one or more fields (FIELD1,FIELD2); columns named like a field map themselves",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and count everything, write nothing")
        parser.add_argument("--errors", type=Path, help="write the rows that were not imported to this CSV file")

    def handle(self, *args, **options):
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            mapping = parse_mapping(options["map"])
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        job = import_job_create(
            kind=options["kind"], source=path, filename=path.name, mapping=mapping, dry_run=options["dry_run"]
        )
        import_job_run(job=job)
        job.refresh_from_db()
        if job.status == Job.Status.FAILED:
            raise CommandError(f"{path.name}: {job.error}")
        self.print_report(job, options["errors"])

    def print_report(self, job: Job, errors_path: Path | None) -> None:
        summary = job.result["summary"]
        errors = job.result["errors"]
        verb = "would be " if summary["dry_run"] else ""
        self.stdout.write(
            f"{summary['kind']}: {summary['rows']} rows; {summary['created']} {verb}created, "
            f"{summary['updated']} {verb}updated, {summary['unchanged']} unchanged, {summary['failed']} not imported."
        )
        for note in job.result["notes"]:
            self.stdout.write(f"  {note}")
        for line, reason in errors[:20]:
            self.stdout.write(self.style.WARNING(f"  line {line}: {reason}"))
        if len(errors) > 20:
            self.stdout.write(f"  ... and {len(errors) - 20} more (job #{job.pk} lists them all).")
        if errors_path and errors:
            import csv

            with errors_path.open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(["line", "reason"])
                writer.writerows([line, safe_cell(reason)] for line, reason in errors)
            self.stdout.write(f"  Rows not imported written to {errors_path}.")
