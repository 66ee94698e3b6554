from django.core.management.base import BaseCommand

from ...services import sla_sweep


class Command(BaseCommand):
    help = "Mark overdue pending handoffs breached (each once) and run their SLA policy's breach action."

    def handle(self, *args, **options):
        result = sla_sweep()
        self.stdout.write(
            f"{result.breached} handoffs breached now: {len(result.reassigned)} reassigned, "
            f"{len(result.recycled)} recycled, managers notified of {len(result.notified)}."
        )
        for note in result.notes():
            self.stdout.write(note)
        if result.job_id is not None:
            self.stdout.write(f"Recorded as job {result.job_id}.")
