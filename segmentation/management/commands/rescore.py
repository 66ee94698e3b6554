from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.models import Job

from ...services import rescore_job_resume, rescore_job_run_here, rescore_job_start


class Command(BaseCommand):
    help = (
        "Rescore every account with the active scoring model, as a job: queued for the Celery workers, "
        "or run here with --sync. --resume JOB finishes a rescore that stopped (a killed worker, a failed slice)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sync", action="store_true", help="run every step in this process and wait for it")
        parser.add_argument("--resume", type=int, metavar="JOB", help="finish this stopped rescore job")

    def handle(self, *args, **options):
        try:
            if options["resume"]:
                job = Job.objects.filter(pk=options["resume"], kind=Job.Kind.RESCORE).first()
                if job is None:
                    raise CommandError(f"No rescore job #{options['resume']}.")
                if options["sync"]:
                    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, error="", finished_at=None)
                else:
                    steps = rescore_job_resume(job)
                    self.stdout.write(f"Job #{job.pk}: {steps} steps queued again.")
                    return
            else:
                # --sync runs every slice here: none is queued for the workers, who would score them at the same time.
                job = rescore_job_start(title="rescore command", enqueue=not options["sync"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if not options["sync"]:
            job.refresh_from_db()
            self.stdout.write(
                f"Job #{job.pk} ({job.title}): {job.get_status_display().lower()}; follow it on /jobs/{job.pk}/."
            )
            return
        self.stdout.write(f"Job #{job.pk}: {job.title}")
        job = rescore_job_run_here(job, out=self.stdout.write)
        if job.status != Job.Status.SUCCEEDED:
            raise CommandError(f"Job #{job.pk} did not finish: {job.error or job.get_status_display()}")
        for key, value in job.result.get("summary", {}).items():
            self.stdout.write(f"  {key}: {value}")
        self.stdout.write(self.style.SUCCESS(f"Rescored {job.total:,} accounts."))
