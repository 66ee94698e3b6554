import os

from django.core.management.base import BaseCommand

from demo.loader import DEMO_PASSWORD_DEFAULT, load_demo


class Command(BaseCommand):
    help = "Load the demo data (the Maven CRM export, generated contacts and signals) and the demo logins. Idempotent."

    def handle(self, *args, **options):
        password = os.environ.get("DEMO_PASSWORD") or DEMO_PASSWORD_DEFAULT
        result = load_demo(password=password, out=self.stdout.write)
        logins = ", ".join(f"{u} ({role})" for u, role in result["users"])
        self.stdout.write(self.style.SUCCESS(f"Demo logins: {logins}; password: {result['password']}"))
