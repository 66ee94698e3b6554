from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.urls import reverse

from core.models import Job
from core.roles import ADMIN, is_admin

from ...recalibration import AS_OF_CHOICES, DEFAULT_AS_OF, parse_target_mix
from ...tasks import recalibration_job_run_here

MISSING = "—"


def _auc(report: dict, key: str) -> str:
    value = report.get(key)
    if value is None:
        return MISSING
    low, high = report.get(f"{key}_low"), report.get(f"{key}_high")
    interval = f" (95% CI {low:.3f}-{high:.3f})" if low is not None and high is not None else ""
    return f"{value:.3f}{interval}"


class Command(BaseCommand):
    help = (
        "Fit the win model on the closed deals and propose a draft scoring model when they say something, as a "
        "recalibration job run in this process (the jobs page shows it). Prints the verdict, the held-out AUCs and "
        "the draft proposed, if any; nothing is published."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--target-mix",
            metavar="T1,T2,T3,RECYCLE",
            help="the tier mix the proposal's thresholds aim at, in per cent, e.g. 10,20,30,40 (default: today's mix)",
        )
        parser.add_argument(
            "--as-of-field",
            choices=list(AS_OF_CHOICES),
            default=DEFAULT_AS_OF,
            help="which date of each deal its features are read as of: "
            + "; ".join(f"{key}: {words}" for key, words in AS_OF_CHOICES.items()),
        )
        parser.add_argument("--user", metavar="USERNAME", help="the RevOps admin it runs as (default: the first one)")

    def handle(self, *args, **options):
        try:
            target_mix = parse_target_mix(options["target_mix"])
        except ValueError as exc:
            raise CommandError(f"--target-mix {options['target_mix']!r}: {exc}") from None
        user = self._user(options["user"])
        try:
            job = recalibration_job_run_here(user=user, target_mix=target_mix, as_of=options["as_of_field"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Job #{job.pk} ({job.title}), run as {user.username}: /jobs/{job.pk}/")
        if job.status != Job.Status.SUCCEEDED:
            raise CommandError(f"Job #{job.pk} did not finish: {job.error or job.get_status_display()}")
        report = job.result or {}
        self.stdout.write(f"Verdict: {report.get('verdict_label') or report.get('verdict') or MISSING}")
        if report.get("message"):
            self.stdout.write(f"  {report['message']}")
        self.stdout.write(f"Held-out AUC, logistic regression: {_auc(report, 'auc')}")
        self.stdout.write(f"Held-out AUC, proposed points model: {_auc(report, 'points_auc')}")
        proposal = report.get("proposal") or {}
        if proposal.get("model_id"):
            path = reverse("model-detail", args=[proposal["model_id"]])
            self.stdout.write(self.style.SUCCESS(f"Draft: v{proposal.get('version', MISSING)} at {path}"))
        else:
            self.stdout.write("Draft: none proposed.")

    def _user(self, username: str | None):
        users = get_user_model().objects.filter(is_active=True)
        if username:
            user = users.filter(username=username).first()
            if user is None:
                raise CommandError(f"No active user {username!r}.")
            if not is_admin(user):
                raise CommandError(f"{username} is not a RevOps admin: only admins recalibrate the scoring model.")
            return user
        user = users.filter(Q(is_superuser=True) | Q(groups__name=ADMIN)).order_by("-is_superuser", "pk").first()
        if user is None:
            raise CommandError("There is no active RevOps admin to run it as: create one, or name one with --user.")
        return user
