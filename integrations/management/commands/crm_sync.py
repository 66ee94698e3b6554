"""manage.py crm_sync hubspot|salesforce [--pull|--push] [--dry-run] [--connection ID]"""

from django.core.management.base import BaseCommand, CommandError

from core.models import Job
from integrations.crm.services import SyncRunning, sync_job_run, sync_start
from integrations.models import CrmConnection
from integrations.models.crm import VENDOR_CHOICES


class Command(BaseCommand):
    help = (
        "Sync the CRM connections of a vendor (or one, --connection): pull what changed, push scores, tiers, owners "
        "and handoff statuses back. --dry-run writes nothing and prints the push's changes. A connection's first "
        "push waits for its confirmation on the connection's page, unless --confirm-push is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("vendor", choices=[v for v, _ in VENDOR_CHOICES])
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--pull", action="store_true", help="only pull")
        which.add_argument("--push", action="store_true", help="only push")
        parser.add_argument("--dry-run", action="store_true", help="write nothing; print the changes a push would make")
        parser.add_argument("--connection", type=int, help="the connection's id (default: every enabled one)")
        parser.add_argument("--confirm-push", action="store_true", help="confirm a connection's first push")

    def handle(self, *args, vendor, pull, push, dry_run, connection, confirm_push, verbosity, **options):
        connections = CrmConnection.objects.filter(vendor=vendor)
        if connection is not None:
            connections = connections.filter(pk=connection)
            if not connections.exists():
                raise CommandError(f"No {vendor} connection with id {connection}.")
        else:
            connections = connections.filter(enabled=True)
        if not connections.exists():
            raise CommandError(f"No enabled {vendor} connection: add one on /integrations/crm/.")
        failed = 0
        for conn in connections:
            try:
                job = sync_start(
                    connection=conn, enqueue=False, pull=not push, push=not pull, confirm_push=confirm_push,
                    dry_run=dry_run,
                )  # fmt: skip
            except SyncRunning:
                self.stderr.write(f"{conn.name}: a sync is already running; skipped.")
                continue
            self.stdout.write(f"{conn.name}: job #{job.pk}")
            out = (lambda line: self.stdout.write(f"  {line}")) if (verbosity > 1 or dry_run) else None
            sync_job_run(job=job, out=out)
            job.refresh_from_db()
            for label, value in (job.result.get("summary") or {}).items():
                self.stdout.write(f"  {label}: {value:,}")
            for note in job.result.get("notes") or []:
                self.stdout.write(f"  {note}")
            for what, reason in (job.result.get("errors") or [])[:50]:
                self.stdout.write(f"  ! {what}: {reason}")
            if job.status == Job.Status.FAILED:
                failed += 1
                self.stderr.write(f"{conn.name}: {job.error}")
        if failed:
            raise CommandError(f"{failed} sync(s) failed.")
