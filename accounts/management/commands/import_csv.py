import csv
import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.csvexport import safe_cell
from core.models import Job

from ...imports import ImportFileError, check_file, final_mapping, import_kinds, parse_mapping
from ...services import import_job_create, import_job_run, import_rejects_path

MAP_HINT = " Columns named like a field map themselves; map the others with --map COLUMN=FIELD."


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
        try:
            header, _ = check_file(path)
        except ImportFileError:
            header = None  # the job records why the file cannot be read, and the command says it below
        if header is not None:
            try:
                final_mapping(options["kind"], header, mapping)
            except ImportFileError as exc:
                raise CommandError(f"{path.name}: {exc}{MAP_HINT}") from None
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
        matches = job.result.get("matches") or []
        for line, words, *_ in matches[:20]:
            self.stdout.write(f"  line {line}: {words}")
        if len(matches) > 20:
            self.stdout.write(f"  ... and {len(matches) - 20} more matched to accounts we have (job #{job.pk}).")
        for line, reason in errors[:20]:
            self.stdout.write(self.style.WARNING(f"  line {line}: {reason}"))
        if len(errors) > 20:
            self.stdout.write(f"  ... and {len(errors) - 20} more (job #{job.pk} lists them all).")
        if errors_path and errors:
            # The rows as they were in the file, with their line and reason (what the upload page offers too).
            kept = import_rejects_path(job=job)
            if kept is not None:
                shutil.copyfile(kept, errors_path)
            else:
                with errors_path.open("w", newline="", encoding="utf-8") as out:
                    csv.writer(out).writerows([["line", "reason"], *([n, safe_cell(r)] for n, r in errors)])
            self.stdout.write(f"  Rows not imported written to {errors_path}.")
