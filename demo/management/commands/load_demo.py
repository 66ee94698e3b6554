import os

from django.core.management.base import BaseCommand

from demo.loader import DEMO_PASSWORD_DEFAULT, load_demo


class Command(BaseCommand):
    help = (
        "Load the demo data (the Maven CRM export, generated contacts and signals), score it, compute spend potential "
        "and the KPI trends, and set the demo logins; done when it returns. Idempotent. Quiet but for the logins "
        "unless -v 2."
    )

    def execute(self, *args, **options):
        # `make demo` has just migrated, which ran the system checks: only a verbose load repeats them.
        if options.get("verbosity", 1) < 2:
            options["skip_checks"] = True
        return super().execute(*args, **options)

    def handle(self, *args, **options):
        verbose = options["verbosity"] >= 2
        password = os.environ.get("DEMO_PASSWORD") or DEMO_PASSWORD_DEFAULT
        result = load_demo(password=password, out=self.stdout.write if verbose else _silent, verbose=verbose)
        logins = ", ".join(f"{u} ({role})" for u, role in result["users"])
        self.stdout.write(self.style.SUCCESS(f"Demo logins: {logins}; password: {result['password']}"))


def _silent(_line: str) -> None:
    pass
