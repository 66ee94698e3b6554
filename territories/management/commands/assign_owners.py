from django.core.management.base import BaseCommand

from core.jobs import job_create, job_run
from core.models import Job

from ...services import Move, assignment_apply, assignment_plan_all


class Command(BaseCommand):
    help = (
        "Route every account to its territory and owner, a chunk of accounts at a time. --preview lists the first "
        "moves (--limit) and the owned counts per rep without making them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--preview", action="store_true")
        parser.add_argument("--limit", type=int, default=50, help="moves to list (preview)")

    def handle(self, *args, **options):
        if options["preview"]:
            limit, listed = max(0, options["limit"]), []

            def keep(moves: list[Move]) -> None:  # only the first `limit` moves are kept; the rest are counted
                listed.extend(moves[: limit - len(listed)])

            plan = assignment_plan_all(on_moves=keep)
            self.stdout.write(
                f"{plan.considered} accounts considered; {plan.move_count} would move; "
                f"{plan.unassigned} would stay unassigned."
            )
            for move in listed:
                self.stdout.write(
                    f"  {move.account_name}: owner {move.from_owner_id} -> {move.to_owner_id}, "
                    f"territory {move.from_territory_id} -> {move.to_territory_id} ({move.rule})"
                )
            if plan.move_count > len(listed):
                self.stdout.write(f"  ... and {plan.move_count - len(listed)} more moves")
            for row in plan.rep_counts():
                self.stdout.write(f"  {row['username']}: {row['before']} -> {row['after']}")
            return
        job = job_create(kind=Job.Kind.ASSIGN, title="owner assignment (command)")
        results = {}

        def work(job):
            plan, result = assignment_apply(user=None, job=job)
            results.update(
                moved=result.moved, skipped=result.skipped, considered=plan.considered, unassigned=plan.unassigned
            )
            return {"summary": results}

        job_run(job=job, work=work)
        job.refresh_from_db()
        if job.status == Job.Status.FAILED:
            self.stderr.write(job.error)
            raise SystemExit(1)
        self.stdout.write(
            f"{results['considered']} accounts considered; {results['moved']} moved; "
            f"{results['skipped']} skipped (changed meanwhile); {results['unassigned']} unassigned."
        )
