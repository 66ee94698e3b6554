import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from core.jobs import job_create, job_fail, job_progress, job_start, job_succeed
from core.models import Job

from ...generate import GenerateError, generate_data


class Command(BaseCommand):
    help = "Load synthetic accounts, contacts and signals in bulk (COPY on PostgreSQL); deterministic for a seed."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, required=True)
        parser.add_argument("--signals", type=int, default=0)
        parser.add_argument("--contacts", type=int, default=0)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--batch", type=int, default=50_000, help="rows per chunk (memory is bounded by it)")
        parser.add_argument(
            "--reference-date",
            type=dt.date.fromisoformat,
            help="signals are dated back from midnight UTC of this day (default: today)",
        )

    def handle(self, *args, **options):
        now = None
        if options["reference_date"]:
            now = dt.datetime.combine(options["reference_date"], dt.time.min, tzinfo=dt.UTC)
        total = options["accounts"] + options["contacts"] + options["signals"]
        params = {k: options[k] for k in ("accounts", "contacts", "signals", "seed", "batch")}
        params["reference_date"] = str(options["reference_date"] or "")
        job = job_create(kind=Job.Kind.GENERATE, title=f"seed {options['seed']}", total=total, params=params)
        job_start(job=job, total=total)
        offsets = {"accounts": 0, "contacts": options["accounts"], "signals": options["accounts"] + options["contacts"]}
        shown = {}

        def progress(table: str, done: int, of: int) -> None:
            job_progress(job=job, done=offsets[table] + done)
            percent = 100 * done // max(of, 1)
            if shown.get(table) != percent // 10:
                shown[table] = percent // 10
                self.stdout.write(f"  {table}: {done:,} / {of:,}")

        try:
            report = generate_data(
                accounts=options["accounts"],
                signals=options["signals"],
                contacts=options["contacts"],
                seed=options["seed"],
                now=now,
                batch=options["batch"],
                progress=progress,
            )
        except GenerateError as exc:
            job_fail(job=job, error=str(exc))
            raise CommandError(str(exc)) from None
        job_succeed(job=job, result=report.as_dict())
        for table, rows in report.rows.items():
            self.stdout.write(
                f"{table}: {rows:,} rows in {report.seconds[table]:.1f} s ({report.rate(table):,.0f} rows/s)"
            )
        seconds = sum(report.seconds.values())
        rows = sum(report.rows.values())
        self.stdout.write(
            self.style.SUCCESS(f"total: {rows:,} rows in {seconds:.1f} s ({rows / max(seconds, 1e-9):,.0f} rows/s)")
        )
